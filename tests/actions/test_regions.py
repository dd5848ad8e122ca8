"""Region configuration: the contract's municipalities, routing per access model, and that a
resident's free-text answer ("ik woon in Mierlo", "5708 AB") finds the right municipality."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.regions import (
    SERVICES,
    RegionConfig,
    RegionConfigError,
    clear_cache,
    default_regions_dir,
    load_regions,
)

# shared/contract/regions.md
EXPECTED = {
    "peelland": {
        "Asten": "GM0743",
        "Deurne": "GM0762",
        "Gemert-Bakel": "GM1652",
        "Helmond": "GM0794",
        "Laarbeek": "GM1659",
        "Someren": "GM0847",
        "Geldrop-Mierlo": "GM1771",
    },
    "ijmond": {
        "Velsen": "GM0453",
        "Beverwijk": "GM0375",
        "Heemskerk": "GM0396",
        "Uitgeest": "GM0450",
    },
    "regio_alkmaar": {
        "Alkmaar": "GM0361",
        "Dijk en Waard": "GM1980",
        "Bergen (NH)": "GM0373",
        "Heiloo": "GM0399",
        "Castricum": "GM0383",
    },
    "woerden": {
        "Bodegraven-Reeuwijk": "GM1901",
        "Montfoort": "GM0335",
        "Oudewater": "GM0589",
        "Woerden": "GM0632",
    },
}
PEEL_SIX = ["GM0743", "GM0762", "GM1652", "GM0794", "GM1659", "GM0847"]
WORK_AND_INCOME = ["bijstand_intake", "bijzondere_bijstand", "werk"]


@pytest.fixture(scope="module")
def cfg() -> RegionConfig:
    return load_regions()


def test_every_contract_municipality_with_cbs_code_and_region(cfg: RegionConfig) -> None:
    expected = {
        code: (name, region) for region, ms in EXPECTED.items() for name, code in ms.items()
    }
    assert {m.code for m in cfg.municipalities} == set(expected)
    for m in cfg.municipalities:
        assert (m.name, m.region_id) == expected[m.code]
        assert cfg.municipality(m.code) is m
    for region_id, ms in EXPECTED.items():
        assert sorted(cfg.region(region_id).municipalities) == sorted(ms.values())
    with pytest.raises(KeyError):
        cfg.municipality("GM9999")


def test_every_service_configured_and_routable(cfg: RegionConfig) -> None:
    for m in cfg.municipalities:
        assert set(m.services) == set(SERVICES)
        assert m.places and m.postcode_ranges
        for service in SERVICES:
            dest = cfg.destination_for(m.code, service)
            assert dest.level == m.services[service]
            team = cfg.organisation(dest.organisation).team(dest.team)
            assert team.name == dest.team_name
        cfg.team(m.local_team)


def test_access_model(cfg: RegionConfig) -> None:
    """Work & income regional (Senzer for the six, bought in by Geldrop-Mierlo); WMO/jeugd
    local; Geldrop-Mierlo's team shared with its neighbours; Ferm Werk for all four municipalities
    of Woerden e.o. (the 2011 source: IASZ, and Bodegraven-Reeuwijk on its own)."""
    for code in [*PEEL_SIX, "GM1771"]:
        for service in WORK_AND_INCOME:
            assert cfg.destination_for(code, service).organisation == "peel61"
        assert cfg.destination_for(code, "wmo").level == "local"
        assert cfg.destination_for(code, "jeugd").level == "local"
    gm = cfg.destination_for("GM1771", "wmo").organisation
    assert gm not in {cfg.destination_for(c, "wmo").organisation for c in PEEL_SIX}
    assert "Nuenen" in cfg.organisation(gm).serves
    for code in EXPECTED["ijmond"].values():
        assert cfg.destination_for(code, "bijstand_intake").organisation == "werkplein-ijmond"
    assert cfg.team(cfg.region("ijmond").youth_desk).name.lower().count("jongerenloket") == 1
    for code in ["GM1901", "GM0335", "GM0589", "GM0632"]:
        assert cfg.destination_for(code, "bijstand_intake").organisation == "ferm-werk"
    alkmaar_local = [
        (m.code, s)
        for m in cfg.municipalities
        if m.region_id == "regio_alkmaar"
        for s in ("schuldhulp", "minimaregelingen", "bijzondere_bijstand")
        if m.services[s] == "local"
    ]
    assert alkmaar_local, "at least one voorportaal handles a service locally (example)"
    assert cfg.destination_for("GM0361", "schuldhulp").team == "voorportaal"
    for region in cfg.regions.values():
        assert cfg.organisation(region.regional_organisation).level == "regional"
        assert cfg.team(region.employer_service)
    assert cfg.team(cfg.region("peelland").employer_service).name == "Werkgeversplein Peelland"


def test_unverified_data_is_marked() -> None:
    for path in sorted(default_regions_dir().glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert raw["postcode_ranges_verified"] is False, path.name
        for m in raw["municipalities"]:
            assert m["contact"]["example"] is True  # phone numbers not verified


@pytest.mark.parametrize("code", [c for ms in EXPECTED.values() for c in ms.values()])
def test_find_by_name_place_alias_any_case(cfg: RegionConfig, code: str) -> None:
    m = cfg.municipality(code)
    for name in [m.name, *m.places, *m.aliases]:
        for variant in (name, name.lower(), name.upper(), f"ik woon in {name}"):
            found = cfg.find_municipality(variant)
            assert found is not None and found.code == code, variant


@pytest.mark.parametrize(
    "text, name",
    [
        ("Helmond-Noord", "Helmond"),
        ("ik woon in Helmond-West", "Helmond"),
        ("Mierlo-Hout", "Helmond"),
        ("5708 AB", "Helmond"),
        ("5708ab", "Helmond"),
        ("mijn postcode is 5708 AB", "Helmond"),
        ("5708", "Helmond"),
        ("ik woon in Mierlo", "Geldrop-Mierlo"),
        ("Graft", "Alkmaar"),
        ("De Rijp", "Alkmaar"),
        ("Schermer", "Alkmaar"),
        ("Graft-De Rijp", "Alkmaar"),
        ("heerhugowaard", "Dijk en Waard"),
        ("Langedijk", "Dijk en Waard"),
        ("St. Pancras", "Dijk en Waard"),
        ("Bergen", "Bergen (NH)"),
        ("bergen nh", "Bergen (NH)"),
        ("Egmond", "Bergen (NH)"),
        ("ymuiden", "Velsen"),
        ("Velsen-Noord", "Velsen"),
        ("Reeuwijk-Brug", "Bodegraven-Reeuwijk"),
        ("Gémert", "Gemert-Bakel"),
        ("Beek en Donk", "Laarbeek"),
        ("1971 AB", "Velsen"),
        ("3441 AA", "Woerden"),
        # light typos
        ("Helmnod", "Helmond"),
        ("Geldorp", "Geldrop-Mierlo"),
        ("ik woon in Woerdn", "Woerden"),
        ("Heerhugowaad", "Dijk en Waard"),
        ("castricm", "Castricum"),
        ("ik woon in velserbroeck", "Velsen"),
    ],
)
def test_find_municipality_free_text(cfg: RegionConfig, text: str, name: str) -> None:
    found = cfg.find_municipality(text)
    assert found is not None and found.name == name, text


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "Amsterdam",
        "met vriendelijke groet",
        "ik kan niet worden geholpen",
        "mijn vaste lasten zijn hoog",
        "in 2026",
        "1234 AB",
        "hallo",
    ],
)
def test_find_municipality_none(cfg: RegionConfig, text: Any) -> None:
    assert cfg.find_municipality(text) is None


def test_postcode_ranges_do_not_overlap(cfg: RegionConfig) -> None:
    seen: dict[str, str] = {}
    for m in cfg.municipalities:
        for low, high in m.postcode_ranges:
            for number in range(low, high + 1):
                assert seen.setdefault(str(number), m.code) == m.code, number


# --- broken configurations: the error names file and field ---------------------------------


def _peelland() -> dict[str, Any]:
    path = default_regions_dir() / "peelland.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _services(raw: dict[str, Any]) -> dict[str, str]:
    raw["municipalities"][0]["services"] = dict(raw["municipalities"][0]["services"])
    return raw["municipalities"][0]["services"]  # type: ignore[no-any-return]


def _unknown_service(raw: dict[str, Any]) -> None:
    _services(raw)["huisvesting"] = "local"


def _missing_service(raw: dict[str, Any]) -> None:
    del _services(raw)["jeugd"]


def _bad_level(raw: dict[str, Any]) -> None:
    _services(raw)["wmo"] = "provincial"


def _bad_code(raw: dict[str, Any]) -> None:
    raw["municipalities"][1]["code"] = "0762"


def _duplicate_place(raw: dict[str, Any]) -> None:
    raw["municipalities"][3]["places"] = [*raw["municipalities"][3]["places"], "Mierlo"]


def _unknown_team(raw: dict[str, Any]) -> None:
    raw["municipalities"][0]["local_team"] = {"organisation": "gemeente-asten", "team": "x"}


def _unknown_organisation(raw: dict[str, Any]) -> None:
    raw["region"]["regional_organisation"] = "peel62"


def _unknown_field(raw: dict[str, Any]) -> None:
    raw["municipalities"][0]["plaatsen"] = ["Asten"]


@pytest.mark.parametrize(
    "mutate, field",
    [
        (_unknown_service, "municipalities[0].services"),
        (_missing_service, "municipalities[0].services"),
        (_bad_level, "municipalities[0].services"),
        (_bad_code, "municipalities[1].code"),
        (_duplicate_place, "municipalities[6].places"),  # Mierlo: claimed twice
        (_unknown_team, "municipalities[0].local_team.team"),
        (_unknown_organisation, "region.regional_organisation"),
        (_unknown_field, "municipalities[0].plaatsen"),
    ],
)
def test_broken_config_names_file_and_field(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], field: str
) -> None:
    raw = _peelland()
    mutate(raw)
    (tmp_path / "peelland.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    clear_cache()
    with pytest.raises(RegionConfigError) as err:
        load_regions(tmp_path)
    assert err.value.file == "peelland.yml"
    assert err.value.field.startswith(field), err.value.field
    assert "peelland.yml" in str(err.value) and field in str(err.value)


def test_region_id_must_match_file_name(tmp_path: Path) -> None:
    (tmp_path / "peel.yml").write_text(yaml.safe_dump(_peelland()), "utf-8")
    with pytest.raises(RegionConfigError, match=r"peel\.yml: region\.id"):
        load_regions(tmp_path)


def test_load_is_cached() -> None:
    assert load_regions() is load_regions()


# --- today's organisations, provenance and what a resident is told (verified data only) -------

REGIONAL_WORK_AND_INCOME = {
    "peelland": "peel61",
    "ijmond": "werkplein-ijmond",
    "regio_alkmaar": "sociale-dienst-regio-alkmaar",
    "woerden": "ferm-werk",
}


def test_regional_organisations_have_sources_and_a_check_date(cfg: RegionConfig) -> None:
    for region_id, org_id in REGIONAL_WORK_AND_INCOME.items():
        assert cfg.region(region_id).regional_organisation == org_id
        org = cfg.organisation(org_id)
        assert org.sources and org.checked is not None, org_id
        assert all(s.url.startswith(("http://", "https://")) for s in org.sources)
    sheltered = {cfg.region(r).sheltered_work for r in cfg.regions}
    assert sheltered == {"senzer", "ijmond-werkt", "sociale-dienst-regio-alkmaar", "ferm-werk"}
    for org_id in sheltered:
        assert cfg.organisation(org_id).sources, org_id


def test_outdated_names_are_replaced_or_flagged(cfg: RegionConfig) -> None:
    """Ferm Werk (not IASZ), Zaffier and Senzer (not Peel 6.1 or Atlant Groep) are today's
    names; Werkplein IJmond is flagged with its successor (bijstand is decided by the IJmond
    municipalities themselves today, so it is not a plain rename)."""
    assert "iasz" not in cfg.organisations and "bodegraven-reeuwijk-wi" not in cfg.organisations
    ferm = cfg.organisation("ferm-werk")
    assert ferm.name == "Ferm Werk" and "IASZ" in (ferm.name_in_sources or "")
    assert set(ferm.serves) == {"Bodegraven-Reeuwijk", "Montfoort", "Oudewater", "Woerden"}
    assert cfg.organisation("sociale-dienst-regio-alkmaar").name == "Zaffier"
    assert cfg.organisation("senzer").name_in_sources == "Atlant Groep"
    assert cfg.organisation("ijmond-werkt").name_in_sources == "De Meergroep"
    peel = cfg.organisation("peel61")
    assert (peel.name, peel.name_in_sources) == ("Senzer", "Peel 6.1")
    outdated = {org.id: org.successor.name for org in cfg.outdated_organisations() if org.successor}
    assert outdated == {"werkplein-ijmond": "IJmond Werkt!"}
    for org_id in outdated:
        assert cfg.organisation(org_id).successor.sources  # type: ignore[union-attr]


def _verified(contact: Any, field: str) -> bool:
    return bool(contact) and field in contact.verified_fields and bool(contact.sources)


def test_an_unverified_number_is_never_returned(cfg: RegionConfig) -> None:
    helmond = cfg.municipality_contact("GM0794")
    assert cfg.municipality("GM0794").contact.phone == "14 0492"  # example data in the file
    assert helmond.phone is None and helmond.website == "https://www.helmond.nl"
    for m in cfg.municipalities:
        details = cfg.municipality_contact(m.code)
        for field in ("phone", "website", "address", "hours", "walk_in"):
            value = getattr(details, field)
            assert value is None or _verified(m.contact, field), (m.code, field)
            assert value != "0000 000000"
        work = cfg.work_income_contact(m.code)
        if work is not None:
            assert work.phone != "0000 000000"
    # Velsen's number is stated on velsen.nl; Alkmaar's 14 072 in the press.
    assert cfg.municipality_contact("GM0453").phone == "0255 567200"
    assert cfg.municipality_contact("GM0361").phone == "14 072"


def test_work_and_income_contact_follows_the_routing(cfg: RegionConfig) -> None:
    for code in ("GM1901", "GM0335", "GM0589", "GM0632"):
        ferm = cfg.work_income_contact(code)
        assert ferm is not None and ferm.name == "Ferm Werk"
        assert (ferm.phone, ferm.website) == ("0348 497 000", "https://www.fermwerk.nl")
        assert ferm.address == "Carrosserieweg 1, 3445 BC Woerden"
        assert ferm.hours is None  # example telephone hours are not returned
    zaffier = cfg.work_income_contact("GM1980")
    assert zaffier is not None and zaffier.phone is None and zaffier.website
    assert cfg.work_income_contact("GM0453") is None  # nothing about it verified


def test_service_levels_configured_or_default(cfg: RegionConfig) -> None:
    assert cfg.response_working_days("ferm-werk", "werk-inkomen") == 3
    assert cfg.response_working_days("ferm-werk", "werk-inkomen", urgent=True) == 1
    assert cfg.response_working_days("gemeente-woerden", "sociaal-team") == 5
    assert cfg.response_working_days("gemeente-woerden", "kcc") == 5  # default, local
    assert cfg.response_working_days("werkplein-ijmond", "werkgeversservicepunt") == 3
    assert cfg.response_working_days("gemeente-woerden", "kcc", urgent=True) == 1
    for m in cfg.municipalities:  # every receiving team has a service level
        for service in SERVICES:
            dest = cfg.destination_for(m.code, service)
            days = cfg.response_working_days(dest.organisation, dest.team)
            assert days == (3 if dest.level == "regional" else 5), (m.code, service)
    with pytest.raises(KeyError):
        cfg.response_working_days("ferm-werk", "nope")


def test_team_hours_only_when_verified(cfg: RegionConfig) -> None:
    deurne = cfg.organisation("gemeente-deurne").team("sociaal-team")
    assert deurne.name == "Zorg in Deurne" and deurne.contact is not None
    assert deurne.contact.hours and deurne.contact.is_example("hours")
    assert cfg.team_hours("gemeente-deurne", "sociaal-team") is None
    for org in cfg.organisations.values():
        for team in org.teams:
            assert cfg.team_hours(org.id, team.id) is None  # no telephone hours verified yet


def test_night_shelter_route_is_verified_only(cfg: RegionConfig) -> None:
    helmond = cfg.night_shelter("GM0794")
    assert helmond is not None and helmond.phone == "0492 52 50 98"
    assert helmond.centrumgemeente is None  # not stated on a page found
    assert cfg.night_shelter("GM0762") == helmond  # the region's route
    assert cfg.night_shelter("GM1771") is None  # its own (Eindhoven?) route is not verified
    alkmaar = cfg.night_shelter("GM0399")
    assert alkmaar is not None and alkmaar.centrumgemeente == "Alkmaar" and alkmaar.address
    bodegraven = cfg.night_shelter("GM1901")
    assert bodegraven is not None and bodegraven.centrumgemeente == "Gouda"
    assert cfg.night_shelter("GM0632") is None  # Utrecht: no verified access point
    assert cfg.night_shelter("GM0453") is None  # Haarlem: no verified access point
    for m in cfg.municipalities:
        shelter = m.night_shelter or cfg.region(m.region_id).night_shelter
        route = cfg.night_shelter(m.code)
        if route is None:
            continue
        assert shelter is not None
        for field in ("centrumgemeente", "name", "phone", "website", "address", "hours"):
            value = getattr(route, field)
            assert value is None or field in shelter.verified_fields, (m.code, field)


@pytest.mark.parametrize(
    "text, name",
    [
        ("Amsterdam", "Amsterdam"),
        ("ik woon in Utrecht", "Utrecht"),
        ("ik woon in amsterdam-noord", "Amsterdam"),
        ("Zaandam", "Zaanstad"),
        ("Den Haag", "'s-Gravenhage"),
        ("ik kom uit Den Bosch", "'s-Hertogenbosch"),
        ("eindhoven", "Eindhoven"),
        ("Súdwest-Fryslân", "Súdwest-Fryslân"),
        ("in Best", "Best"),
        ("Nuenen", "Nuenen, Gerwen en Nederwetten"),
    ],
)
def test_outside_place(cfg: RegionConfig, text: str, name: str) -> None:
    assert cfg.outside_place(text) == name
    assert cfg.find_municipality(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Helmond",
        "ik woon in Mierlo",
        "Schermer",
        "Bergen",
        "5708 AB",
        "",
        None,
        "ik doe mijn best vandaag",
        "hallo",
        "mijn buren maken lawaai",
    ],
)
def test_outside_place_none(cfg: RegionConfig, text: Any) -> None:
    assert cfg.outside_place(text) is None


def test_schermer_is_still_alkmaar_and_the_outside_list_is_complete(cfg: RegionConfig) -> None:
    found = cfg.find_municipality("Schermer")
    assert found is not None and found.name == "Alkmaar"
    raw = yaml.safe_load(
        (default_regions_dir() / "outside" / "municipalities.yml").read_text(encoding="utf-8")
    )
    assert len(raw["municipalities"]) == 342
    assert {"Amsterdam", "Helmond", "Bergen (L.)", "Bergen (NH.)", "Dijk en Waard"} <= set(
        raw["municipalities"]
    )
    assert "Heerhugowaard" not in raw["municipalities"] and "Weesp" not in raw["municipalities"]
    assert raw["sources"] and raw["checked"] and raw["reference_date"]


def test_verified_contact_needs_a_source(tmp_path: Path) -> None:
    raw = _peelland()
    raw["municipalities"][0]["contact"] = {
        "phone": "0493 000000",
        "website": "https://www.asten.nl",
        "verified_fields": ["phone"],
    }
    (tmp_path / "peelland.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    clear_cache()
    with pytest.raises(RegionConfigError) as err:
        load_regions(tmp_path)
    assert err.value.field.startswith("municipalities[0].contact")
    assert "source" in str(err.value)


def test_broken_outside_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "peelland.yml").write_text(yaml.safe_dump(_peelland()), "utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "municipalities.yml").write_text(
        "reference_date: 2025-01-01\nlist_verified: false\nmunicipalities: [Amsterdam]\n", "utf-8"
    )
    clear_cache()
    with pytest.raises(RegionConfigError) as err:
        load_regions(tmp_path)
    assert err.value.file == "municipalities.yml" and err.value.field == "municipalities"


# --- aanvraag: where pre-filled applications go (read by the handover API's export) ----------


def test_aanvraag_is_example_configuration_for_two_municipalities_only(cfg: RegionConfig) -> None:
    configured = {m.code: m.aanvraag for m in cfg.municipalities if m.aanvraag is not None}
    assert set(configured) == {"GM0794", "GM0361"}
    for config in configured.values():
        assert config.example  # no municipal form or Objects API was verified
        assert ".example.nl/" in config.objects_api.objecttype
        assert config.digid_link is None or ".example.nl/" in config.digid_link


def _aanvraag(raw: dict[str, Any], **changes: Any) -> None:
    helmond = raw["municipalities"][3]
    assert helmond["code"] == "GM0794"
    helmond["aanvraag"] = {**helmond["aanvraag"], **changes}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"objects_api": {"objecttype": "http://x.example.nl/ot/1", "type_version": 1}}, "https"),
        ({"objects_api": {"objecttype": "https://x.example.nl/ot/1", "type_version": 0}}, "1"),
        ({"digid_link": "https://formulieren.example.nl/{product}"}, "{uuid}"),
        ({"digid_link": "https://formulieren.example.nl/{gemeente}?r={uuid}"}, "gemeente"),
        ({"digid_link": "https://formulieren.example.nl/?r={uuid"}, "template"),
        ({"example": False}, "needs a source"),
        ({"url": "https://formulieren.example.nl"}, "extra fields not permitted"),
    ],
)
def test_a_broken_aanvraag_block_names_file_and_field(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    raw = _peelland()
    _aanvraag(raw, **changes)
    (tmp_path / "peelland.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    clear_cache()
    with pytest.raises(RegionConfigError) as err:
        load_regions(tmp_path)
    assert err.value.field.startswith("municipalities[3].aanvraag"), err.value.field
    assert message in str(err.value)


def test_a_verified_aanvraag_block_needs_and_keeps_a_source(tmp_path: Path) -> None:
    raw = _peelland()
    _aanvraag(
        raw, example=False, source={"title": "Gemeente Helmond", "url": "https://www.helmond.nl"}
    )
    (tmp_path / "peelland.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    clear_cache()
    config = load_regions(tmp_path).municipality("GM0794").aanvraag
    assert config is not None and config.example is False
    assert [s.url for s in config.sources] == ["https://www.helmond.nl"]

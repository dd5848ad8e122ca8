"""The region configuration as the API reads it, against the real ``data/regions`` files and
against broken copies of them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from handover_api.services import directory as directory_module
from handover_api.services.directory import (
    Directory,
    DirectoryError,
    ReturnTarget,
    TeamRef,
    clear_cache,
    load_directory,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = REPO_ROOT / "data"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def directory() -> Directory:
    return load_directory(DATA_DIR)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of ``data/regions`` (only the region files)."""
    shutil.copytree(DATA_DIR / "regions", tmp_path / "regions")
    return tmp_path


def _edit(data_dir: Path, name: str, old: str, new: str) -> None:
    path = data_dir / "regions" / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}: the test data changed"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- loading ----------------------------------------------------------------------------------


def test_all_four_regions_and_their_municipalities_are_loaded(directory: Directory) -> None:
    assert set(directory.regions) == {"peelland", "ijmond", "regio_alkmaar", "woerden"}
    assert len(directory.municipalities) == 20
    helmond = directory.municipality("GM0794")
    assert helmond is not None
    assert (helmond.code, helmond.name, helmond.region) == ("GM0794", "Helmond", "peelland")
    assert helmond.regional == (TeamRef("peel61", "werk-inkomen"),)
    assert helmond.local == (
        TeamRef("gemeente-helmond", "wijkteam"),
        TeamRef("gemeente-helmond", "kcc"),
    )
    assert directory.municipality("GM9999") is None


def test_organisations_with_level_and_teams(directory: Directory) -> None:
    peel = directory.organisation("peel61")
    assert peel is not None
    assert (peel.id, peel.name, peel.level) == ("peel61", "Senzer", "regional")
    assert list(peel.teams) == ["werk-inkomen"]
    assert peel.teams["werk-inkomen"].name == "Senzer"
    ijmond = directory.organisation("werkplein-ijmond")
    assert ijmond is not None
    assert set(ijmond.teams) == {"werkplein", "jongerenloket", "werkgeversservicepunt"}
    assert directory.organisation("helmond-wijkteam") is None


def test_geldrop_mierlo_uses_the_shared_social_team(directory: Directory) -> None:
    gm = directory.municipality("GM1771")
    assert gm is not None
    assert gm.local[0] == TeamRef("sociaal-team-gmnsw", "geldrop-mierlo")
    assert gm.regional == (TeamRef("peel61", "werk-inkomen"),)  # bought from the region
    shared = directory.organisation("sociaal-team-gmnsw")
    assert shared is not None and shared.level == "local"


def test_ferm_werk_serves_all_four_municipalities_of_woerden(directory: Directory) -> None:
    """Today's organisation (the 2011 source: IASZ, and Bodegraven-Reeuwijk on its own)."""
    for code in ("GM1901", "GM0335", "GM0589", "GM0632"):
        municipality = directory.municipality(code)
        assert municipality is not None
        assert municipality.regional == (TeamRef("ferm-werk", "werk-inkomen"),)
    ferm = directory.organisation("ferm-werk")
    assert ferm is not None and ferm.name == "Ferm Werk"
    assert ferm.name_in_sources is not None and "IASZ" in ferm.name_in_sources
    assert directory.organisation("iasz") is None
    assert directory.organisation("bodegraven-reeuwijk-wi") is None


def test_provenance_and_successors_are_read(directory: Directory) -> None:
    ferm = directory.organisation("ferm-werk")
    assert ferm is not None and ferm.checked is not None
    assert any(src.url.startswith("https://www.fermwerk.nl/") for src in ferm.sources)
    for org_id in ("ferm-werk", "sociale-dienst-regio-alkmaar", "peel61", "werkplein-ijmond"):
        org = directory.organisation(org_id)
        assert org is not None and org.sources, org_id  # every regional organisation is sourced
    peel = directory.organisation("peel61")
    assert peel is not None and peel.name == "Senzer" and peel.successor_name is None
    assert peel.name_in_sources == "Peel 6.1"
    ijmond = directory.organisation("werkplein-ijmond")
    assert ijmond is not None and ijmond.successor_name == "IJmond Werkt!"  # flagged, not renamed
    alkmaar = directory.organisation("sociale-dienst-regio-alkmaar")
    assert alkmaar is not None and alkmaar.name == "Zaffier" and alkmaar.successor_name is None


def test_response_working_days_configured_or_default(directory: Directory) -> None:
    assert directory.response_working_days("ferm-werk", "werk-inkomen") == 3
    assert directory.response_working_days("gemeente-helmond", "wijkteam") == 5
    assert directory.response_working_days("gemeente-helmond", "wijkteam", urgent=True) == 1
    # no service level configured: the default of the level
    assert directory.response_working_days("gemeente-helmond", "kcc") == 5
    assert directory.response_working_days("werkplein-ijmond", "werkgeversservicepunt") == 3
    assert directory.response_working_days("gemeente-helmond", "kcc", urgent=True) == 1
    assert directory.response_working_days("nope", "kcc") is None
    assert directory.response_working_days("gemeente-helmond", "nope") is None


def test_service_level_out_of_range_names_the_field(data_copy: Path) -> None:
    _edit(data_copy, "woerden.yml", "response_working_days: 3\n", "response_working_days: 0\n")
    with pytest.raises(DirectoryError) as err:
        load_directory(data_copy)
    assert err.value.file == "woerden.yml"
    assert err.value.field == "organisations[0].teams[0].response_working_days"


def test_the_outside_list_is_not_a_region_file(data_copy: Path) -> None:
    assert (data_copy / "regions" / "outside" / "municipalities.yml").is_file()
    assert set(load_directory(data_copy).regions) == {
        "peelland",
        "ijmond",
        "regio_alkmaar",
        "woerden",
    }


def test_loading_is_cached_per_resolved_path(data_copy: Path) -> None:
    first = load_directory(data_copy)
    assert load_directory(data_copy / "regions" / "..") is first
    assert load_directory(DATA_DIR) is not first
    clear_cache()
    assert load_directory(data_copy) is not first


# --- where pre-filled applications go (aanvraag:) ---------------------------------------------

HELMOND_OBJECTTYPE = "https://objecttypen.helmond.example.nl/api/v2/objecttypes/"
HELMOND_LINK = (
    'digid_link: "https://formulieren.helmond.example.nl/{product}?initial_data_reference={uuid}"'
)


def test_helmond_and_alkmaar_have_example_aanvraag_configuration(directory: Directory) -> None:
    configured = {
        code: m.aanvraag for code, m in directory.municipalities.items() if m.aanvraag is not None
    }
    assert set(configured) == {"GM0794", "GM0361"}  # every other municipality: the envelope
    assert all(config.example for config in configured.values())  # nothing verified
    helmond = configured["GM0794"]
    assert helmond.objecttype.startswith(HELMOND_OBJECTTYPE) and helmond.type_version == 1
    assert helmond.digid_url(product="melding-wmo", object_uuid="u-1") == (
        "https://formulieren.helmond.example.nl/melding-wmo?initial_data_reference=u-1"
    )
    assert configured["GM0361"].digid_link is None
    assert configured["GM0361"].digid_url(product="x", object_uuid="u") is None


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            HELMOND_OBJECTTYPE,
            "http://objecttypen.helmond.example.nl/api/v2/objecttypes/",
            "municipalities[3].aanvraag.objects_api.objecttype",
            "must be an https URL",
        ),
        (
            "        type_version: 1\n",
            "        type_version: 0\n",
            "municipalities[3].aanvraag.objects_api.type_version",
            "greater than or equal to 1",
        ),
        (
            HELMOND_LINK,
            'digid_link: "https://formulieren.helmond.example.nl/{product}"',
            "municipalities[3].aanvraag.digid_link",
            "must contain {uuid}",
        ),
        (
            HELMOND_LINK,
            'digid_link: "https://formulieren.example.nl/{gemeente}?ref={uuid}"',
            "municipalities[3].aanvraag.digid_link",
            "unknown placeholder(s) gemeente",
        ),
        (
            HELMOND_LINK,
            'digid_link: "https://formulieren.example.nl/?ref={uuid"',
            "municipalities[3].aanvraag.digid_link",
            "not a valid template",
        ),
        (
            "      example: true\n\n  - code: GM1659",
            "      example: false\n\n  - code: GM1659",
            "municipalities[3].aanvraag",
            "example: false needs a source",
        ),
    ],
)
def test_a_broken_aanvraag_block_names_the_field(
    data_copy: Path, old: str, new: str, field: str, message: str
) -> None:
    _edit(data_copy, "peelland.yml", old, new)
    with pytest.raises(DirectoryError) as err:
        load_directory(data_copy)
    assert (err.value.file, err.value.field) == ("peelland.yml", field)
    assert message in err.value.message


def test_a_verified_aanvraag_block_keeps_its_sources(data_copy: Path) -> None:
    _edit(
        data_copy,
        "peelland.yml",
        "      example: true\n\n  - code: GM1659",
        "      example: false\n      source: {title: Helmond, url: 'https://www.helmond.nl'}\n"
        "      checked: 2026-12-02\n\n  - code: GM1659",
    )
    config = load_directory(data_copy).municipalities["GM0794"].aanvraag
    assert config is not None and config.example is False
    assert [s.url for s in config.sources] == ["https://www.helmond.nl"]


# --- malformed configuration ------------------------------------------------------------------


def test_invalid_yaml_names_the_file(data_copy: Path) -> None:
    (data_copy / "regions" / "woerden.yml").write_text("region: [unclosed\n", encoding="utf-8")
    with pytest.raises(DirectoryError) as err:
        load_directory(data_copy)
    assert err.value.file == "woerden.yml"
    assert "invalid YAML" in str(err.value)


def test_wrong_level_names_file_and_field(data_copy: Path) -> None:
    _edit(data_copy, "peelland.yml", "    level: regional\n", "    level: regionaal\n")
    with pytest.raises(DirectoryError) as err:
        load_directory(data_copy)
    assert (err.value.file, err.value.field) == ("peelland.yml", "organisations[0].level")
    assert "regional" in err.value.message


def test_missing_team_name_names_the_field(data_copy: Path) -> None:
    _edit(
        data_copy,
        "ijmond.yml",
        "      - id: jongerenloket\n        name: het Jongerenloket van Werkplein IJmond\n",
        "      - id: jongerenloket\n",
    )
    with pytest.raises(DirectoryError) as err:
        load_directory(data_copy)
    assert (err.value.file, err.value.field) == ("ijmond.yml", "organisations[0].teams[1].name")


def test_reference_to_unknown_team_names_the_field(data_copy: Path) -> None:
    _edit(
        data_copy,
        "peelland.yml",
        "local_team: {organisation: gemeente-helmond, team: wijkteam}",
        "local_team: {organisation: gemeente-helmond, team: wijkteem}",
    )
    with pytest.raises(DirectoryError) as err:
        load_directory(data_copy)
    assert err.value.file == "peelland.yml"
    assert err.value.field == "municipalities[3].local_team.team"
    assert "wijkteem" in err.value.message


def test_unknown_regional_organisation_and_duplicate_ids(data_copy: Path, tmp_path: Path) -> None:
    _edit(
        data_copy,
        "woerden.yml",
        "regional_organisation: ferm-werk",
        "regional_organisation: fern-werk",
    )
    with pytest.raises(DirectoryError, match=r"woerden\.yml: region\.regional_organisation"):
        load_directory(data_copy)

    other = tmp_path / "other"
    shutil.copytree(DATA_DIR / "regions", other / "regions")
    shutil.copy(other / "regions" / "ijmond.yml", other / "regions" / "ijmond2.yml")
    with pytest.raises(DirectoryError, match=r"ijmond2\.yml: organisations\[0\]\.id: duplicate"):
        load_directory(other)


def test_a_directory_without_region_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="no region files"):
        load_directory(tmp_path)


def test_directory_error_is_not_a_value_error() -> None:
    # pydantic would turn a ValueError raised during request validation into a 422 that
    # blames the client for a broken server configuration.
    assert not issubclass(DirectoryError, ValueError)


# --- destinations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level", "organisation", "team"),
    [
        ("GM0794", "regional", "peel61", "werk-inkomen"),
        ("GM0794", "local", "gemeente-helmond", "wijkteam"),
        ("GM0794", "local", "gemeente-helmond", "kcc"),
        ("GM0794", "regional", "werkgeversplein-peelland", "werkgeversplein"),
        ("GM1771", "local", "sociaal-team-gmnsw", "geldrop-mierlo"),
        ("GM1771", "regional", "peel61", "werk-inkomen"),
        ("GM0453", "regional", "werkplein-ijmond", "jongerenloket"),
        ("GM0361", "local", "gemeente-alkmaar", "voorportaal"),
        ("GM1980", "regional", "sociale-dienst-regio-alkmaar", "werk-inkomen"),
        ("GM1901", "regional", "ferm-werk", "werk-inkomen"),
        ("GM0632", "regional", "ferm-werk", "werk-inkomen"),
        ("GM0632", "regional", "ferm-werk", "beschut-werk"),
    ],
)
def test_configured_destinations_are_accepted(
    directory: Directory, code: str, level: str, organisation: str, team: str
) -> None:
    assert (
        directory.destination_error(
            municipality_code=code, level=level, organisation=organisation, team=team
        )
        is None
    )


@pytest.mark.parametrize(
    ("code", "level", "organisation", "team", "message"),
    [
        ("GM0794", "regional", "x", "werk-inkomen", "unknown organisation 'x'"),
        (
            "GM0794",
            "regional",
            "peel61",
            "werk-en-inkomen",
            "team 'werk-en-inkomen' is not a team of 'peel61' (teams: werk-inkomen)",
        ),
        (
            "GM0794",
            "local",
            "peel61",
            "werk-inkomen",
            "organisation 'peel61' is regional, not local",
        ),
        (
            "GM0794",
            "local",
            "gemeente-asten",
            "sociaal-team",
            "organisation 'gemeente-asten' does not serve municipality GM0794 (Helmond)",
        ),
        (
            "GM0794",
            "regional",
            "werkplein-ijmond",
            "werkplein",
            "organisation 'werkplein-ijmond' does not serve municipality GM0794 (Helmond)",
        ),
        (
            # the shared team serves Geldrop-Mierlo, not Helmond
            "GM0794",
            "local",
            "sociaal-team-gmnsw",
            "geldrop-mierlo",
            "organisation 'sociaal-team-gmnsw' does not serve municipality GM0794 (Helmond)",
        ),
        (
            # Zaffier (regio Alkmaar) does not work for Woerden
            "GM0632",
            "regional",
            "sociale-dienst-regio-alkmaar",
            "werk-inkomen",
            "organisation 'sociale-dienst-regio-alkmaar' does not serve municipality GM0632",
        ),
        ("GM9999", "regional", "peel61", "werk-inkomen", "unknown municipality 'GM9999'"),
    ],
)
def test_wrong_destinations_say_what_is_wrong(
    directory: Directory, code: str, level: str, organisation: str, team: str, message: str
) -> None:
    problem = directory.destination_error(
        municipality_code=code, level=level, organisation=organisation, team=team
    )
    assert problem is not None and problem.startswith(message)


def test_municipality_names_compare_loosely_but_not_across_codes(directory: Directory) -> None:
    assert directory.municipality_name_matches("GM0373", "Bergen (NH)")
    assert directory.municipality_name_matches("GM0373", "bergen nh")
    assert directory.municipality_name_matches("GM1980", "Heerhugowaard")  # alias (old name)
    assert not directory.municipality_name_matches("GM0794", "Eindhoven")
    assert not directory.municipality_name_matches("GM0794", "Asten")
    assert not directory.municipality_name_matches("GM9999", "Helmond")


# --- returning a case -------------------------------------------------------------------------


def test_helmond_from_peel61_returns_to_the_wijkteam_not_the_contact_centre(
    directory: Directory,
) -> None:
    assert directory.return_targets(municipality_code="GM0794", from_organisation="peel61") == [
        ReturnTarget(
            level="local",
            organisation="gemeente-helmond",
            organisation_name="Gemeente Helmond",
            team="wijkteam",
            team_name="het wijkteam Helmond",
        )
    ]


def test_helmond_from_the_wijkteam_returns_to_peel61(directory: Directory) -> None:
    targets = directory.return_targets(
        municipality_code="GM0794", from_organisation="gemeente-helmond"
    )
    assert [(t.level, t.organisation, t.team, t.team_name) for t in targets] == [
        ("regional", "peel61", "werk-inkomen", "Senzer")
    ]


def test_local_schuldhulp_team_is_a_return_target(directory: Directory) -> None:
    # Alkmaar handles schuldhulp and minimaregelingen in its voorportaal (cafetariamodel).
    targets = directory.return_targets(
        municipality_code="GM0361", from_organisation="sociale-dienst-regio-alkmaar"
    )
    assert [(t.organisation, t.team) for t in targets] == [
        ("gemeente-alkmaar", "sociaal-team"),
        ("gemeente-alkmaar", "voorportaal"),
    ]


def test_geldrop_mierlo_returns_to_the_shared_team(directory: Directory) -> None:
    targets = directory.return_targets(municipality_code="GM1771", from_organisation="peel61")
    assert [(t.organisation, t.team) for t in targets] == [("sociaal-team-gmnsw", "geldrop-mierlo")]
    back = directory.return_targets(
        municipality_code="GM1771", from_organisation="sociaal-team-gmnsw"
    )
    assert [(t.organisation, t.team) for t in back] == [("peel61", "werk-inkomen")]


# A municipality that runs work and income itself (no configured municipality does today:
# Bodegraven-Reeuwijk did in the 2011 source, Ferm Werk serves it now).
_SELF_RELIANT = """\
postcode_ranges_verified: false
region: {id: solo, name: Solo, regional_organisation: regio,
         employer_service: {organisation: regio, team: werk}}
organisations:
  - {id: regio, name: Regio, level: regional, teams: [{id: werk, name: Regio}]}
  - id: solo-wi
    name: Afdeling Werk en Inkomen gemeente Solo
    level: local
    teams: [{id: werk-inkomen, name: de afdeling Werk en Inkomen van Solo}]
  - id: gemeente-solo
    name: Gemeente Solo
    level: local
    teams: [{id: sociaal-team, name: het sociaal team Solo}]
municipalities:
  - code: GM9001
    name: Solo
    local_team: {organisation: gemeente-solo, team: sociaal-team}
    local_teams:
      bijstand_intake: {organisation: solo-wi, team: werk-inkomen}
      werk: {organisation: solo-wi, team: werk-inkomen}
    services: {information: local, bijstand_intake: local, bijzondere_bijstand: local,
               minimaregelingen: local, schuldhulp: local, wmo: local, jeugd: local,
               werk: local}
"""


def test_self_reliant_municipality_returns_between_its_own_departments(tmp_path: Path) -> None:
    (tmp_path / "regions").mkdir()
    (tmp_path / "regions" / "solo.yml").write_text(_SELF_RELIANT, encoding="utf-8")
    directory = load_directory(tmp_path)
    solo = directory.municipality("GM9001")
    assert solo is not None and solo.regional == ()
    from_wi = directory.return_targets(municipality_code="GM9001", from_organisation="solo-wi")
    assert [(t.level, t.organisation, t.team) for t in from_wi] == [
        ("local", "gemeente-solo", "sociaal-team")
    ]
    from_team = directory.return_targets(
        municipality_code="GM9001", from_organisation="gemeente-solo"
    )
    assert [(t.organisation, t.team) for t in from_team] == [("solo-wi", "werk-inkomen")]


def test_every_return_target_passes_destination_error(directory: Directory) -> None:
    for code, municipality in directory.municipalities.items():
        for ref in municipality.destinations:
            for target in directory.return_targets(
                municipality_code=code, from_organisation=ref.organisation
            ):
                assert target.organisation != ref.organisation
                problem = directory.destination_error(
                    municipality_code=code,
                    level=target.level,
                    organisation=target.organisation,
                    team=target.team,
                )
                assert problem is None, (code, target, problem)


def test_no_return_targets_for_unknown_ids(directory: Directory) -> None:
    assert directory.return_targets(municipality_code="GM9999", from_organisation="peel61") == []
    assert directory.return_targets(municipality_code="GM0794", from_organisation="nope") == []


# --- names for staff pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("organisation", "team", "expected"),
    [
        ("peel61", None, "Senzer"),
        ("peel61", "werk-inkomen", "Senzer"),
        ("gemeente-helmond", "wijkteam", "Het wijkteam Helmond"),
        ("werkplein-ijmond", "jongerenloket", "Het Jongerenloket van Werkplein IJmond"),
        (
            "werkplein-ijmond",
            "werkgeversservicepunt",
            "Werkplein IJmond – het Werkgeversservicepunt IJmond",
        ),
        ("ferm-werk", "werk-inkomen", "Ferm Werk"),
        ("ferm-werk", "werkgeversservice", "De werkgeversservice van Ferm Werk"),
        ("sociale-dienst-regio-alkmaar", "werk-inkomen", "Zaffier"),
        ("sociale-dienst-regio-alkmaar", "beschut-werk", "Het werkbedrijf van Zaffier"),
        ("gemeente-helmond", "nope", "Gemeente Helmond – nope"),
        ("helmond-wijkteam", None, "helmond-wijkteam"),
        ("helmond-wijkteam", "wmo", "helmond-wijkteam – wmo"),
    ],
)
def test_display_names_do_not_double(
    directory: Directory, organisation: str, team: str | None, expected: str
) -> None:
    assert directory.display_name(organisation, team) == expected


def test_display_name_never_repeats_the_organisation(directory: Directory) -> None:
    for org in directory.organisations.values():
        for team_id in org.teams:
            name = directory.display_name(org.id, team_id)
            assert f"{org.name} ({org.name})" not in name
            assert name.count(org.name) <= 1, name


# --- the app's directory ----------------------------------------------------------------------


def test_current_defaults_to_the_settings_data_dir_and_follows_configure(
    data_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(directory_module, "_configured", None)
    assert directory_module.current() is load_directory(DATA_DIR)
    configured = directory_module.configure(data_copy)
    assert directory_module.current() is configured
    assert configured is load_directory(data_copy)


def test_configure_fails_at_once_on_a_broken_file(
    data_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(directory_module, "_configured", None)
    _edit(data_copy, "peelland.yml", "name: Senzer\n", "name: [Senzer\n")
    with pytest.raises(DirectoryError, match=r"peelland\.yml"):
        directory_module.configure(data_copy)
    assert directory_module._configured is None

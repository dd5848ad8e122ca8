"""A way forward at every end of a conversation, and what follows a handover — with verified
contact details only (actions/way_forward.py against the real data/regions)."""

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from actions.regions import (
    DEFAULT_RESPONSE_WORKING_DAYS,
    DEFAULT_URGENT_RESPONSE_WORKING_DAYS,
    SERVICES,
    Contact,
    RegionConfig,
    clear_cache,
    load_regions,
)
from actions.way_forward import (
    LATER_HINT,
    NEUTRAL,
    contact_line,
    expected_contact,
    own_contact,
    shelter_route,
    sooner,
    way_forward,
    what_to_have_at_hand,
)

REPO = Path(__file__).resolve().parents[2]
PREPARE = yaml.safe_load((REPO / "data" / "prepare.yml").read_text(encoding="utf-8"))
FIELDS = ("phone", "website", "address", "hours", "walk_in")
# A Wednesday morning, when every team is open: the texts below do not depend on the wall clock
# (closed teams: tests/actions/test_contact_outside_hours.py).
OPEN = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


@pytest.fixture(scope="module")
def regions() -> RegionConfig:
    return load_regions()


def _example_values(*contacts: Contact | None) -> set[str]:
    """Values nobody verified (and their shown form, for websites)."""
    values = set()
    for contact in contacts:
        for field in FIELDS:
            value = getattr(contact, field, None) if contact else None
            if value and contact is not None and contact.is_example(field):
                values.add(value)
                values.add(value.removeprefix("https://").removeprefix("http://").rstrip("/"))
    return values


def _verified_values(*contacts: Contact | None) -> set[str]:
    return {v for c in contacts if c for f in FIELDS if (v := c.verified(f))}


def _all_ends(regions: RegionConfig):
    for municipality in regions.municipalities:
        for service in (None, *SERVICES):
            yield municipality, service


# --- way_forward: verified details only ------------------------------------------------------


def test_example_contact_details_are_never_shown(regions: RegionConfig) -> None:
    checked = 0
    for municipality, service in _all_ends(regions):
        text = way_forward(regions, municipality, service)
        assert "0000" not in text, (municipality.name, service)
        dest = regions.destination_for(municipality.code, service or "information")
        organisation = regions.organisation(dest.organisation)
        contacts = (
            municipality.contact,
            organisation.contact,
            organisation.team(dest.team).contact,
        )
        hidden = _example_values(*contacts) - _verified_values(*contacts)
        for value in hidden:
            assert value not in text, (municipality.name, service, value)
        assert text.endswith(LATER_HINT)
        checked += 1
    assert checked == len(regions.municipalities) * (len(SERVICES) + 1)


def test_helmond_gets_its_verified_website_not_its_example_phone(regions: RegionConfig) -> None:
    helmond = regions.municipality("GM0794")
    assert helmond.contact.phone == "14 0492" and helmond.contact.is_example("phone")
    text = way_forward(regions, helmond)
    assert text == f"Wilt u later toch hulp? Gemeente Helmond: kijk op www.helmond.nl. {LATER_HINT}"
    assert "14 0492" not in text and "bel " not in text


def test_the_receiving_organisation_comes_first_for_a_service(regions: RegionConfig) -> None:
    text = way_forward(regions, regions.municipality("GM0794"), "bijstand_intake")
    assert "Senzer: kijk op www.senzer.nl." in text


def test_a_verified_phone_number_is_given(regions: RegionConfig) -> None:
    text = way_forward(regions, regions.municipality("GM0762"), "wmo")  # Zorg in Deurne
    assert "bel 0493 387 387" in text and "zorgindeurne.nl" in text


def test_nothing_verified_gives_neutral_wording_with_the_name(regions: RegionConfig) -> None:
    someren = regions.municipality("GM0847")
    assert own_contact(regions, someren, None) is None
    text = way_forward(regions, someren)
    assert "website van de gemeente Someren" in text
    assert "someren.nl" not in text  # the website itself is not verified
    assert text.endswith(LATER_HINT)


def test_no_municipality_gives_wording_that_is_true_everywhere(regions: RegionConfig) -> None:
    assert way_forward(regions, None) == f"{NEUTRAL} {LATER_HINT}"
    assert way_forward(regions, None, "schuldhulp") == f"{NEUTRAL} {LATER_HINT}"


def test_contact_line_takes_the_first_verified_field_of_each_kind() -> None:
    example = Contact(phone="0000 000000", website="https://a.example", example=True)
    real = Contact(
        phone="0492 123456",
        website="https://www.b.nl/",
        hours="ma-vr 9.00-17.00",
        address="Markt 1, Helmond",
        walk_in="di 9-12 uur",
        example=False,
    )
    assert contact_line("X", example, None) is None
    assert contact_line("X", example, real) == (
        "X: bel 0492 123456 (ma-vr 9.00-17.00) of kijk op www.b.nl of loop binnen: "
        "Markt 1, Helmond (di 9-12 uur)."
    )


# --- after a handover: when, what to have at hand, how sooner --------------------------------


def test_expected_contact_follows_every_teams_service_level(regions: RegionConfig) -> None:
    for organisation in regions.organisations.values():
        for team in organisation.teams:
            days = regions.response_working_days(organisation.id, team.id)
            text = expected_contact(regions, organisation.id, team.id, urgent=False, now=OPEN)
            assert text.startswith(f"Zij nemen binnen {days} werkdag"), (organisation.id, team.id)
            assert "voorrang" not in text
            urgent = expected_contact(regions, organisation.id, team.id, urgent=True, now=OPEN)
            assert urgent.startswith("U krijgt voorrang")
            # hours only when a public page states them: all configured hours are example data
            assert "ma-vr" not in text and "ma-vr" not in urgent


def test_expected_contact_defaults_per_level(regions: RegionConfig) -> None:
    # teams without a service level of their own: the default of their level
    team = regions.organisation("werkgeversplein-peelland").team("werkgeversplein")
    assert team.response_working_days is None and team.urgent_response_working_days is None
    assert regions.organisation("gemeente-helmond").team("kcc").response_working_days is None
    regional = expected_contact(
        regions, "werkgeversplein-peelland", "werkgeversplein", False, now=OPEN
    )
    assert f"binnen {DEFAULT_RESPONSE_WORKING_DAYS['regional']} werkdagen" in regional
    local = expected_contact(regions, "gemeente-helmond", "kcc", False, now=OPEN)
    assert f"binnen {DEFAULT_RESPONSE_WORKING_DAYS['local']} werkdagen" in local
    assert DEFAULT_URGENT_RESPONSE_WORKING_DAYS == 1
    urgent = expected_contact(regions, "gemeente-helmond", "kcc", True, now=OPEN)
    assert urgent == (
        "U krijgt voorrang: zij nemen zo snel mogelijk contact met u op, uiterlijk de volgende "
        "werkdag."
    )


def _peelland_with(tmp_path: Path, **team: Any) -> RegionConfig:
    raw = yaml.safe_load((REPO / "data" / "regions" / "peelland.yml").read_text("utf-8"))
    peel = next(o for o in raw["organisations"] if o["id"] == "peel61")
    peel["teams"][0].update(team)
    (tmp_path / "peelland.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    clear_cache()
    return load_regions(tmp_path)


def test_expected_contact_uses_the_configured_service_level(tmp_path: Path) -> None:
    regions = _peelland_with(
        tmp_path,
        response_working_days=2,
        urgent_response_working_days=3,
        contact={
            "hours": "ma-do 9.00-12.00",
            "example": True,
            "verified_fields": ["hours"],
            "sources": [{"title": "proef", "url": "https://example.org/peel"}],
        },
    )
    try:
        assert expected_contact(regions, "peel61", "werk-inkomen", False, now=OPEN) == (
            "Zij nemen binnen 2 werkdagen contact met u op (bereikbaar ma-do 9.00-12.00)."
        )
        assert expected_contact(regions, "peel61", "werk-inkomen", True, now=OPEN) == (
            "U krijgt voorrang: zij nemen zo snel mogelijk contact met u op, uiterlijk binnen "
            "3 werkdagen (bereikbaar ma-do 9.00-12.00)."
        )
    finally:
        clear_cache()


def test_one_working_day_is_singular(tmp_path: Path) -> None:
    regions = _peelland_with(tmp_path, response_working_days=1)
    try:
        text = expected_contact(regions, "peel61", "werk-inkomen", False, now=OPEN)
        assert text == "Zij nemen binnen 1 werkdag contact met u op."
    finally:
        clear_cache()


def test_sooner_gives_verified_details_or_the_reference(regions: RegionConfig) -> None:
    assert sooner(regions, "gemeente-deurne", "sociaal-team") == (
        "Eerder contact nodig? Zorg in Deurne: bel 0493 387 387 of kijk op zorgindeurne.nl."
    )
    assert sooner(regions, "peel61", "werk-inkomen") == (
        "Eerder contact nodig? Senzer: kijk op www.senzer.nl."
    )
    assert sooner(regions, "werkgeversplein-peelland", "werkgeversplein") == (
        "Eerder contact nodig? Bel uw gemeente en noem uw kenmerk."
    )


@pytest.mark.parametrize("service", sorted(k for k in PREPARE if k not in ("default", "crisis")))
def test_what_to_have_at_hand_per_service(service: str) -> None:
    text = what_to_have_at_hand(service, crisis=False)
    assert text == "Houd bij de hand: " + ", ".join(PREPARE[service]) + "."
    assert text.startswith("Houd bij de hand: uw kenmerk")


def test_what_to_have_at_hand_specifics() -> None:
    assert "loonstrook" in what_to_have_at_hand("bijstand_intake", False)
    assert "deurwaarder" in what_to_have_at_hand("schuldhulp", False)
    # a crisis: only the reference, whatever the service
    assert what_to_have_at_hand("bijstand_intake", True) == "Houd bij de hand: uw kenmerk."
    default = "Houd bij de hand: " + ", ".join(PREPARE["default"]) + "."
    assert what_to_have_at_hand(None, False) == default
    assert what_to_have_at_hand("onbekende_dienst", False) == default


def test_every_service_has_its_own_list() -> None:
    assert set(SERVICES) <= set(PREPARE)


# --- the shelter route for a resident without a bed tonight ----------------------------------


@pytest.mark.parametrize("code", ["GM0794", "GM0743", "GM0762", "GM1652", "GM1659", "GM0847"])
def test_peelland_gets_the_verified_smo_helmond_route(regions: RegionConfig, code: str) -> None:
    text = shelter_route(regions, regions.municipality(code))
    assert text == (
        "Voor een slaapplek vannacht: SMO Helmond (nachtopvang Passantenverblijf). "
        "Nachtopvang vanaf 17.30 uur, als er plek is. "
        "Bel 0492 52 50 98 of kijk op smo-helmond.nl."
    )


def test_the_verified_walk_in_time_of_the_night_shelter_is_shown(regions: RegionConfig) -> None:
    assert "17.30" in shelter_route(regions, regions.municipality("GM0794"))


def test_a_verified_address_is_given(regions: RegionConfig) -> None:
    text = shelter_route(regions, regions.municipality("GM0361"))  # Alkmaar
    assert "Ga naar Helderseweg 8, Alkmaar." in text and "0000" not in text


@pytest.mark.parametrize(
    "code",
    [
        "GM1771",  # Geldrop-Mierlo: its own route (Eindhoven) is not verified
        "GM0453",  # IJmond: only the centrumgemeente is verified, not how to get there
        "GM0632",  # Woerden: the same
    ],
)
def test_nothing_verified_gives_the_neutral_shelter_text(regions: RegionConfig, code: str) -> None:
    text = shelter_route(regions, regions.municipality(code))
    assert text.startswith("Voor een slaapplek vannacht (nachtopvang of maatschappelijke opvang)")
    assert "112" in text and "0000" not in text and "SMO" not in text
    assert text == shelter_route(regions, None)


def test_no_shelter_text_ever_shows_example_data(regions: RegionConfig) -> None:
    for municipality in regions.municipalities:
        text = shelter_route(regions, municipality)
        assert "0000" not in text, municipality.name

"""Outside a team's opening hours the resident hears when the team picks the question up, from
the same configuration as the handover API (``handling:`` in data/regions, common/opening_hours),
and is never promised someone who answers in the chat now (actions/way_forward.py)."""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from actions import way_forward
from actions.handover import ActionSubmitHandover, current_consent
from actions.regions import RegionConfig, RegionConfigError, clear_cache, load_regions
from actions.way_forward import closed_notice, expected_contact
from bot.channels.sms_split import gsm7_septets
from tests.actions.conftest import make_tracker

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
REPO = Path(__file__).resolve().parents[2]

WEDNESDAY_MORNING = datetime(2026, 12, 2, 10, 0, tzinfo=AMSTERDAM)
WEDNESDAY_EARLY = datetime(2026, 12, 2, 8, 45, tzinfo=AMSTERDAM)
WEDNESDAY_NIGHT = datetime(2026, 12, 2, 22, 30, tzinfo=AMSTERDAM)
SATURDAY = datetime(2026, 12, 5, 11, 0, tzinfo=AMSTERDAM)
CHRISTMAS_EVE = datetime(2026, 12, 24, 16, 0, tzinfo=AMSTERDAM)  # a Thursday
CHRISTMAS_DAY = datetime(2026, 12, 25, 10, 0, tzinfo=AMSTERDAM)
KONINGSDAG = datetime(2027, 4, 27, 10, 0, tzinfo=AMSTERDAM)  # a Tuesday

SENZER = ("peel61", "werk-inkomen")  # handling: hours "ma-vr 8.30-17.00"
WIJKTEAM = ("gemeente-helmond", "wijkteam")  # handling: closed_days 24 and 31 December 2026
KCC = ("gemeente-helmond", "kcc")  # no handling and no hours: ma-vr 9.00-17.00

# Words that would promise someone answering in the chat now.
LIVE_PROMISES = ("chat", "live", "doorverbonden", "direct", "meteen", "neemt het gesprek over")


@pytest.fixture(scope="module")
def regions() -> RegionConfig:
    return load_regions()


def _peelland_with(tmp_path: Path, **team: Any) -> RegionConfig:
    """The real peelland.yml with Senzer's team changed (``None`` removes a key)."""
    raw = yaml.safe_load((REPO / "data" / "regions" / "peelland.yml").read_text("utf-8"))
    peel = next(o for o in raw["organisations"] if o["id"] == "peel61")
    for key, value in team.items():
        if value is None:
            peel["teams"][0].pop(key, None)
        else:
            peel["teams"][0][key] = value
    (tmp_path / "peelland.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    clear_cache()
    return load_regions(tmp_path)


@pytest.fixture
def isolated_cache():
    clear_cache()
    yield
    clear_cache()


# --- the sentence --------------------------------------------------------------------------------


def test_open_team_gets_no_extra_sentence(regions: RegionConfig) -> None:
    assert closed_notice(regions, *SENZER, WEDNESDAY_MORNING) is None
    assert expected_contact(regions, *SENZER, False, now=WEDNESDAY_MORNING) == (
        "Zij nemen binnen 3 werkdagen contact met u op."
    )
    assert expected_contact(regions, *WIJKTEAM, True, now=WEDNESDAY_MORNING) == (
        "U krijgt voorrang: zij nemen zo snel mogelijk contact met u op, uiterlijk de volgende "
        "werkdag."
    )


def test_evening_says_tomorrow_at_the_teams_own_opening(regions: RegionConfig) -> None:
    assert expected_contact(regions, *SENZER, False, now=WEDNESDAY_NIGHT) == (
        "Zij nemen binnen 3 werkdagen contact met u op. Het team is nu gesloten en begint "
        "morgen om 8.30 uur met uw vraag."
    )
    assert expected_contact(regions, *WIJKTEAM, False, now=WEDNESDAY_NIGHT) == (
        "Zij nemen binnen 5 werkdagen contact met u op. Het team is nu gesloten en begint "
        "morgen om 9.00 uur met uw vraag."
    )
    # urgent: the priority sentence stays, the closing sentence follows it
    urgent = expected_contact(regions, *SENZER, True, now=WEDNESDAY_NIGHT)
    assert urgent.startswith("U krijgt voorrang: zij nemen zo snel mogelijk contact met u op")
    assert urgent.endswith("Het team is nu gesloten en begint morgen om 8.30 uur met uw vraag.")


def test_handling_hours_count_not_the_telephone_hours(regions: RegionConfig) -> None:
    # 8.45: Senzer works from 8.30 (handling), Helmond's wijkteam from 9.00 (contact.hours)
    assert closed_notice(regions, *SENZER, WEDNESDAY_EARLY) is None
    assert closed_notice(regions, *WIJKTEAM, WEDNESDAY_EARLY) == (
        "Het team is nu gesloten en begint vandaag om 9.00 uur met uw vraag."
    )


def test_weekend_says_monday(regions: RegionConfig) -> None:
    assert closed_notice(regions, *SENZER, SATURDAY) == (
        "Het team is nu gesloten en begint maandag 7 december om 8.30 uur met uw vraag."
    )
    sunday_night = datetime(2026, 12, 6, 23, 59, tzinfo=AMSTERDAM)
    assert closed_notice(regions, *KCC, sunday_night) == (
        "Het team is nu gesloten en begint morgen om 9.00 uur met uw vraag."
    )


def test_christmas_eve_closing_day_then_christmas_then_sunday(regions: RegionConfig) -> None:
    # Helmond's wijkteam is closed on 24 December (its own closing day), 25 and 26 are public
    # holidays and the 27th is a Sunday: Monday 28 December.
    assert expected_contact(regions, *WIJKTEAM, False, now=CHRISTMAS_EVE) == (
        "Zij nemen binnen 5 werkdagen contact met u op. Het team is vandaag gesloten en begint "
        "maandag 28 december om 9.00 uur met uw vraag."
    )
    # Senzer has no closing day on the 24th: open at 16.00, nothing extra
    assert closed_notice(regions, *SENZER, CHRISTMAS_EVE) is None
    assert closed_notice(regions, *SENZER, CHRISTMAS_EVE.replace(hour=17)) == (
        "Het team is nu gesloten en begint maandag 28 december om 8.30 uur met uw vraag."
    )


def test_public_holiday_is_named(regions: RegionConfig) -> None:
    assert closed_notice(regions, *WIJKTEAM, CHRISTMAS_DAY) == (
        "Vandaag is het Eerste kerstdag: het team is gesloten en begint maandag 28 december om "
        "9.00 uur met uw vraag."
    )
    assert expected_contact(regions, *KCC, False, now=KONINGSDAG) == (
        "Zij nemen binnen 5 werkdagen contact met u op. Vandaag is het Koningsdag: het team is "
        "gesloten en begint morgen om 9.00 uur met uw vraag."
    )


def test_team_without_handling_or_hours_works_monday_to_friday_nine_to_five(
    regions: RegionConfig,
) -> None:
    team = regions.organisation(KCC[0]).team(KCC[1])
    assert team.handling is None and (team.contact is None or team.contact.hours is None)
    assert closed_notice(regions, *KCC, WEDNESDAY_MORNING) is None
    assert closed_notice(regions, *KCC, WEDNESDAY_EARLY) == (
        "Het team is nu gesloten en begint vandaag om 9.00 uur met uw vraag."
    )
    assert closed_notice(regions, *KCC, datetime(2026, 12, 2, 17, 0, tzinfo=AMSTERDAM)) == (
        "Het team is nu gesloten en begint morgen om 9.00 uur met uw vraag."
    )


def test_no_opening_found_says_nothing_extra(tmp_path: Path, isolated_cache: None) -> None:
    # closed every day of the calendar's horizon: no moment to promise
    closed = [date(2026, 12, 2) + timedelta(days=i) for i in range(70)]
    regions = _peelland_with(
        tmp_path, handling={"hours": "ma-vr 8.30-17.00", "closed_days": closed}
    )
    assert closed_notice(regions, *SENZER, WEDNESDAY_MORNING) is None
    assert expected_contact(regions, *SENZER, False, now=WEDNESDAY_MORNING) == (
        "Zij nemen binnen 3 werkdagen contact met u op."
    )


def test_same_day_urgency_is_not_promised_when_the_team_opens_another_day(
    tmp_path: Path, isolated_cache: None
) -> None:
    regions = _peelland_with(tmp_path, urgent_response_working_days=0)
    assert expected_contact(regions, *SENZER, True, now=WEDNESDAY_MORNING) == (
        "U krijgt voorrang: zij nemen zo snel mogelijk contact met u op, vandaag nog."
    )
    early = WEDNESDAY_EARLY.replace(hour=7)  # opens later today: "vandaag nog" is true
    assert expected_contact(regions, *SENZER, True, now=early).startswith(
        "U krijgt voorrang: zij nemen zo snel mogelijk contact met u op, vandaag nog."
    )
    assert expected_contact(regions, *SENZER, True, now=WEDNESDAY_NIGHT) == (
        "U krijgt voorrang: zij nemen zo snel mogelijk contact met u op. Het team is nu "
        "gesloten en begint morgen om 8.30 uur met uw vraag."
    )


def test_a_naive_moment_is_amsterdam_time(regions: RegionConfig) -> None:
    naive = WEDNESDAY_NIGHT.replace(tzinfo=None)
    assert expected_contact(regions, *SENZER, False, now=naive) == expected_contact(
        regions, *SENZER, False, now=WEDNESDAY_NIGHT
    )
    utc = WEDNESDAY_NIGHT.astimezone(ZoneInfo("UTC"))  # 21.30 UTC is 22.30 in Amsterdam
    assert expected_contact(regions, *SENZER, False, now=utc) == expected_contact(
        regions, *SENZER, False, now=WEDNESDAY_NIGHT
    )


@pytest.mark.parametrize(
    "now", [WEDNESDAY_NIGHT, SATURDAY, CHRISTMAS_EVE, CHRISTMAS_DAY, KONINGSDAG, WEDNESDAY_EARLY]
)
def test_never_a_live_chat_and_fit_for_sms(regions: RegionConfig, now: datetime) -> None:
    for organisation in regions.organisations.values():
        for team in organisation.teams:
            for urgent in (False, True):
                text = expected_contact(regions, organisation.id, team.id, urgent, now=now)
                lowered = text.lower()
                assert not any(word in lowered for word in LIVE_PROMISES), text
                assert gsm7_septets(text) is not None, text  # no UCS-2 SMS segments
                assert len(text) <= 250, (len(text), text)


# --- the clock the actions read -----------------------------------------------------------------


def test_expected_contact_reads_the_module_clock(
    regions: RegionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(way_forward, "current_time", lambda: SATURDAY)
    assert expected_contact(regions, *SENZER, False) == expected_contact(
        regions, *SENZER, False, now=SATURDAY
    )
    assert "maandag 7 december om 8.30 uur" in expected_contact(regions, *SENZER, False)


async def test_handover_confirmation_at_night(fake_api, dispatcher, monkeypatch) -> None:
    monkeypatch.setattr(way_forward, "current_time", lambda: WEDNESDAY_NIGHT)
    tracker = make_tracker(
        text="ik heb geen inkomen meer",
        slots={
            "gemeente_code": "GM0794",
            "gemeente": "Helmond",
            "service": "bijstand_intake",
            "consent_given": True,
            "consent_at": "2026-12-02T21:30:00+00:00",
            "consent_version": current_consent()[0],
            "contact_phone": "0612345678",
        },
    )
    await ActionSubmitHandover().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_handover_done"
    after = dispatcher.messages[1]["text"]
    assert after.startswith(
        "Zij nemen binnen 3 werkdagen contact met u op. Het team is nu gesloten en begint "
        "morgen om 8.30 uur met uw vraag. Houd bij de hand:"
    )
    assert "Eerder contact nodig?" in after
    assert not any(word in after.lower() for word in LIVE_PROMISES)


# --- the configuration --------------------------------------------------------------------------


def test_team_calendar_follows_the_handover_apis_rule(tmp_path: Path, isolated_cache: None) -> None:
    real = load_regions()
    # handling.hours win over the (example) telephone hours
    senzer = real.team_calendar(*SENZER)
    assert senzer.is_open(WEDNESDAY_EARLY)
    assert senzer.next_opening(WEDNESDAY_NIGHT) == datetime(2026, 12, 3, 8, 30, tzinfo=AMSTERDAM)
    # no handling.hours: the team's contact.hours, also when they are example data (never shown)
    regions = _peelland_with(
        tmp_path, handling=None, contact={"hours": "ma-do 8.00-12.00", "example": True}
    )
    calendar = regions.team_calendar(*SENZER)
    assert calendar.next_opening(datetime(2026, 12, 3, 13, 0, tzinfo=AMSTERDAM)) == datetime(
        2026, 12, 7, 8, 0, tzinfo=AMSTERDAM
    )
    text = expected_contact(regions, *SENZER, False, now=SATURDAY)
    assert "maandag 7 december om 8.00 uur" in text and "ma-do" not in text
    # neither: Monday to Friday 9-17, only the public holidays closed
    clear_cache()
    regions = _peelland_with(tmp_path, handling=None, contact={"example": True})
    calendar = regions.team_calendar(*SENZER)
    assert calendar.next_opening(WEDNESDAY_NIGHT) == datetime(2026, 12, 3, 9, 0, tzinfo=AMSTERDAM)
    assert calendar.closed_days == frozenset()


def test_handling_and_notify_are_read(regions: RegionConfig) -> None:
    senzer = regions.organisation(SENZER[0]).team(SENZER[1])
    assert senzer.handling is not None
    assert senzer.handling.hours == "ma-vr 8.30-17.00"
    assert (
        senzer.handling.claim_within_hours == 4 and senzer.handling.urgent_claim_within_hours == 1
    )
    assert senzer.notify is not None and senzer.notify["channel"] == "email"
    wijkteam = regions.organisation(WIJKTEAM[0]).team(WIJKTEAM[1])
    assert wijkteam.handling is not None and wijkteam.handling.hours is None
    assert wijkteam.handling.closed_days == [date(2026, 12, 24), date(2026, 12, 31)]
    assert regions.team_calendar(*WIJKTEAM).closed_days == {
        date(2026, 12, 24),
        date(2026, 12, 31),
    }


@pytest.mark.parametrize(
    ("handling", "message"),
    [
        ({"hours": "ma-vr 8.30-17.00", "claim_within_hour": 4}, "extra fields not permitted"),
        ({"hours": "altijd open"}, "cannot read hours"),
        ({"hours": "ma-vr 17.00-9.00"}, "cannot read hours"),
        ({"claim_within_hours": 0}, "greater than 0"),
        ({"urgent_claim_within_hours": 41}, "less than or equal to 40"),
        ({"closed_days": ["kerstavond"]}, "invalid date"),
    ],
)
def test_a_wrong_handling_block_is_refused(
    tmp_path: Path, isolated_cache: None, handling: dict[str, Any], message: str
) -> None:
    with pytest.raises(RegionConfigError) as err:
        _peelland_with(tmp_path, handling=handling)
    assert err.value.file == "peelland.yml"
    assert err.value.field.startswith("organisations[0].teams[0].handling"), err.value.field
    assert message in str(err.value)

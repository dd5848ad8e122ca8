"""A team's working time (common/opening_hours.py): hours, Dutch public holidays, closing days.

The same calendar decides when an unclaimed handover is escalated (handover API) and what a
resident who writes outside opening hours is told (assistant), so its arithmetic is pinned here
on the moments that matter: an evening, a weekend, Christmas, Koningsdag, a closing day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from common.opening_hours import (
    LOCAL_TIME,
    TeamCalendar,
    holiday_name,
    parse_hours,
    spoken_moment,
)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIME)


WEDNESDAY = date(2026, 12, 2)
FRIDAY = date(2026, 12, 4)
MONDAY = date(2026, 12, 7)
DEFAULT = TeamCalendar()  # ma-vr 9.00-17.00


def test_parse_hours_reads_the_region_notation() -> None:
    hours = parse_hours("ma-vr 9.00-17.00")
    assert hours is not None and len(hours.slots) == 5
    assert hours.is_open(local(WEDNESDAY, 9)) and hours.is_open(local(WEDNESDAY, 16, 59))
    assert not hours.is_open(local(WEDNESDAY, 17)) and not hours.is_open(local(WEDNESDAY, 8, 59))
    split = parse_hours("ma t/m do 8.30-17.00, vr 8:30-12:00")
    assert split is not None
    assert split.is_open(local(date(2026, 12, 3), 16))  # Thursday
    assert not split.is_open(local(FRIDAY, 13))  # Friday afternoon
    assert parse_hours("op afspraak") is None and parse_hours(None) is None
    assert parse_hours("ma-vr 17.00-9.00") is None  # an interval must not end before it starts


def test_dutch_public_holidays() -> None:
    assert holiday_name(date(2026, 12, 25)) == "Eerste kerstdag"
    assert holiday_name(date(2026, 12, 26)) == "Tweede kerstdag"
    assert holiday_name(date(2027, 4, 27)) == "Koningsdag"
    assert holiday_name(date(2026, 4, 6)) == "Tweede paasdag"
    assert holiday_name(date(2026, 5, 14)) == "Hemelvaartsdag"
    assert holiday_name(date(2025, 5, 5)) == "Bevrijdingsdag"  # a lustrum year
    assert holiday_name(date(2026, 12, 24)) is None  # not a public holiday


def test_evening_counts_from_the_next_morning() -> None:
    due = DEFAULT.add_working_time(local(WEDNESDAY, 16), timedelta(hours=4))
    assert due == local(date(2026, 12, 3), 12)  # 1 hour on Wednesday, 3 on Thursday
    assert DEFAULT.add_working_time(local(WEDNESDAY, 22, 30), timedelta(hours=1)) == local(
        date(2026, 12, 3), 10
    )
    assert DEFAULT.next_opening(local(WEDNESDAY, 22, 30)) == local(date(2026, 12, 3), 9)


def test_weekend_is_skipped() -> None:
    assert DEFAULT.add_working_time(local(FRIDAY, 16, 30), timedelta(hours=4)) == local(
        MONDAY, 12, 30
    )
    assert DEFAULT.next_opening(local(date(2026, 12, 5), 11)) == local(MONDAY, 9)  # Saturday
    assert not DEFAULT.is_open(local(date(2026, 12, 6), 11))  # Sunday


def test_christmas_and_a_closing_day() -> None:
    christmas_eve = date(2026, 12, 24)  # Thursday; 25 and 26 are holidays, 27 is Sunday
    assert DEFAULT.add_working_time(local(christmas_eve, 16), timedelta(hours=4)) == local(
        date(2026, 12, 28), 12
    )
    closed = TeamCalendar.of("ma-vr 9.00-17.00", [christmas_eve])
    assert not closed.is_open(local(christmas_eve, 10))
    assert closed.next_opening(local(christmas_eve, 10)) == local(date(2026, 12, 28), 9)
    assert closed.add_working_time(local(christmas_eve, 10), timedelta(hours=1)) == local(
        date(2026, 12, 28), 10
    )


def test_koningsdag_on_a_weekday() -> None:
    monday = date(2027, 4, 26)  # Koningsdag 2027 is Tuesday the 27th
    assert DEFAULT.add_working_time(local(monday, 16), timedelta(hours=1)) == local(monday, 17)
    assert DEFAULT.add_working_time(local(monday, 16), timedelta(hours=4)) == local(
        date(2027, 4, 28), 12
    )


def test_the_deadline_is_reached_exactly_at_the_end_of_a_day() -> None:
    assert DEFAULT.add_working_time(local(WEDNESDAY, 13), timedelta(hours=4)) == local(
        WEDNESDAY, 17
    )
    # Opening hours split over the day: the lunch break does not count.
    split = TeamCalendar.of("ma-vr 9.00-12.00, ma-vr 13.00-17.00")
    assert split.add_working_time(local(WEDNESDAY, 11), timedelta(hours=2)) == local(WEDNESDAY, 14)


def test_working_time_and_days_between() -> None:
    assert DEFAULT.working_time_between(local(FRIDAY, 16, 30), local(MONDAY, 10)) == timedelta(
        hours=1, minutes=30
    )
    assert DEFAULT.working_time_between(local(MONDAY, 10), local(FRIDAY, 10)) == timedelta()
    assert DEFAULT.working_days_between(date(2026, 12, 23), date(2026, 12, 29)) == 3  # 24,28,29
    assert DEFAULT.working_days_between(MONDAY, MONDAY) == 0


def test_a_team_that_never_opens_gives_no_deadline() -> None:
    never = TeamCalendar.of("za 9.00-17.00", [])
    assert never.next_opening(local(date(2026, 12, 5), 18)) == local(date(2026, 12, 12), 9)
    nobody = TeamCalendar(parse_hours("za 9.00-10.00") or DEFAULT, frozenset())
    assert nobody.add_working_time(local(WEDNESDAY, 9), timedelta(hours=1000)) is None


@pytest.mark.parametrize(
    ("moment", "now", "expected"),
    [
        (local(WEDNESDAY, 9), local(WEDNESDAY, 7), "vandaag om 9.00 uur"),
        (local(date(2026, 12, 3), 8, 30), local(WEDNESDAY, 22), "morgen om 8.30 uur"),
        (
            local(date(2026, 12, 28), 9),
            local(date(2026, 12, 24), 23),
            "maandag 28 december om 9.00 uur",
        ),
    ],
)
def test_spoken_moment(moment: datetime, now: datetime, expected: str) -> None:
    assert spoken_moment(moment, now) == expected

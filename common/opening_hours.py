"""When a team works: its opening hours, Dutch public holidays and its own closing days.

Both services need the same answer to "is the team open now, and when does it open next?":
the handover API counts a team's time to claim a handover in working hours and escalates when
it runs out (``handover_api/services/escalation.py``); the assistant tells a resident who
writes at 23:00 or on Christmas Day when the team will pick the question up
(``actions/way_forward.py``). Both import this module (stdlib plus the ``holidays`` package).

- ``parse_hours("ma-vr 9.00-17.00")`` reads the region files' Dutch notation
  ("ma t/m do 8.30-17.00, vr 8.30-12.00") into ``OpeningHours``.
- ``TeamCalendar(hours, closed_days)`` adds the Dutch public holidays (``holidays``,
  category public: Nieuwjaarsdag, Goede Vrijdag, Pasen, Koningsdag, Bevrijdingsdag in a
  lustrum year, Hemelvaart, Pinksteren, Kerst) and the team's own closing days, and answers
  ``is_open``, ``next_opening`` and ``add_working_time`` (a deadline "4 working hours after
  Friday 16:30" is Monday 12:30; after Thursday 24 December 2026 16:00 it is Monday 28
  December 12:00). Moments are aware datetimes; the calendar works in Amsterdam time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from common.dutch_dates import MONTH_NAMES, WEEKDAY_NAMES

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
DEFAULT_HOURS_TEXT = "ma-vr 9.00-17.00"
# How far ahead the calendar looks for an opening before it gives up (a team configured with
# hours that never come, e.g. every day closed, must not loop forever).
HORIZON_DAYS = 60

_DAYS = {"ma": 0, "di": 1, "wo": 2, "do": 3, "vr": 4, "za": 5, "zo": 6}
_DAY = r"(?:ma|di|wo|do|vr|za|zo)"
_RANGE = rf"{_DAY}(?:\s*(?:-|–|t/m)\s*{_DAY})?"
_SEGMENT = re.compile(
    rf"(?P<days>{_RANGE}(?:\s*(?:,|/|en)\s*{_RANGE})*)\s*:?\s+"
    r"(?P<start>\d{1,2})[.:](?P<start_min>\d{2})\s*(?:-|–|tot)\s*"
    r"(?P<end>\d{1,2})[.:](?P<end_min>\d{2})"
)


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Weekday (0 = Monday) -> (opens, closes) intervals, local time."""

    slots: tuple[tuple[int, time, time], ...]

    def intervals_on(self, day: date) -> list[tuple[time, time]]:
        return sorted((start, end) for wd, start, end in self.slots if wd == day.weekday())

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(LOCAL_TIME)
        now = local.time()
        return any(start <= now < end for start, end in self.intervals_on(local.date()))


def _days_of(text: str) -> list[int]:
    days: list[int] = []
    text = re.sub(r"\s*t/m\s*", "-", text)
    for part in re.split(r"\s*(?:,|/|\ben\b)\s*", text):
        bounds = re.split(r"\s*[-–]\s*", part.strip())
        if bounds[0] not in _DAYS or bounds[-1] not in _DAYS:
            continue
        first, last = _DAYS[bounds[0]], _DAYS[bounds[-1]]
        days.extend(range(first, last + 1) if first <= last else [first])
    return days


@functools.lru_cache(maxsize=256)
def parse_hours(text: str | None) -> OpeningHours | None:
    """Opening hours from the region files' Dutch notation ("ma-vr 9.00-17.00"); None when
    nothing in ``text`` can be read as days and times."""
    if not text:
        return None
    slots: list[tuple[int, time, time]] = []
    for match in _SEGMENT.finditer(text.lower()):
        try:
            start = time(int(match["start"]), int(match["start_min"]))
            end = time(int(match["end"]), int(match["end_min"]))
        except ValueError:
            continue
        if start >= end:
            continue
        slots.extend((day, start, end) for day in _days_of(match["days"]))
    return OpeningHours(tuple(slots)) if slots else None


def _default_hours() -> OpeningHours:
    hours = parse_hours(DEFAULT_HOURS_TEXT)
    assert hours is not None
    return hours


DEFAULT_HOURS = _default_hours()


def working_hours_text(handling_hours: str | None, contact_hours: str | None) -> str:
    """A team's working hours for handovers, by the one rule both services follow: its
    ``handling.hours``, else its ``contact.hours`` when readable, else ma-vr 9.00-17.00."""
    for text in (handling_hours, contact_hours):
        if text is not None and parse_hours(text) is not None:
            return text
    return DEFAULT_HOURS_TEXT


@functools.lru_cache(maxsize=64)
def public_holidays(year: int) -> dict[date, str]:
    """The Dutch public holidays of ``year`` (``holidays``, category public), Dutch names
    written as a sentence starts them ("Eerste kerstdag", "Goede Vrijdag"; the library's
    capitals vary between versions)."""
    found = holidays.country_holidays("NL", years=year, language="nl")
    return {day: _spelled(str(name)) for day, name in found.items()}


def _spelled(name: str) -> str:
    return name if name.lower() == "goede vrijdag" else name[:1].upper() + name[1:].lower()


def holiday_name(day: date) -> str | None:
    return public_holidays(day.year).get(day)


@dataclass(frozen=True)
class TeamCalendar:
    """A team's working time: opening hours minus Dutch public holidays and closing days."""

    hours: OpeningHours = DEFAULT_HOURS
    closed_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, hours_text: str | None, closed_days: Iterable[date] = ()) -> TeamCalendar:
        """The calendar for a team's configured hours text (the default when unreadable)."""
        return cls(parse_hours(hours_text) or DEFAULT_HOURS, frozenset(closed_days))

    def is_working_day(self, day: date) -> bool:
        return (
            bool(self.hours.intervals_on(day))
            and day not in self.closed_days
            and holiday_name(day) is None
        )

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (
                datetime.combine(day, start, tzinfo=LOCAL_TIME),
                datetime.combine(day, end, tzinfo=LOCAL_TIME),
            )
            for start, end in self.hours.intervals_on(day)
        ]

    def _open_intervals_from(self, moment: datetime) -> Iterable[tuple[datetime, datetime]]:
        """The open intervals that end after ``moment``, clipped to start no earlier."""
        local = moment.astimezone(LOCAL_TIME)
        for offset in range(HORIZON_DAYS + 1):
            for start, end in self._intervals(local.date() + timedelta(days=offset)):
                if end > local:
                    yield max(start, local), end

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(LOCAL_TIME)
        return any(start <= local < end for start, end in self._intervals(local.date()))

    def next_opening(self, moment: datetime) -> datetime | None:
        """``moment`` itself when the team is open, else when it opens next (Amsterdam time);
        None when it does not open within ``HORIZON_DAYS``."""
        for start, _ in self._open_intervals_from(moment):
            return start
        return None

    def add_working_time(self, moment: datetime, duration: timedelta) -> datetime | None:
        """The moment at which ``duration`` of the team's working time has passed since
        ``moment`` (a deadline); None when it does not fit within ``HORIZON_DAYS``."""
        left = duration
        for start, end in self._open_intervals_from(moment):
            if start + left <= end:
                return start + left
            left -= end - start
        return None

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The team's working time between two moments (zero when ``end`` is not later)."""
        total = timedelta()
        for open_at, close_at in self._open_intervals_from(start):
            if open_at >= end:
                break
            total += min(close_at, end) - open_at
        return total

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when not later)."""
        return sum(
            1
            for offset in range(1, (end - start).days + 1)
            if self.is_working_day(start + timedelta(days=offset))
        )


def spoken_moment(moment: datetime, now: datetime) -> str:
    """A moment as a resident reads it: "vandaag om 9.00 uur", "morgen om 9.00 uur",
    "maandag 28 december om 9.00 uur" (Amsterdam time)."""
    local = moment.astimezone(LOCAL_TIME)
    today = now.astimezone(LOCAL_TIME).date()
    clock = f"{local.hour}.{local.minute:02d} uur"
    if local.date() == today:
        return f"vandaag om {clock}"
    if local.date() == today + timedelta(days=1):
        return f"morgen om {clock}"
    day = f"{WEEKDAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]}"
    return f"{day} om {clock}"

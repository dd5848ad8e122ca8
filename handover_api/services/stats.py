"""Figures for the dashboard (/staff/statistieken, ``GET /api/v1/stats``).

Scope: the caller's organisation. Handover figures count the handovers addressed to it
(``destination_organisation``); conversation figures count the conversations of the
municipalities it serves (``Directory.serves``), never an erased one (``erased_at``). The
period is a range of local dates (Europe/Amsterdam), both ends included; by default the last
30 days up to today.

- conversations per day: by the local date the conversation started;
- fallback rate: resident messages answered with the fallback / all resident messages (the
  conversation counters ``fallbacks`` and ``user_messages``), and the conversations with at
  least one fallback;
- share that needed a person: conversations with a handover (to any organisation) / all;
- median time to claim (``claimed_at - created_at``) and to first contact
  (``first_contact_at - created_at``), over the handovers that got there;
- handovers outside opening hours: made when the receiving team was closed, by its working
  hours (``handling:`` / ``contact.hours`` in the region file, else Monday to Friday 9-17),
  Dutch public holidays and its closing days (``common/opening_hours.py``): a handover on
  Koningsdag at 10:00 counts as outside;
- misunderstood intents: the intents the assistant recognised in messages that the
  organisation's reviewers marked as misunderstood (by the message's date);
- events per kind: the timeline events (``services/events.py``: contact gehad, niet bereikt,
  teruggelegd, afgesloten, ...) of the handovers addressed to the organisation that happened
  in the period (by the event's moment), in the order of ``EVENT_KINDS``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from handover_api.models import (
    EVENT_KINDS,
    Conversation,
    ConversationEvent,
    Handover,
    HandoverEvent,
    ReviewMark,
)
from handover_api.services.directory import Directory
from handover_api.services.events import KIND_LABELS
from handover_api.services.reviews import municipalities_of

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
DEFAULT_DAYS = 30
MAX_DAYS = 366
NO_INTENT = "(geen intentie)"


class StatsError(ValueError):
    """The requested period is not usable (from after to, or longer than a year)."""


# --- the figures ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Count:
    key: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True)
class Stats:
    date_from: date
    date_to: date
    conversations: int
    per_day: list[DayCount]
    user_messages: int
    fallback_messages: int
    conversations_with_fallback: int
    conversations_with_handover: int
    handovers: int
    per_destination: list[Count]
    per_life_domain: list[Count]
    claimed: int
    contacted: int
    median_claim_seconds: float | None
    median_first_contact_seconds: float | None
    outside_hours: int
    misunderstood: list[Count] = field(default_factory=list)
    events: list[Count] = field(default_factory=list)

    @property
    def fallback_rate(self) -> float | None:
        return self.fallback_messages / self.user_messages if self.user_messages else None

    @property
    def person_share(self) -> float | None:
        return self.conversations_with_handover / self.conversations if self.conversations else None

    @property
    def outside_hours_share(self) -> float | None:
        return self.outside_hours / self.handovers if self.handovers else None


def period(
    date_from: date | None, date_to: date | None, *, today: date | None = None
) -> tuple[date, date]:
    """The period asked for, defaults filled in: up to today, 30 days long."""
    today = today or datetime.now(LOCAL_TIME).date()
    end = date_to or (date_from + timedelta(days=DEFAULT_DAYS - 1) if date_from else today)
    start = date_from or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise StatsError("the start date is after the end date")
    if (end - start).days + 1 > MAX_DAYS:
        raise StatsError(f"a period is at most {MAX_DAYS} days")
    return start, end


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=LOCAL_TIME),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=LOCAL_TIME),
    )


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _domain_codes(domain_codes: str | None, life_domains: Any) -> list[str]:
    codes = [c for c in (domain_codes or "").split(",") if c]
    if codes:
        return codes
    return [str(d["code"]) for d in life_domains or [] if isinstance(d, dict) and "code" in d]


def compute(
    session: Session,
    *,
    directory: Directory,
    organisation: str,
    date_from: date | None = None,
    date_to: date | None = None,
    domain_labels: Mapping[str, str] | None = None,
    today: date | None = None,
) -> Stats:
    """The dashboard's figures for ``organisation`` over the period (see the module doc)."""
    start, end = period(date_from, date_to, today=today)
    lower, upper = _bounds(start, end)
    labels = domain_labels or {}

    # conversations of the municipalities served
    codes = municipalities_of(directory, organisation)
    in_scope = (
        Conversation.municipality_code.in_(codes),
        Conversation.erased_at.is_(None),  # an erased conversation counts nowhere
        Conversation.started_at >= lower,
        Conversation.started_at < upper,
    )
    # Counted in the database, one row per local day: the day is a CASE over the local
    # midnights (DST-proof, the same SQL on SQLite and PostgreSQL), so no conversation row
    # comes to Python (tens of thousands a month made the dashboard slow).
    ndays = (end - start).days + 1
    midnights = [
        _bounds(start + timedelta(days=i), start + timedelta(days=i))[1] for i in range(ndays)
    ]
    day = case(
        *((Conversation.started_at < m, i) for i, m in enumerate(midnights)),
        else_=ndays - 1,
    )
    with_handover = exists().where(Handover.conversation_id == Conversation.id)
    scoped = (
        select(
            day.label("day"),
            Conversation.user_messages.label("user_messages"),
            Conversation.fallbacks.label("fallbacks"),
            case((with_handover, 1), else_=0).label("with_handover"),
        )
        .where(*in_scope)
        .subquery()
    )
    per_day_rows = session.execute(
        select(
            scoped.c.day,
            func.count(),
            func.coalesce(func.sum(scoped.c.user_messages), 0),
            func.coalesce(func.sum(scoped.c.fallbacks), 0),
            func.coalesce(func.sum(case((scoped.c.fallbacks > 0, 1), else_=0)), 0),
            func.coalesce(func.sum(scoped.c.with_handover), 0),
        ).group_by(scoped.c.day)
    ).all()
    days = {int(row[0]): int(row[1]) for row in per_day_rows}
    per_day = [DayCount(day=start + timedelta(days=i), count=days.get(i, 0)) for i in range(ndays)]
    totals = [sum(int(row[k]) for row in per_day_rows) for k in range(1, 6)]
    conversations, user_messages, fallback_messages, with_fallback, with_handovers = totals

    # handovers addressed to the organisation: only the columns the figures need (whole
    # Handover objects cost their JSON and their returned_from/returned_to queries)
    handovers = session.execute(
        select(
            Handover.destination_team,
            Handover.domain_codes,
            Handover.life_domains,
            Handover.created_at,
            Handover.claimed_at,
            Handover.first_contact_at,
        ).where(
            Handover.destination_organisation == organisation,
            Handover.created_at >= lower,
            Handover.created_at < upper,
        )
    ).all()
    destinations = Counter(h.destination_team for h in handovers)
    domains = Counter(
        code for h in handovers for code in _domain_codes(h.domain_codes, h.life_domains)
    )
    claim = [
        (h.claimed_at - h.created_at).total_seconds()
        for h in handovers
        if h.claimed_at is not None and h.claimed_at >= h.created_at
    ]
    contact = [
        (h.first_contact_at - h.created_at).total_seconds()
        for h in handovers
        if h.first_contact_at is not None and h.first_contact_at >= h.created_at
    ]
    outside = sum(
        not directory.handling(organisation, h.destination_team).calendar.is_open(h.created_at)
        for h in handovers
    )

    # messages the organisation's reviewers marked as misunderstood
    marked = session.execute(
        select(ConversationEvent.intent, func.count())
        .join(ReviewMark, ReviewMark.event_id == ConversationEvent.id)
        .where(
            ReviewMark.organisation == organisation,
            ConversationEvent.at >= lower,
            ConversationEvent.at < upper,
        )
        .group_by(ConversationEvent.intent)
    ).all()

    # what happened to the organisation's handovers in the period (the timeline events)
    per_kind = dict(
        session.execute(
            select(HandoverEvent.kind, func.count())
            .join(Handover, Handover.id == HandoverEvent.handover_id)
            .where(
                Handover.destination_organisation == organisation,
                HandoverEvent.at >= lower,
                HandoverEvent.at < upper,
            )
            .group_by(HandoverEvent.kind)
        )
        .tuples()
        .all()
    )

    return Stats(
        date_from=start,
        date_to=end,
        conversations=conversations,
        per_day=per_day,
        user_messages=user_messages,
        fallback_messages=fallback_messages,
        conversations_with_fallback=with_fallback,
        conversations_with_handover=with_handovers,
        handovers=len(handovers),
        per_destination=[
            Count(key=team, label=directory.display_name(organisation, team), count=n)
            for team, n in sorted(destinations.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        per_life_domain=[
            Count(key=code, label=labels.get(code, code), count=n)
            for code, n in sorted(domains.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        claimed=len(claim),
        contacted=len(contact),
        median_claim_seconds=_median(claim),
        median_first_contact_seconds=_median(contact),
        outside_hours=outside,
        misunderstood=[
            Count(key=intent or "", label=intent or NO_INTENT, count=n)
            for intent, n in sorted(marked, key=lambda kv: (-kv[1], kv[0] or ""))
        ],
        events=[
            Count(key=kind, label=KIND_LABELS[kind], count=int(per_kind[kind]))
            for kind in EVENT_KINDS
            if per_kind.get(kind)
        ],
    )


def duration_text(seconds: float | None) -> str:
    """A duration for people, in Dutch: "45 min", "3 u 05 min", "2 d 4 u"."""
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} u {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} u"

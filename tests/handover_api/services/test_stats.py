"""Dashboard figures on a known data set (services/stats.py) and the opening-hours parser."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from handover_api.models import Handover
from handover_api.services import reviews, stats
from handover_api.services.directory import load_directory
from handover_api.services.principals import Principal
from handover_api.web.charts import bar_chart, daily_chart
from tests.handover_api.conftest import REPO_ROOT
from tests.handover_api.web.test_review_pages import HELMOND, add_conversation

DAY = date(2025, 3, 4)  # a Tuesday; Amsterdam is UTC+1 in March
T = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)  # 10:00 local


def at_local(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=stats.LOCAL_TIME).astimezone(UTC)


def test_outside_hours_use_the_team_calendar() -> None:
    """The dashboard counts by the same working hours as escalation (common/opening_hours)."""
    directory = load_directory(REPO_ROOT / "data")
    senzer = directory.handling("peel61", "werk-inkomen").calendar
    assert senzer.is_open(at_local(8, 30)) and not senzer.is_open(at_local(8, 29))
    assert not senzer.is_open(at_local(10, day=date(2025, 4, 26)))  # Koningsdag (Saturday)
    assert not senzer.is_open(at_local(10, day=date(2025, 4, 21)))  # Tweede paasdag
    assert senzer.is_open(at_local(10, day=date(2025, 4, 22)))


def test_period_defaults_and_checks() -> None:
    assert stats.period(None, None, today=DAY) == (DAY - timedelta(days=29), DAY)
    assert stats.period(DAY, None, today=DAY) == (DAY, DAY + timedelta(days=29))
    with pytest.raises(stats.StatsError):
        stats.period(DAY, DAY - timedelta(days=1))
    with pytest.raises(stats.StatsError):
        stats.period(DAY - timedelta(days=400), DAY)
    assert stats.duration_text(None) == "–" and stats.duration_text(45 * 60) == "45 min"
    assert stats.duration_text(3 * 3600 + 5 * 60) == "3 u 05 min"
    assert stats.duration_text(50 * 3600) == "2 d 2 u"


def test_figures_on_a_known_data_set(
    session: Session, create_handover: Callable[..., dict[str, Any]]
) -> None:
    directory = load_directory(REPO_ROOT / "data")
    # conversations: 3 in the Peel (2 on the 4th, 1 on the 5th), 1 in Velsen (not served),
    # 1 in the Peel before the period
    first, events = add_conversation(session, at=T, messages=HELMOND)  # 2 user, 1 fallback
    second, _ = add_conversation(
        session,
        municipality="GM0762",
        at=T + timedelta(hours=2),
        messages=[("user", "ik zoek werk", "ask_werk", 0.9, False)],
    )
    third, _ = add_conversation(
        session,
        at=T + timedelta(days=1),
        messages=[
            ("user", "wmo?", "ask_wmo", 0.8, False),
            ("user", "huh", "nlu_fallback", 0.1, True),
            ("user", "hallo??", "greet", 0.3, True),
        ],
    )
    add_conversation(session, municipality="GM0453", at=T, messages=HELMOND)
    add_conversation(session, at=T - timedelta(days=10), messages=HELMOND)

    # handovers to peel61: claimed after 30 min and 2 h (median 75 min), one contacted after
    # 1 day; one made at 20:00 local (outside hours); one to gemeente-helmond (other org)
    made = [
        create_handover(conversation_id=first.id),
        create_handover(conversation_id=second.id),
        create_handover(conversation_id=second.id),
        create_handover(
            conversation_id=third.id,
            destination={"level": "local", "organisation": "gemeente-helmond", "team": "wijkteam"},
        ),
    ]
    rows = [session.get(Handover, uuid.UUID(h["id"])) for h in made]
    assert all(rows)
    a, b, c, d = rows  # type: ignore[misc]
    a.created_at, a.claimed_at, a.first_contact_at = (
        T,
        T + timedelta(minutes=30),
        T + timedelta(days=1),
    )
    b.created_at, b.claimed_at = T + timedelta(hours=1), T + timedelta(hours=3)
    c.created_at = at_local(20, day=date(2025, 3, 5))
    c.domain_codes = ",schulden,"
    d.created_at = T
    session.commit()

    # reviewers of peel61 marked two messages, gemeente-helmond one
    peel = Principal(kind="staff", username="r", display_name="R", organisation="peel61")
    for event_id, intent in ((events[0].id, "apply"), (events[2].id, "ask_schuldhulp")):
        reviews.mark_message(
            session, conversation=first, event_id=event_id, correct_intent=intent, principal=peel
        )
    session.commit()

    figures = stats.compute(
        session,
        directory=directory,
        organisation="peel61",
        date_from=DAY,
        date_to=DAY + timedelta(days=2),
        domain_labels={"inkomen": "Inkomen", "schulden": "Schulden"},
    )
    assert figures.conversations == 3
    assert [(p.day, p.count) for p in figures.per_day] == [
        (DAY, 2),
        (DAY + timedelta(days=1), 1),
        (DAY + timedelta(days=2), 0),
    ]
    assert (figures.user_messages, figures.fallback_messages) == (6, 3)
    assert figures.fallback_rate == 0.5 and figures.conversations_with_fallback == 2
    # the third conversation's handover went to gemeente-helmond, but it needed a person
    assert figures.conversations_with_handover == 3 and figures.person_share == 1.0
    assert figures.handovers == 3
    assert [(x.key, x.label, x.count) for x in figures.per_destination] == [
        ("werk-inkomen", "Senzer", 3)
    ]
    assert [(x.key, x.label, x.count) for x in figures.per_life_domain] == [
        ("schulden", "Schulden", 3),
        ("inkomen", "Inkomen", 2),
    ]
    assert figures.claimed == 2 and figures.median_claim_seconds == 75 * 60
    assert figures.contacted == 1 and figures.median_first_contact_seconds == 86_400
    assert figures.outside_hours == 1 and figures.outside_hours_share == pytest.approx(1 / 3)
    assert [(x.label, x.count) for x in figures.misunderstood] == [
        ("ask_bijstand", 1),
        ("nlu_fallback", 1),
    ]

    local = stats.compute(
        session, directory=directory, organisation="gemeente-helmond", date_from=DAY, date_to=DAY
    )
    assert local.conversations == 1 and local.handovers == 1 and local.misunderstood == []


def test_charts_are_accessible_svg() -> None:
    bars = str(bar_chart([("Senzer <b>", 3), ("Wijkteam", 1)], title="Per ontvanger"))
    assert bars.startswith("<svg") and 'role="img"' in bars and 'aria-label="Per ontvanger"' in bars
    assert "<title id=" in bars and "<desc id=" in bars and "Senzer &lt;b&gt;: 3" in bars
    assert "<b>" not in bars
    days = str(daily_chart([(DAY, 2), (DAY + timedelta(days=1), 0)], title="Per dag"))
    assert days.count("<rect") == 2 and "totaal 2" in days
    assert "Geen gegevens" in str(bar_chart([], title="Leeg"))

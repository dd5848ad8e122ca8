"""A new handover is announced to its team and escalated when nobody claims it in time.

With a fake clock across an evening, a weekend and public holidays (the team's working hours,
``handling:`` in data/regions), a real local SMTP server (aiosmtpd) receiving the e-mails, and
the timeline, the inbox and the API showing what happened. The senders themselves are tested
in tests/handover_api/notify.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.opening_hours import LOCAL_TIME
from handover_api.cli import worker_round
from handover_api.core.config import Settings
from handover_api.models import Handover, HandoverEvent, HandoverNotification
from handover_api.services import escalation, notifications
from handover_api.services.directory import Directory, NotifyConfig, load_directory
from tests.handover_api.conftest import REPO_ROOT, payload
from tests.handover_api.notify.test_notify_email import free_port
from tests.handover_api.notify.test_notify_webhook import Receiver, running_receiver
from tests.handover_api.web.test_inbox import row_of
from tests.handover_api.web.test_staff_pages import login

HELMOND = {
    "level": "local",
    "organisation": "gemeente-helmond",
    "team": "wijkteam",
    "reason": "WMO: lokaal wijkteam.",
}
DIRECTORY = load_directory(REPO_ROOT / "data")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIME).astimezone(UTC)


@dataclass
class Inbox:
    """What the local SMTP server received."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(raw)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


@pytest.fixture
def notify_settings(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:
    """The test settings with the local SMTP server, notifying example configurations."""
    return settings.model_copy(
        update={
            "VOORDEUR_SMTP_HOST": "127.0.0.1",
            "VOORDEUR_SMTP_PORT": smtp[1],
            "VOORDEUR_NOTIFY_EXAMPLES": True,
            "VOORDEUR_PUBLIC_API_URL": "https://voordeur.test",
        }
    )


@dataclass
class _TestDatabase:
    """The app's database for its background tasks: the test's session (one transaction that
    is rolled back at the end), so the API's immediate attempt sees the new handover."""

    session: Session

    def session_factory(self) -> contextlib.nullcontext[Session]:
        return contextlib.nullcontext(self.session)


@pytest.fixture
def notifying(app: Any, notify_settings: Settings, session: Session) -> Iterator[None]:
    notifications.configure(notify_settings)
    app.state.settings = notify_settings
    app.state.db = _TestDatabase(session)
    yield
    notifications._include_examples = False


def _make(
    session: Session, create_handover: Callable[..., dict[str, Any]], created: datetime, **kw: Any
) -> Handover:
    """A Helmond wijkteam handover created at ``created`` (the fake clock)."""
    body = create_handover(destination=HELMOND, **kw)
    handover = session.get_one(Handover, uuid.UUID(body["id"]))
    handover.created_at = created
    handover.claim_due_at = notifications.claim_deadline(handover, DIRECTORY)
    session.commit()
    return handover


def _events(session: Session, handover: Handover) -> list[str]:
    return list(
        session.scalars(
            select(HandoverEvent.kind)
            .where(HandoverEvent.handover_id == handover.id)
            .order_by(HandoverEvent.at, HandoverEvent.id)
        )
    )


@pytest.mark.parametrize(
    ("created", "priority", "due"),
    [
        # An evening: 1 working hour on Wednesday, 3 on Thursday morning.
        (local(date(2026, 12, 2), 16), "normal", local(date(2026, 12, 3), 12)),
        # A weekend: Friday 16:30, then Monday from 9:00.
        (local(date(2026, 12, 4), 16, 30), "normal", local(date(2026, 12, 7), 12, 30)),
        # Christmas Eve is Helmond's closing day; 25 and 26 are holidays, 27 is Sunday.
        (local(date(2026, 12, 24), 10), "normal", local(date(2026, 12, 28), 13)),
        # Koningsdag (Tuesday 27 April 2027) does not count.
        (local(date(2027, 4, 26), 16), "normal", local(date(2027, 4, 28), 12)),
        # Urgent: one working hour, also across the night.
        (local(date(2026, 12, 2), 16, 30), "urgent", local(date(2026, 12, 3), 9, 30)),
    ],
)
def test_escalated_exactly_when_the_claim_time_has_run_out(
    session: Session,
    create_handover: Callable[..., dict[str, Any]],
    created: datetime,
    priority: str,
    due: datetime,
) -> None:
    handover = _make(session, create_handover, created, priority=priority)
    assert handover.claim_due_at == due
    assert escalation.escalate_due(session, due - timedelta(minutes=1), directory=DIRECTORY) == 0
    assert handover.escalated_at is None
    assert escalation.escalate_due(session, due, directory=DIRECTORY) == 1
    session.refresh(handover)
    assert handover.escalated_at == due
    assert _events(session, handover).count("escalated") == 1
    # Never twice.
    assert escalation.escalate_due(session, due + timedelta(hours=5), directory=DIRECTORY) == 0


def test_a_claimed_handover_is_not_escalated_and_a_released_one_starts_again(
    session: Session,
    client: TestClient,
    create_handover: Callable[..., dict[str, Any]],
    helmond_headers: dict[str, str],
) -> None:
    handover = _make(session, create_handover, local(date(2026, 12, 2), 10))
    response = client.patch(
        f"/api/v1/handovers/{handover.id}", json={"status": "claimed"}, headers=helmond_headers
    )
    assert response.status_code == 200, response.text
    later = local(date(2026, 12, 9), 10)
    assert escalation.escalate_due(session, later, directory=DIRECTORY) == 0
    # Put back to new: nobody has it, so the team's claim time starts again from now.
    before = datetime.now(UTC)
    client.patch(
        f"/api/v1/handovers/{handover.id}", json={"status": "new"}, headers=helmond_headers
    )
    session.refresh(handover)
    assert handover.claim_due_at is not None and handover.claim_due_at > before
    assert escalation.escalate_due(session, before, directory=DIRECTORY) == 0
    due = handover.claim_due_at
    assert escalation.escalate_due(session, due, directory=DIRECTORY) == 1


def test_forwarding_to_another_team_restarts_the_claim_and_tells_that_team(
    session: Session,
    client: TestClient,
    notifying: None,
    smtp: tuple[Inbox, int],
    create_handover: Callable[..., dict[str, Any]],
    helmond_headers: dict[str, str],
    peel_headers: dict[str, str],
) -> None:
    inbox, _ = smtp
    kcc = {**HELMOND, "team": "kcc", "reason": "Algemene vraag."}
    body = create_handover(destination=kcc)
    assert inbox.messages == []  # the contact centre has no notify: block
    url = f"/api/v1/handovers/{body['id']}/forward"
    client.post(f"/api/v1/handovers/{body['id']}/assign", json={"username": "bram"},
                headers=helmond_headers)  # fmt: skip
    response = client.post(url, json={"team": "wijkteam"}, headers=helmond_headers)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["destination"]["team"] == "wijkteam" and out["status"] == "new"
    assert out["assigned_to"] is None and out["claim_due_at"] is not None
    assert [to for to, _ in inbox.messages] == [["wijkteam-overdrachten@helmond.example.nl"]]
    events = client.get(f"/api/v1/handovers/{body['id']}/events", headers=helmond_headers)
    forwarded = [e for e in events.json() if e["kind"] == "forwarded"]
    assert forwarded[0]["detail"] == {
        "to": "gemeente-helmond", "team": "wijkteam", "from_team": "kcc",
    }  # fmt: skip
    # Not to the same team, not to a team the organisation does not have, not by others.
    assert client.post(url, json={"team": "wijkteam"}, headers=helmond_headers).status_code == 409
    assert client.post(url, json={"team": "wmo"}, headers=helmond_headers).status_code == 422
    assert client.post(url, json={"team": "kcc"}, headers=peel_headers).status_code == 404
    # On the case page: the form, and the timeline in words.
    login(client, helmond_headers)
    page = client.get(f"/staff/handovers/{body['id']}").text
    assert 'id="doorsturen-formulier"' in page and "Doorgestuurd naar" in page


def test_new_handover_mails_the_team_and_escalation_mails_the_coordinator(
    session: Session,
    client: TestClient,
    app: Any,
    notify_settings: Settings,
    notifying: None,
    smtp: tuple[Inbox, int],
    create_handover: Callable[..., dict[str, Any]],
    helmond_headers: dict[str, str],
) -> None:
    inbox, _ = smtp
    body = create_handover(destination=HELMOND, priority="urgent")
    handover = session.get_one(Handover, uuid.UUID(body["id"]))

    assert len(inbox.messages) == 1, "the team is told at once"
    recipients, mail = inbox.messages[0]
    assert recipients == ["wijkteam-overdrachten@helmond.example.nl"]
    assert mail["Subject"].startswith("SPOED")
    assert handover.reference in mail["Subject"]
    text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"https://voordeur.test/staff/handovers/{handover.id}" in text
    resident = payload()["contact"]
    for secret in (resident["name"], resident["phone"], resident["email"], "ontslagen"):
        assert secret not in text and secret not in str(mail)
    row = session.scalar(
        select(HandoverNotification).where(HandoverNotification.handover_id == handover.id)
    )
    assert row is not None and (row.kind, row.status, row.attempts) == ("new", "done", 1)
    events = client.get(f"/api/v1/handovers/{handover.id}/events", headers=helmond_headers)
    kinds = [e["kind"] for e in events.json()]
    assert "team_notified" in kinds

    # Nobody claims it: the worker escalates it after one working hour.
    assert handover.claim_due_at is not None
    late = handover.claim_due_at + timedelta(minutes=1)
    escalation.escalate_due(session, late, directory=DIRECTORY)
    notifications.deliver_due(session, notify_settings, late, directory=DIRECTORY)
    assert len(inbox.messages) == 2
    recipients, mail = inbox.messages[1]
    assert recipients == ["coordinator-wijkteam@helmond.example.nl"]
    assert "niet opgepakt" in mail["Subject"].lower()

    # The inbox and the API show it.
    listed = client.get("/api/v1/handovers", headers=helmond_headers).json()["items"]
    mine = next(item for item in listed if item["id"] == body["id"])
    assert mine["escalated_at"] is not None and mine["claim_due_at"] is not None
    login(client, helmond_headers)
    row = row_of(client.get("/staff/inbox").text, handover.reference)
    assert "Opgeschaald: niet op tijd opgepakt" in row
    detail = client.get(f"/staff/handovers/{handover.id}").text
    assert "Opgeschaald: niet opgepakt binnen 1 werkuur" in detail
    events = client.get(f"/api/v1/handovers/{handover.id}/events", headers=helmond_headers)
    kinds = [e["kind"] for e in events.json()]
    assert kinds.count("team_notified") == 2 and "escalated" in kinds


def test_smtp_down_keeps_the_notification_and_retries(
    session: Session,
    app: Any,
    notify_settings: Settings,
    notifying: None,
    smtp: tuple[Inbox, int],
    create_handover: Callable[..., dict[str, Any]],
) -> None:
    inbox, _ = smtp
    app.state.settings = notify_settings.model_copy(update={"VOORDEUR_SMTP_PORT": free_port()})
    body = create_handover(destination=HELMOND)  # the immediate attempt finds no server
    handover = session.get_one(Handover, uuid.UUID(body["id"]))
    row = session.scalar(
        select(HandoverNotification).where(HandoverNotification.handover_id == handover.id)
    )
    assert row is not None and (row.status, row.attempts) == ("pending", 1)
    assert row.last_error and "ConnectionRefusedError" in row.last_error
    assert "Jan" not in row.last_error
    assert inbox.messages == [] and "team_notified" not in _events(session, handover)
    # Not again before the backoff; after it, through the server that is back, once.
    now = datetime.now(UTC)
    assert notifications.deliver_due(session, notify_settings, now, directory=DIRECTORY).done == 0
    later = now + timedelta(minutes=2)
    report = notifications.deliver_due(session, notify_settings, later, directory=DIRECTORY)
    assert (report.done, len(inbox.messages)) == (1, 1)
    assert _events(session, handover).count("team_notified") == 1


def test_worker_round_reports_counts(
    session: Session,
    notify_settings: Settings,
    notifying: None,
    smtp: tuple[Inbox, int],
    create_handover: Callable[..., dict[str, Any]],
) -> None:
    inbox, _ = smtp
    handover = _make(session, create_handover, local(date(2026, 12, 2), 10))
    assert len(inbox.messages) == 1  # the API's immediate attempt
    handover.claim_due_at = datetime.now(UTC) - timedelta(minutes=1)  # overdue by now
    session.commit()
    counts = worker_round(notify_settings, session, DIRECTORY)
    assert counts["handovers escalated"] == 1
    assert counts["notifications sent"] == 1  # the escalation
    assert len(inbox.messages) == 2
    assert worker_round(notify_settings, session, DIRECTORY)["notifications sent"] == 0


def test_no_notification_for_an_example_configuration_in_production_mode(
    session: Session, create_handover: Callable[..., dict[str, Any]]
) -> None:
    notifications._include_examples = False
    handover = _make(session, create_handover, local(date(2026, 12, 2), 10))
    assert (
        session.scalar(
            select(HandoverNotification).where(HandoverNotification.handover_id == handover.id)
        )
        is None
    )
    assert handover.claim_due_at is not None  # escalation works without a channel too


def test_a_webhook_team_gets_signed_posts_for_new_and_escalated(
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    notify_settings: Settings,
    notifying: None,
    webhook_receiver: Receiver,
    create_handover: Callable[..., dict[str, Any]],
) -> None:
    """A team configured with ``channel: webhook`` (not an example) through the whole outbox:
    the local receiver checks every signature (tests/handover_api/notify)."""
    receiver = webhook_receiver
    organisations = dict(DIRECTORY.organisations)
    helmond = organisations["gemeente-helmond"]
    teams = dict(helmond.teams)
    teams["wijkteam"] = replace(
        teams["wijkteam"],
        notify=NotifyConfig(
            channel="webhook",
            url=receiver.hook("/nieuw"),
            escalate_url=receiver.hook("/opgeschaald"),
            secret_env="VOORDEUR_TEST_WEBHOOK_SECRET",
            example=False,
        ),
    )
    organisations["gemeente-helmond"] = replace(helmond, teams=teams)
    directory = Directory(
        regions=DIRECTORY.regions,
        organisations=organisations,
        municipalities=DIRECTORY.municipalities,
    )
    monkeypatch.setattr(notifications, "current", lambda: directory)
    monkeypatch.setenv("VOORDEUR_TEST_WEBHOOK_SECRET", receiver.secret)
    notifications._include_examples = False  # a real configuration needs no demo switch

    body = create_handover(destination=HELMOND)
    assert [r.path for r in receiver.requests] == ["/nieuw"]
    first = receiver.requests[0]
    assert first.verified and json.loads(first.body)["reference"] == body["reference"]
    assert "Jan" not in first.body.decode() and "0612345678" not in first.body.decode()

    handover = session.get_one(Handover, uuid.UUID(body["id"]))
    assert handover.claim_due_at is not None
    late = handover.claim_due_at + timedelta(seconds=1)
    assert escalation.escalate_due(session, late, directory=directory) == 1
    notifications.deliver_due(session, notify_settings, late, directory=directory)
    assert [r.path for r in receiver.requests] == ["/nieuw", "/opgeschaald"]
    second = receiver.requests[1]
    assert second.verified and json.loads(second.body)["event"] == "handover.escalated"
    assert second.headers["X-Voordeur-Delivery"] != first.headers["X-Voordeur-Delivery"]

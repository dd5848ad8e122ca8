"""The export outbox: a pending row on creation, delivery with backoff, idempotent retries."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.export.klantinteracties import clear_actor_cache
from handover_api.models import AuditLog, Handover, HandoverExport
from handover_api.services import exports, outbox
from handover_api.services.directory import Directory, ExportConfig, load_directory
from tests.handover_api.conftest import REPO_ROOT
from tests.handover_api.export.fake_klantinteracties import FakeKlantinteracties, running

TOKEN_ENV = "VOORDEUR_TEST_KI_TOKEN"
GESPREK = "UNIEKE-GESPREKSTEKST"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKlantinteracties]:
    clear_actor_cache()
    with running() as server:
        monkeypatch.setenv(TOKEN_ENV, server.token)
        server.add_actor("senzer-werk-inkomen")
        yield server
    clear_actor_cache()


@pytest.fixture
def directory(fake: FakeKlantinteracties, monkeypatch: pytest.MonkeyPatch) -> Directory:
    """The repository's configuration with an active export for peel61 (the payload's)."""
    real = load_directory(REPO_ROOT / "data")
    config = ExportConfig(
        kind="klantinteracties",
        base_url=fake.url,
        token_env=TOKEN_ENV,
        team_actor_identifier="senzer-werk-inkomen",
        example=False,
    )
    organisations = dict(real.organisations)
    organisations["peel61"] = replace(organisations["peel61"], export=config)
    result = Directory(
        regions=real.regions, organisations=organisations, municipalities=real.municipalities
    )
    monkeypatch.setattr(exports, "current", lambda: result)
    return result


def _row(session: Session, handover_id: str) -> HandoverExport | None:
    return session.scalar(
        select(HandoverExport).where(HandoverExport.handover_id == uuid.UUID(handover_id))
    )


def _long_transcript() -> list[dict[str, Any]]:
    start = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    return [
        {
            "event_id": f"e{i}",
            "sender": "user" if i % 2 else "bot",
            "text": f"{GESPREK} bericht {i} " + "met een lange uitleg " * 40,
            "at": (start + timedelta(seconds=i)).isoformat(),
        }
        for i in range(60)
    ]


def test_no_export_row_without_an_active_configuration(
    session: Session, create_handover: Callable[..., dict[str, Any]]
) -> None:
    """The repository's own configuration: every organisation exports nothing (Helmond's
    block is an example and is never exported to)."""
    created = create_handover()
    assert _row(session, created["id"]) is None
    helmond = load_directory(REPO_ROOT / "data").organisation("gemeente-helmond")
    assert helmond is not None and helmond.export is not None and helmond.export.example
    assert exports.config_for(load_directory(REPO_ROOT / "data"), "gemeente-helmond") is None


def test_creating_a_handover_queues_one_pending_export(
    session: Session,
    directory: Directory,
    create_handover: Callable[..., dict[str, Any]],
) -> None:
    created = create_handover()
    row = _row(session, created["id"])
    assert row is not None
    assert (row.status, row.exporter, row.organisation, row.attempts) == (
        "pending", "klantinteracties", "peel61", 0,
    )  # fmt: skip
    handover = session.get_one(Handover, row.handover_id)
    assert exports.enqueue(session, handover, directory=directory) is row


def test_deliver_due_exports_and_never_sends_the_transcript(
    session: Session,
    directory: Directory,
    fake: FakeKlantinteracties,
    create_handover: Callable[..., dict[str, Any]],
) -> None:
    summary = "Inwoner is ontslagen en heeft schulden. " * 60  # > 1000 characters
    created = create_handover(transcript=_long_transcript(), summary=summary.strip())
    now = datetime.now(UTC)

    report = exports.deliver_due(session, now, directory=directory)

    assert (report.done, report.retrying, report.failed) == (1, 0, 0)
    row = _row(session, created["id"])
    assert row is not None
    assert row.status == "done" and row.done_at is not None and row.last_error is None
    assert row.remote_ids["klantcontact"] in fake.store["klantcontacten"]
    kc = fake.store["klantcontacten"][row.remote_ids["klantcontact"]]
    assert len(kc["inhoud"]) <= 1000 and kc["inhoud"].endswith("(volledige tekst in bijlage)")
    assert kc["plaatsgevondenOp"] == "2025-03-04T10:00:00+00:00"  # the conversation's start
    # The long transcript is attached by reference, never sent (whole or in pieces).
    assert GESPREK not in "".join(str(r.body) for r in fake.requests)
    assert (
        fake.store["bijlagen"][row.remote_ids["bijlage"]]["bijlageidentificator"]["objectId"]
        == created["reference"]
    )
    taak = fake.store["internetaken"][row.remote_ids["internetaak"]]
    assert "Het volledige gesprek (60 berichten)" in taak["toelichting"]
    # The phone number "06-12345678" of the payload, as the API validates it.
    phone = fake.store["digitaleadressen"][row.remote_ids["digitaal_adres_telefoonnummer"]]
    assert phone["adres"] == "0612345678"

    audit = session.scalars(select(AuditLog).where(AuditLog.action == "handover.export")).all()
    assert [a.detail["outcome"] for a in audit if a.detail] == ["done"]

    # Done is done: nothing is due any more.
    assert exports.deliver_due(session, now + timedelta(days=1), directory=directory).done == 0


def test_retry_after_500_continues_later_without_duplicates(
    session: Session,
    directory: Directory,
    fake: FakeKlantinteracties,
    create_handover: Callable[..., dict[str, Any]],
) -> None:
    created = create_handover()
    now = datetime.now(UTC)
    fake.fail("POST", "digitaleadressen", 500)

    report = exports.deliver_due(session, now, directory=directory)

    assert report.retrying == 1
    row = _row(session, created["id"])
    assert row is not None
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "HTTP 500 at POST /digitaleadressen"
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert "klantcontact" in row.remote_ids  # saved before the failure

    # Not due yet one second later; due after the backoff.
    assert exports.deliver_due(session, now + timedelta(seconds=1), directory=directory).done == 0
    report = exports.deliver_due(session, now + timedelta(minutes=2), directory=directory)
    assert report.done == 1
    session.refresh(row)
    assert (row.status, row.attempts) == ("done", 2)
    assert len(fake.all("klantcontacten")) == 1
    assert len(fake.posts("maak-klantcontact")) == 1
    assert len(fake.all("digitaleadressen")) == 2
    assert len(fake.all("internetaken")) == 1


def test_backoff_grows_and_caps() -> None:
    assert [outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert outbox.backoff(50) == timedelta(hours=6)


def test_validation_error_fails_at_once_and_can_be_requeued(
    session: Session,
    directory: Directory,
    fake: FakeKlantinteracties,
    create_handover: Callable[..., dict[str, Any]],
) -> None:
    created = create_handover()
    now = datetime.now(UTC)
    fake.fail("POST", "internetaken", 400)
    assert exports.deliver_due(session, now, directory=directory).failed == 1
    row = _row(session, created["id"])
    assert row is not None and row.status == "failed"
    assert "Jan" not in (row.last_error or "") and "06" not in (row.last_error or "")

    assert exports.retry_failed(session, now) == 1
    assert exports.deliver_due(session, now, directory=directory).done == 1
    assert len(fake.all("klantcontacten")) == 1
    assert len(fake.all("internetaken")) == 1


def test_gives_up_after_max_attempts(
    session: Session,
    directory: Directory,
    fake: FakeKlantinteracties,
    create_handover: Callable[..., dict[str, Any]],
) -> None:
    created = create_handover()
    row = _row(session, created["id"])
    assert row is not None
    row.attempts = outbox.MAX_ATTEMPTS - 1
    session.commit()
    fake.fail("GET", "actoren", 503)
    assert exports.deliver_due(session, datetime.now(UTC), directory=directory).failed == 1
    session.refresh(row)
    assert (row.status, row.attempts) == ("failed", outbox.MAX_ATTEMPTS)


def test_withdrawn_consent_sends_no_contact_data(
    session: Session,
    directory: Directory,
    fake: FakeKlantinteracties,
    create_handover: Callable[..., dict[str, Any]],
) -> None:
    created = create_handover()
    row = _row(session, created["id"])
    assert row is not None
    handover = session.get_one(Handover, row.handover_id)
    handover.consent_withdrawn_at = datetime.now(UTC)
    session.commit()

    assert exports.deliver_due(session, datetime.now(UTC), directory=directory).done == 1
    assert fake.posts("digitaleadressen") == []
    sent = "".join(str(r.body) for r in fake.requests)
    assert "Jan" not in sent and "0612345678" not in sent and "ontslagen" not in sent

"""E-mail notifications (``handover_api/notify/email.py``) against a real local SMTP server.

An ``aiosmtpd`` controller on 127.0.0.1 records every envelope; its RCPT answer can be set
per test (550 refuses for good, 451 for now). Also: the wording of ``base.subject`` and
``base.body_text``, and that a notification cannot carry resident data.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from handover_api.notify import (
    EmailSender,
    Notification,
    NotifyError,
    SmtpSettings,
    body_text,
    subject,
)

HANDOVER_ID = "5c1c3d2e-0000-4000-8000-000000000001"
DELIVERY_ID = "9f0e8d7c-1111-4222-8333-444455556666"
TEAM = "het wijkteam Helmond"
LINK = f"https://voordeur.example.nl/staff/handovers/{HANDOVER_ID}"


def notification(**overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "kind": "new",
        "delivery_id": DELIVERY_ID,
        "handover_id": HANDOVER_ID,
        "reference": "VD-7K3P-92",
        "urgent": False,
        "organisation_name": "Gemeente Helmond",
        "team_name": TEAM,
        "link": LINK,
        "created_at": datetime(2026, 12, 8, 9, 30, tzinfo=UTC),
        "claim_due_at": datetime(2026, 12, 8, 13, 30, tzinfo=UTC),  # 14.30 in Amsterdam
    }
    values.update(overrides)
    return Notification(**values)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Recorder:
    """An aiosmtpd handler that keeps every accepted envelope; ``rcpt_reply`` answers RCPT
    for addresses it names (e.g. ``550 5.1.1 no such user``)."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.rcpt_reply: dict[str, str] = {}

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.rcpt_reply.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        out = []
        for envelope in self.envelopes:
            raw = envelope.original_content or b""
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            out.append(parsed)
        return out


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, SmtpSettings]]:
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            handler,
            SmtpSettings(
                host="127.0.0.1", port=port, from_address="voordeur@test.example", timeout=5.0
            ),
        )
    finally:
        controller.stop()


# --- wording -------------------------------------------------------------------------------


def test_subjects_per_kind_and_priority() -> None:
    assert subject(notification()) == "Nieuwe overdracht VD-7K3P-92 voor het wijkteam Helmond"
    assert (
        subject(notification(urgent=True))
        == "SPOED: nieuwe overdracht VD-7K3P-92 voor het wijkteam Helmond"
    )
    assert (
        subject(notification(kind="escalation"))
        == "Niet opgepakt: overdracht VD-7K3P-92 voor het wijkteam Helmond"
    )
    assert (
        subject(notification(kind="escalation", urgent=True))
        == "SPOED – niet opgepakt: overdracht VD-7K3P-92 voor het wijkteam Helmond"
    )
    # A line break in a configured team name never reaches the header.
    assert subject(notification(team_name="het wijkteam\nHelmond")).endswith(
        "voor het wijkteam Helmond"
    )


def test_body_of_a_new_handover_in_amsterdam_time() -> None:
    text = body_text(notification())
    assert text.splitlines() == [
        "Er is een nieuwe overdracht voor het wijkteam Helmond (Gemeente Helmond).",
        "",
        "Kenmerk: VD-7K3P-92",
        "Graag oppakken vóór dinsdag 8 december 14.30 uur.",
        "",
        "Open de overdracht in Voordeur:",
        LINK,
        "",
        "Deze e-mail bevat bewust geen persoonsgegevens. "
        "Gegevens van de inwoner staan alleen in Voordeur.",
        "Dit is een automatisch bericht van Voordeur.",
    ]


def test_body_in_summer_time_and_without_deadline() -> None:
    summer = notification(claim_due_at=datetime(2026, 7, 1, 12, 5, tzinfo=UTC))
    assert "Graag oppakken vóór woensdag 1 juli 14.05 uur." in body_text(summer)
    naive = notification(claim_due_at=datetime(2026, 7, 1, 12, 5))  # SQLite: read as UTC
    assert "woensdag 1 juli 14.05 uur" in body_text(naive)
    assert "Graag zo snel mogelijk oppakken." in body_text(notification(claim_due_at=None))


def test_body_of_an_urgent_escalation() -> None:
    text = body_text(notification(kind="escalation", urgent=True))
    assert text.startswith(
        "Een overdracht voor het wijkteam Helmond (Gemeente Helmond) is niet op tijd opgepakt."
    )
    assert "Prioriteit: spoed" in text
    assert "Dit had opgepakt moeten worden vóór dinsdag 8 december 14.30 uur." in text
    assert "Zorg dat iemand de overdracht nu oppakt." in text
    assert "Graag oppakken" not in text
    assert LINK in text


def test_a_notification_has_no_field_for_resident_data() -> None:
    # Adding a field here is a privacy decision: these leave Voordeur by mail and webhook.
    assert {f.name for f in dataclasses.fields(Notification)} == {
        "kind",
        "delivery_id",
        "handover_id",
        "reference",
        "urgent",
        "organisation_name",
        "team_name",
        "link",
        "created_at",
        "claim_due_at",
    }


# --- delivery ------------------------------------------------------------------------------


def test_mail_arrives_with_headers_recipients_and_link(
    smtp: tuple[Recorder, SmtpSettings],
) -> None:
    handler, settings = smtp
    to = ("wijkteam@helmond.example", "coordinator@helmond.example")
    EmailSender(settings).send(notification(), destination=to, secret=None)

    [envelope] = handler.envelopes
    assert envelope.mail_from == "voordeur@test.example"
    assert envelope.rcpt_tos == list(to)
    [msg] = handler.messages()
    assert msg["From"] == "voordeur@test.example"
    assert [a.addr_spec for a in msg["To"].addresses] == list(to)
    assert msg["Subject"] == "Nieuwe overdracht VD-7K3P-92 voor het wijkteam Helmond"
    assert msg["Message-ID"] == f"<{DELIVERY_ID}@voordeur>"
    assert msg["X-Voordeur-Reference"] == "VD-7K3P-92"
    assert msg["X-Voordeur-Event"] == "handover.created"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"] is not None
    assert msg["Importance"] is None and msg["X-Priority"] is None
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content().replace("\r\n", "\n") == body_text(notification())
    assert LINK in msg.get_content()


def test_urgent_escalation_headers(smtp: tuple[Recorder, SmtpSettings]) -> None:
    handler, settings = smtp
    n = notification(kind="escalation", urgent=True)
    EmailSender(settings).send(n, destination=("teamleider@helmond.example",))
    [msg] = handler.messages()
    assert (
        msg["Subject"] == "SPOED – niet opgepakt: overdracht VD-7K3P-92 voor het wijkteam Helmond"
    )
    assert msg["X-Voordeur-Event"] == "handover.escalated"
    assert msg["Importance"] == "high"
    assert msg["X-Priority"] == "1"


def test_message_id_is_stable_across_retries(smtp: tuple[Recorder, SmtpSettings]) -> None:
    handler, settings = smtp
    sender = EmailSender(settings)
    sender.send(notification(), destination=("a@helmond.example",))
    sender.send(notification(), destination=("a@helmond.example",))
    sender.send(notification(delivery_id="other-delivery"), destination=("a@helmond.example",))
    ids = [m["Message-ID"] for m in handler.messages()]
    assert ids[0] == ids[1] == f"<{DELIVERY_ID}@voordeur>"
    assert ids[2] == "<other-delivery@voordeur>"


def test_mail_holds_only_reference_team_and_link(smtp: tuple[Recorder, SmtpSettings]) -> None:
    handler, settings = smtp
    EmailSender(settings).send(notification(urgent=True), destination=("a@helmond.example",))
    [msg] = handler.messages()
    text = msg.get_content()
    lines = [line for line in text.splitlines() if line]
    assert lines == [
        "Er is een nieuwe overdracht voor het wijkteam Helmond (Gemeente Helmond).",
        "Kenmerk: VD-7K3P-92",
        "Prioriteit: spoed",
        "Graag oppakken vóór dinsdag 8 december 14.30 uur.",
        "Open de overdracht in Voordeur:",
        LINK,
        "Deze e-mail bevat bewust geen persoonsgegevens. "
        "Gegevens van de inwoner staan alleen in Voordeur.",
        "Dit is een automatisch bericht van Voordeur.",
    ]
    # Nothing that looks like a phone number, a BSN or an e-mail address outside the link.
    without_link = text.replace(LINK, "")
    assert not re.search(r"\d[\d\s-]{5,}\d", without_link)
    assert "@" not in without_link


def test_no_host_configured_waits_in_the_outbox() -> None:
    sender = EmailSender(SmtpSettings(host=""))
    with pytest.raises(NotifyError) as caught:
        sender.send(notification(), destination=("a@helmond.example",))
    assert caught.value.retry is True
    assert str(caught.value) == "SMTP not configured (VOORDEUR_SMTP_HOST)"


def test_no_address_is_permanent(smtp: tuple[Recorder, SmtpSettings]) -> None:
    _, settings = smtp
    with pytest.raises(NotifyError) as caught:
        EmailSender(settings).send(notification(), destination=())
    assert caught.value.retry is False


def test_server_down_is_retried() -> None:
    port = free_port()  # nothing listens here
    sender = EmailSender(SmtpSettings(host="127.0.0.1", port=port, timeout=2.0))
    with pytest.raises(NotifyError) as caught:
        sender.send(notification(), destination=("a@helmond.example",))
    assert caught.value.retry is True
    assert str(caught.value) == f"SMTP 127.0.0.1:{port}: ConnectionRefusedError"


def test_server_that_never_greets_times_out_and_is_retried() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        sender = EmailSender(SmtpSettings(host="127.0.0.1", port=port, timeout=0.5))
        with pytest.raises(NotifyError) as caught:
            sender.send(notification(), destination=("a@helmond.example",))
    assert caught.value.retry is True
    assert str(caught.value) == f"SMTP 127.0.0.1:{port}: SMTPServerDisconnected (TimeoutError)"


def test_550_on_rcpt_is_permanent(smtp: tuple[Recorder, SmtpSettings]) -> None:
    handler, settings = smtp
    handler.rcpt_reply["gone@helmond.example"] = "550 5.1.1 <gone@helmond.example>: no such user"
    with pytest.raises(NotifyError) as caught:
        EmailSender(settings).send(notification(), destination=("gone@helmond.example",))
    assert caught.value.retry is False
    assert "550" in str(caught.value)
    assert "gone@" not in str(caught.value)  # the server's reply text is never stored
    assert handler.envelopes == []


def test_451_on_rcpt_is_retried(smtp: tuple[Recorder, SmtpSettings]) -> None:
    handler, settings = smtp
    handler.rcpt_reply["busy@helmond.example"] = "451 4.7.1 greylisted, try again later"
    with pytest.raises(NotifyError) as caught:
        EmailSender(settings).send(notification(), destination=("busy@helmond.example",))
    assert caught.value.retry is True
    assert "451" in str(caught.value)


def test_some_recipients_refused_still_counts_as_delivered(
    smtp: tuple[Recorder, SmtpSettings],
) -> None:
    handler, settings = smtp
    handler.rcpt_reply["gone@helmond.example"] = "550 5.1.1 no such user"
    EmailSender(settings).send(
        notification(), destination=("gone@helmond.example", "team@helmond.example")
    )
    [envelope] = handler.envelopes
    assert envelope.rcpt_tos == ["team@helmond.example"]


def test_starttls_against_a_server_without_it_is_permanent(
    smtp: tuple[Recorder, SmtpSettings],
) -> None:
    _, settings = smtp
    sender = EmailSender(dataclasses.replace(settings, starttls=True))
    with pytest.raises(NotifyError) as caught:
        sender.send(notification(), destination=("a@helmond.example",))
    assert caught.value.retry is False
    assert "SMTPNotSupportedError" in str(caught.value)


class _Authenticator:
    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"voordeur",
            b"right",
        )
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@pytest.fixture
def smtp_auth() -> Iterator[tuple[Recorder, SmtpSettings]]:
    handler = Recorder()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_Authenticator(),
        auth_require_tls=False,  # a test server without a certificate
    )
    controller.start()
    try:
        yield handler, SmtpSettings(host="127.0.0.1", port=port, timeout=5.0)
    finally:
        controller.stop()


def test_login_is_used_and_a_refused_login_is_permanent(
    smtp_auth: tuple[Recorder, SmtpSettings],
) -> None:
    handler, settings = smtp_auth
    good = dataclasses.replace(settings, username="voordeur", password="right")
    EmailSender(good).send(notification(), destination=("a@helmond.example",))
    assert len(handler.envelopes) == 1

    bad = dataclasses.replace(settings, username="voordeur", password="wrong")
    with pytest.raises(NotifyError) as caught:
        EmailSender(bad).send(notification(), destination=("a@helmond.example",))
    assert caught.value.retry is False
    assert "login refused (535)" in str(caught.value)
    assert "wrong" not in repr(bad)

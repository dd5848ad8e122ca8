"""Messages between professional and resident: sending through Twilio (a local fake of its
REST API), the WhatsApp 24-hour rule, refusals, delivery status callbacks and the resident's
answers relayed by the assistant's Twilio channel."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from handover_api.core.config import Settings
from handover_api.models import AuditLog, Handover, HandoverMedia, HandoverMessage, utcnow
from handover_api.services import media, messaging
from handover_api.services.directory import load_directory
from tests.handover_api.conftest import REPO_ROOT
from tests.handover_api.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SMS_NUMBER,
    STATUS_URL,
    WHATSAPP_NUMBER,
    FakeTwilio,
    FakeTwilioServer,
    twilio_settings,
)

Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]

PHONE = "+31612345678"  # the payload's contact phone 06-12345678 in E.164
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60
PDF = b"%PDF-1.7\n" + b"\x00" * 60


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilioServer() as fake:
        yield fake


@pytest.fixture
def settings(db_url: str, fake_twilio: FakeTwilio) -> Settings:
    result: Settings = twilio_settings(db_url, fake_twilio.url)
    return result


def recent_transcript(hours_ago: float) -> list[dict[str, Any]]:
    at = utcnow() - timedelta(hours=hours_ago)
    return [
        {"event_id": "u1", "sender": "user", "text": "Graag via WhatsApp", "at": at.isoformat()}
    ]


def handover_on(create: Create, channel: str, **overrides: Any) -> dict[str, Any]:
    contact = {"name": "Jan Jansen", "phone": "06-12345678", "preferred": "phone"}
    return create(channel=channel, contact=contact, **overrides)


def asten(create: Create, channel: str = "whatsapp") -> dict[str, Any]:
    """A handover to Gemeente Asten: an organisation without a WhatsApp template."""
    return handover_on(
        create,
        channel,
        municipality={"code": "GM0743", "name": "Asten"},
        destination={"level": "local", "organisation": "gemeente-asten", "team": "sociaal-team"},
    )


def send(client: TestClient, headers: Headers, handover_id: str, text: str) -> Any:
    return client.post(
        f"/api/v1/handovers/{handover_id}/messages", json={"text": text}, headers=headers
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def inbound(
    client: TestClient,
    headers: Headers,
    *,
    channel: str = "sms",
    phone: str = PHONE,
    sid: str | None = None,
    body: str = "Dank u, hier is de brief",
    files: list[tuple[str, bytes]] | None = None,
) -> Any:
    return client.post(
        "/api/v1/inbound-messages",
        json={
            "channel": channel,
            "from_phone": phone,
            "message_sid": sid or f"SM{uuid.uuid4().hex}",
            "body": body,
            "media": [
                {"content_type": t, "filename": None, "data_base64": b64(d)} for t, d in files or []
            ],
        },
        headers=headers,
    )


# --- sending ------------------------------------------------------------------------------------


def test_sms_goes_through_twilio_with_status_callback(
    client: TestClient,
    peel_headers: Headers,
    create_handover: Create,
    fake_twilio: FakeTwilio,
    session: Session,
) -> None:
    handover = handover_on(create_handover, "sms")
    response = send(client, peel_headers, handover["id"], "Goedemorgen, mijn BSN is 123456782")
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["status"] == "queued" and message["direction"] == "out"
    assert message["channel"] == "sms" and message["via_template"] is False
    assert "123456782" not in message["body"] and "[BSN verwijderd]" in message["body"]
    assert message["author_username"] == "anna"

    [request] = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.account == ACCOUNT_SID
    assert request.form["To"] == PHONE and request.form["From"] == SMS_NUMBER
    assert request.form["Body"] == message["body"]
    assert request.form["StatusCallback"] == STATUS_URL
    assert "ContentSid" not in request.form

    row = session.get(HandoverMessage, uuid.UUID(message["id"]))
    assert row is not None and row.twilio_sid and row.twilio_sid.startswith("SM")
    listed = client.get(f"/api/v1/handovers/{handover['id']}/messages", headers=peel_headers)
    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["items"]] == [message["id"]]
    details = session.scalars(
        select(AuditLog.detail).where(
            AuditLog.action.in_(["message.send", "messages.read"]),
            AuditLog.resource_id == handover["id"],
        )
    ).all()
    assert len(details) == 2
    assert "Goedemorgen" not in json.dumps(details) and "612345678" not in json.dumps(details)


def test_whatsapp_within_24_hours_is_free_text(
    client: TestClient, peel_headers: Headers, create_handover: Create, fake_twilio: FakeTwilio
) -> None:
    handover = handover_on(create_handover, "whatsapp", transcript=recent_transcript(1))
    plan = client.get(f"/api/v1/handovers/{handover['id']}/messages", headers=peel_headers)
    assert plan.json()["next_message"]["mode"] == "text"
    response = send(client, peel_headers, handover["id"], "Ik bel u morgen om 10 uur.")
    assert response.status_code == 201 and response.json()["via_template"] is False
    [request] = fake_twilio.requests
    assert request.form["To"] == f"whatsapp:{PHONE}"
    assert request.form["From"] == f"whatsapp:{WHATSAPP_NUMBER}"
    assert request.form["Body"] == "Ik bel u morgen om 10 uur."
    assert "ContentSid" not in request.form


def test_whatsapp_after_24_hours_sends_the_organisations_template(
    client: TestClient, peel_headers: Headers, create_handover: Create, fake_twilio: FakeTwilio
) -> None:
    handover = handover_on(create_handover, "whatsapp", transcript=recent_transcript(25))
    plan = client.get(f"/api/v1/handovers/{handover['id']}/messages", headers=peel_headers)
    assert plan.json()["next_message"]["mode"] == "template"
    assert plan.json()["next_message"]["template_example"] is True
    response = send(client, peel_headers, handover["id"], "Wilt u mij terugbellen?")
    assert response.status_code == 201, response.text
    assert response.json()["via_template"] is True
    [request] = fake_twilio.requests
    assert request.form["ContentSid"] == "HX00000000000000000000000000000000"
    assert json.loads(request.form["ContentVariables"]) == {
        "1": "Senzer",
        "2": handover["reference"],
    }
    assert "Body" not in request.form


def test_whatsapp_after_24_hours_without_template_is_409(
    client: TestClient,
    make_staff: Callable[..., Headers],
    create_handover: Create,
    fake_twilio: FakeTwilio,
    session: Session,
) -> None:
    headers = make_staff("gemeente-asten")
    handover = asten(create_handover)
    response = send(client, headers, handover["id"], "Hallo")
    assert response.status_code == 409
    assert "24 hours" in response.json()["detail"] and "24 uur" in response.json()["detail"]
    assert fake_twilio.requests == []
    assert session.scalar(select(func.count()).select_from(HandoverMessage)) == 0


def test_24_hour_window_follows_the_residents_last_message(
    client: TestClient,
    peel_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
    session: Session,
    settings: Settings,
) -> None:
    """A fake clock: the resident's answer in the thread opens the window for 24 hours."""
    handover = handover_on(create_handover, "whatsapp")  # transcript of 2025: window closed
    assert send(client, peel_headers, handover["id"], "Eerste bericht").status_code == 201
    assert inbound(client, service_headers, channel="whatsapp").json()["matched"] is True
    row = session.get(Handover, uuid.UUID(handover["id"]))
    assert row is not None
    answered = messaging.last_inbound_at(session, handover=row)
    assert answered is not None
    directory = load_directory(REPO_ROOT / "data")

    def mode(after: timedelta) -> str:
        return messaging.plan_for(
            session, handover=row, settings=settings, directory=directory, now=answered + after
        ).mode

    assert mode(timedelta(hours=23, minutes=59)) == "text"
    assert mode(timedelta(hours=24, minutes=1)) == "template"


def test_closed_or_withdrawn_consent_is_409(
    client: TestClient,
    peel_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
    fake_twilio: FakeTwilio,
    session: Session,
) -> None:
    closed = handover_on(create_handover, "sms")
    row = session.get(Handover, uuid.UUID(closed["id"]))
    assert row is not None
    row.status = "closed"
    session.commit()
    response = send(client, peel_headers, closed["id"], "Hallo")
    assert response.status_code == 409 and "closed" in response.json()["detail"]

    withdrawn = handover_on(create_handover, "sms")
    client.post(f"/api/v1/handovers/{withdrawn['id']}/consent-withdrawal", headers=service_headers)
    response = send(client, peel_headers, withdrawn["id"], "Hallo")
    assert response.status_code == 409 and "consent" in response.json()["detail"]
    assert fake_twilio.requests == []


def test_other_organisation_gets_404(
    client: TestClient,
    peel_headers: Headers,
    helmond_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
    fake_twilio: FakeTwilio,
) -> None:
    handover = handover_on(create_handover, "sms")
    assert send(client, helmond_headers, handover["id"], "Hallo").status_code == 404
    listed = client.get(f"/api/v1/handovers/{handover['id']}/messages", headers=helmond_headers)
    assert listed.status_code == 404
    assert send(client, service_headers, handover["id"], "Hallo").status_code == 403
    assert fake_twilio.requests == []


def test_twilio_error_is_stored_as_failed(
    client: TestClient, peel_headers: Headers, create_handover: Create, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_with = (400, 21211, "The 'To' number is not a valid phone number.")
    handover = handover_on(create_handover, "sms")
    response = send(client, peel_headers, handover["id"], "Hallo")
    assert response.status_code == 201
    assert response.json()["status"] == "failed"
    assert response.json()["error_code"] == "21211"
    assert response.json()["status_reason"] == "twilio_error"


def test_web_chat_and_sending_off_store_not_sent(
    app: FastAPI,
    client: TestClient,
    peel_headers: Headers,
    create_handover: Create,
    fake_twilio: FakeTwilio,
    settings: Settings,
) -> None:
    web = create_handover()  # channel web
    response = send(client, peel_headers, web["id"], "Hallo")
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["status_reason"]) == (
        "not_sent",
        "webchat",
    )
    app.state.settings = settings.model_copy(update={"TWILIO_SEND": False})
    sms = handover_on(create_handover, "sms")
    response = send(client, peel_headers, sms["id"], "Hallo")
    assert (response.json()["status"], response.json()["status_reason"]) == (
        "not_sent",
        "sending_off",
    )
    assert fake_twilio.requests == []


def test_message_text_is_validated(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    handover = handover_on(create_handover, "sms")
    assert send(client, peel_headers, handover["id"], "").status_code == 422
    assert send(client, peel_headers, handover["id"], "x" * 1601).status_code == 422
    assert send(client, peel_headers, handover["id"], "x" * 1600).status_code == 201


def test_settings_refuse_sending_without_account_and_fake_in_production() -> None:
    with pytest.raises(ValueError, match="TWILIO_SEND=true needs"):
        Settings(TWILIO_SEND=True)
    with pytest.raises(ValueError, match="TWILIO_API_BASE_URL"):
        Settings(
            VOORDEUR_ENV="production",
            VOORDEUR_SERVICE_TOKEN="a-real-secret-of-enough-length-1234",  # type: ignore[arg-type]
            TWILIO_API_BASE_URL="http://127.0.0.1:9",
        )
    assert Settings(TWILIO_NUMBER="").TWILIO_NUMBER is None


# --- delivery status ----------------------------------------------------------------------------


def callback(
    client: TestClient, params: dict[str, str], *, token: str = AUTH_TOKEN, url: str = STATUS_URL
) -> Any:
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(
        "/api/v1/twilio/status", data=params, headers={"X-Twilio-Signature": signature}
    )


def sent_message(
    client: TestClient, headers: Headers, create: Create, session: Session
) -> HandoverMessage:
    handover = handover_on(create, "sms")
    message_id = send(client, headers, handover["id"], "Hallo").json()["id"]
    row = session.get(HandoverMessage, uuid.UUID(message_id))
    assert row is not None and row.twilio_sid
    return row


def test_status_callbacks_move_forward_only(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    message = sent_message(client, peel_headers, create_handover, session)
    sid = message.twilio_sid
    assert sid is not None
    steps = [
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("sent", "delivered"),  # late callback: never backwards
        ("queued", "delivered"),
        ("read", "read"),
        ("failed", "read"),  # read is final
    ]
    for twilio_status, expected in steps:
        response = callback(
            client, {"MessageSid": sid, "MessageStatus": twilio_status, "AccountSid": ACCOUNT_SID}
        )
        assert response.status_code == 204
        session.refresh(message)
        assert message.status == expected, twilio_status


def test_failed_callback_keeps_the_error_code_and_is_final(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    message = sent_message(client, peel_headers, create_handover, session)
    sid = message.twilio_sid
    assert sid is not None
    callback(client, {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30008"})
    session.refresh(message)
    assert (message.status, message.error_code) == ("undelivered", "30008")
    callback(client, {"MessageSid": sid, "MessageStatus": "delivered"})
    session.refresh(message)
    assert message.status == "undelivered"
    listed = client.get(f"/api/v1/handovers/{message.handover_id}/messages", headers=peel_headers)
    assert listed.json()["items"][0]["status"] == "undelivered"


def test_bad_signature_is_403_and_changes_nothing(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    message = sent_message(client, peel_headers, create_handover, session)
    sid = message.twilio_sid
    assert sid is not None
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    assert callback(client, params, token="another-token").status_code == 403
    assert callback(client, params, url="https://elders.example/status").status_code == 403
    unsigned = client.post("/api/v1/twilio/status", data=params)
    assert unsigned.status_code == 403
    session.refresh(message)
    assert message.status == "queued"
    refused = session.scalars(
        select(AuditLog).where(AuditLog.action == "access.refused", AuditLog.actor == "twilio")
    ).all()
    assert len(refused) == 3


def test_unknown_sid_is_204(client: TestClient) -> None:
    response = callback(client, {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"})
    assert response.status_code == 204


# --- inbound ------------------------------------------------------------------------------------


def test_answer_is_matched_stored_and_in_the_transcript(
    client: TestClient,
    peel_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    handover = handover_on(create_handover, "sms")
    send(client, peel_headers, handover["id"], "Kunt u de brief sturen?")
    sid = f"SM{uuid.uuid4().hex}"
    response = inbound(
        client,
        service_headers,
        sid=sid,
        body="Hier is de brief, BSN 123456782",
        files=[("image/jpeg", JPEG), ("application/pdf", PDF)],
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "matched": True,
        "handover_id": handover["id"],
        "reference": handover["reference"],
        "organisation_name": "Senzer",
        "stored_media": 2,
        "refused_media": [],
    }
    thread = client.get(f"/api/v1/handovers/{handover['id']}/messages", headers=peel_headers)
    answer = thread.json()["items"][-1]
    assert answer["direction"] == "in" and answer["status"] == "received"
    assert answer["body"] == "Hier is de brief, BSN [BSN verwijderd]"
    assert [m["content_type"] for m in answer["media"]] == ["image/jpeg", "application/pdf"]
    transcript = client.get(
        f"/api/v1/handovers/{handover['id']}/transcript",
        params={"view": "full"},
        headers=peel_headers,
    ).json()["events"]
    assert transcript[-1]["event_id"] == sid and transcript[-1]["sender"] == "user"
    assert transcript[-1]["text"].startswith("Hier is de brief, BSN [BSN verwijderd]")
    assert "(2 bestanden gestuurd)" in transcript[-1]["text"]

    again = inbound(
        client,
        service_headers,
        sid=sid,
        body="Hier is de brief, BSN 123456782",
        files=[("image/jpeg", JPEG), ("application/pdf", PDF)],
    )
    assert again.json() == response.json()
    assert session.scalar(select(func.count()).select_from(HandoverMedia)) == 2
    assert (
        session.scalar(
            select(func.count())
            .select_from(HandoverMessage)
            .where(HandoverMessage.direction == "in")
        )
        == 1
    )
    received = session.scalars(
        select(AuditLog.detail).where(AuditLog.action == "message.receive")
    ).all()
    assert len(received) == 1 and "brief" not in json.dumps(received)


def test_unmatched_messages_store_nothing(
    client: TestClient,
    peel_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    quiet = handover_on(create_handover, "sms")  # no professional's message: no thread
    assert inbound(client, service_headers).json()["matched"] is False
    send(client, peel_headers, quiet["id"], "Hallo")
    assert inbound(client, service_headers, phone="+31687654321").json()["matched"] is False
    assert inbound(client, service_headers, channel="whatsapp").json()["matched"] is False
    row = session.get(Handover, uuid.UUID(quiet["id"]))
    assert row is not None
    row.status = "closed"
    session.commit()
    assert inbound(client, service_headers).json() == {
        "matched": False,
        "handover_id": None,
        "reference": None,
        "organisation_name": None,
        "stored_media": 0,
        "refused_media": [],
    }
    count = select(func.count()).select_from(HandoverMessage)
    assert session.scalar(count.where(HandoverMessage.direction == "in")) == 0


def test_thread_older_than_14_days_is_closed_and_newest_thread_wins(
    client: TestClient,
    peel_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    old = handover_on(create_handover, "sms")
    send(client, peel_headers, old["id"], "Oud bericht")
    session.execute(
        HandoverMessage.__table__.update().values(created_at=utcnow() - timedelta(days=15))
    )
    session.commit()
    assert inbound(client, service_headers).json()["matched"] is False
    first = handover_on(create_handover, "sms")
    second = handover_on(create_handover, "sms")
    send(client, peel_headers, second["id"], "Eerst aan de tweede")
    send(client, peel_headers, first["id"], "Daarna aan de eerste")
    assert inbound(client, service_headers).json()["handover_id"] == first["id"]


def test_inbound_is_for_the_service_token_only(client: TestClient, peel_headers: Headers) -> None:
    assert inbound(client, peel_headers).status_code == 403


def test_media_types_sizes_and_count(
    client: TestClient,
    peel_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
) -> None:
    handover = handover_on(create_handover, "sms")
    send(client, peel_headers, handover["id"], "Stuur maar foto's")
    too_large = b"\xff\xd8\xff" + b"\x00" * media.MAX_BYTES
    files = [
        ("image/gif", b"GIF89a" + b"\x00" * 20),
        ("image/jpeg", too_large),
        ("image/jpeg", PNG),  # declared JPEG, is a PNG: not its type
        ("image/png", PNG),
        ("image/heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20),
        ("image/jpeg", JPEG),  # the sixth and seventh: too many (the first five count)
        ("application/pdf", PDF),
    ]
    response = inbound(client, service_headers, body="", files=files)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["matched"] is True and result["stored_media"] == 2
    assert result["refused_media"] == [
        {"content_type": "image/gif", "reason": "unsupported_type"},
        {"content_type": "image/jpeg", "reason": "too_large"},
        {"content_type": "image/jpeg", "reason": "unsupported_type"},
        {"content_type": "image/jpeg", "reason": "too_many"},
        {"content_type": "application/pdf", "reason": "too_many"},
    ]
    broken = client.post(
        "/api/v1/inbound-messages",
        json={
            "channel": "sms",
            "from_phone": PHONE,
            "message_sid": f"SM{uuid.uuid4().hex}",
            "media": [{"content_type": "image/png", "data_base64": "!!niet-base64!!"}],
        },
        headers=service_headers,
    )
    assert broken.json()["refused_media"] == [
        {"content_type": "image/png", "reason": "invalid_data"}
    ]


def test_e164() -> None:
    assert messaging.e164("06-12345678") == "+31612345678"
    assert messaging.e164("+31 6 12345678") == "+31612345678"
    assert messaging.e164("0031612345678") == "+31612345678"
    assert messaging.e164("040 123 4567") == "+31401234567"
    assert messaging.e164("12345") is None and messaging.e164(None) is None


def test_safe_filename() -> None:
    assert media.safe_filename("../../etc/passwd") == "passwd"
    assert media.safe_filename('brief "1".pdf') == "brief _1_.pdf"
    assert media.safe_filename(None) is None
    assert media.safe_filename("...") is None


def test_template_example_is_refused_in_production(
    session: Session, create_handover: Create, settings: Settings
) -> None:
    handover = handover_on(create_handover, "whatsapp")
    row = session.get(Handover, uuid.UUID(handover["id"]))
    assert row is not None
    production = settings.model_copy(update={"VOORDEUR_ENV": "production"})
    plan = messaging.plan_for(
        session,
        handover=row,
        settings=production,
        directory=load_directory(REPO_ROOT / "data"),
        now=datetime.now(UTC),
    )
    assert plan.refusal == "example_template"

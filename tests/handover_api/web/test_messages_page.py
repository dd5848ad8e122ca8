"""The case page's section "Berichten met de inwoner": the thread with delivery status in
Dutch, the send form (CSRF), the WhatsApp 24-hour notice and the resident's files."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.core.config import Settings
from handover_api.models import AuditLog
from tests.handover_api.fake_twilio import FakeTwilio, FakeTwilioServer, twilio_settings
from tests.handover_api.web.test_staff_pages import csrf_of, login

Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
CONTACT = {"name": "Jan Jansen", "phone": "06-12345678", "preferred": "phone"}


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilioServer() as fake:
        yield fake


@pytest.fixture
def settings(db_url: str, fake_twilio: FakeTwilio) -> Settings:
    result: Settings = twilio_settings(db_url, fake_twilio.url)
    return result


def relay_photo(client: TestClient, service_headers: Headers) -> dict[str, Any]:
    response = client.post(
        "/api/v1/inbound-messages",
        json={
            "channel": "sms",
            "from_phone": "+31612345678",
            "message_sid": f"SM{uuid.uuid4().hex}",
            "body": "Hier is de foto",
            "media": [
                {
                    "content_type": "image/jpeg",
                    "filename": "brief.jpg",
                    "data_base64": base64.b64encode(JPEG).decode(),
                }
            ],
        },
        headers=service_headers,
    )
    result: dict[str, Any] = response.json()
    assert result["matched"] is True, result
    return result


def test_send_form_posts_and_thread_shows_status(
    client: TestClient,
    peel_headers: Headers,
    create_handover: Create,
    fake_twilio: FakeTwilio,
) -> None:
    handover = create_handover(channel="sms", contact=CONTACT)
    csrf = login(client, peel_headers)
    page = client.get(f"/staff/handovers/{handover['id']}")
    for element in ('id="berichten"', 'id="bericht-formulier"', 'id="bericht-tekst"'):
        assert element in page.text
    assert "Berichten met de inwoner" in page.text and "Nog geen berichten." in page.text
    assert '<label for="bericht-tekst">' in page.text and 'maxlength="1600"' in page.text
    response = client.post(
        f"/staff/handovers/{handover['id']}/messages",
        data={"csrf_token": csrf, "text": "Ik bel u morgen."},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("#berichten")
    assert fake_twilio.messages[0]["Body"] == "Ik bel u morgen."
    page = client.get(f"/staff/handovers/{handover['id']}")
    assert 'id="berichten-lijst"' in page.text and "Ik bel u morgen." in page.text
    assert "verstuurd" in page.text and "Medewerker peel61 aan de inwoner" in page.text


def test_form_needs_csrf_and_refusal_is_dutch(
    client: TestClient,
    peel_headers: Headers,
    create_handover: Create,
    fake_twilio: FakeTwilio,
    make_staff: Callable[..., Headers],
) -> None:
    handover = create_handover(channel="sms", contact=CONTACT)
    login(client, peel_headers)
    refused = client.post(
        f"/staff/handovers/{handover['id']}/messages",
        data={"csrf_token": "vals", "text": "Hallo"},
        follow_redirects=False,
    )
    assert refused.status_code == 403 and fake_twilio.requests == []

    asten = create_handover(
        channel="whatsapp",
        contact=CONTACT,
        municipality={"code": "GM0743", "name": "Asten"},
        destination={"level": "local", "organisation": "gemeente-asten", "team": "sociaal-team"},
    )
    other = TestClient(client.app)
    csrf = login(other, make_staff("gemeente-asten"))
    page = other.get(f"/staff/handovers/{asten['id']}")
    assert 'id="bericht-melding"' in page.text
    assert "geen sjabloon ingesteld" in page.text
    assert 'id="bericht-formulier"' not in page.text
    response = other.post(
        f"/staff/handovers/{asten['id']}/messages", data={"csrf_token": csrf, "text": "Hallo"}
    )
    assert response.status_code == 409
    assert "geen sjabloon ingesteld" in response.text and 'role="alert"' in response.text


def test_whatsapp_outside_24_hours_shows_the_template_notice(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    handover = create_handover(channel="whatsapp", contact=CONTACT)  # transcript of 2025
    login(client, peel_headers)
    page = client.get(f"/staff/handovers/{handover['id']}")
    assert 'id="bericht-sjabloon-melding"' in page.text
    assert (
        "Laatste bericht van de inwoner is meer dan 24 uur geleden: uw bericht gaat als vaste "
        "sjabloontekst (WhatsApp-regel)." in page.text
    )


def test_media_download_is_own_organisation_only_and_audited(
    client: TestClient,
    peel_headers: Headers,
    helmond_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    handover = create_handover(channel="sms", contact=CONTACT)
    other_case = create_handover(channel="sms", contact=CONTACT | {"phone": "06-87654321"})
    csrf = login(client, peel_headers)
    client.post(
        f"/staff/handovers/{handover['id']}/messages", data={"csrf_token": csrf, "text": "Hallo"}
    )
    relay_photo(client, service_headers)
    page = client.get(f"/staff/handovers/{handover['id']}")
    assert 'id="bijlagen-lijst"' in page.text and "brief.jpg" in page.text
    assert csrf_of(page.text) == csrf
    media_id = page.text.split('id="bijlage-', 1)[1].split('"', 1)[0]
    url = f"/staff/handovers/{handover['id']}/media/{media_id}"
    download = client.get(url)
    assert download.status_code == 200 and download.content == JPEG
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-disposition"].startswith('attachment; filename="brief.jpg"')
    assert download.headers["x-content-type-options"] == "nosniff"
    audited = session.scalars(
        select(AuditLog).where(AuditLog.action == "media.download", AuditLog.actor == "staff:anna")
    ).all()
    assert [a.detail["media_id"] for a in audited if a.detail] == [media_id]

    # The same file through another case of the same organisation: not found.
    assert client.get(f"/staff/handovers/{other_case['id']}/media/{media_id}").status_code == 404
    helmond = TestClient(client.app)
    login(helmond, helmond_headers)
    assert helmond.get(url).status_code == 404

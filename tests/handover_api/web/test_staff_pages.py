"""Staff pages under /staff/: login cookie, inbox, detail, status change, notes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import AuditLog, Handover, HandoverNote

Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]


def token_of(headers: Headers) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def login(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/staff/login", data={"token": token_of(headers)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/inbox"


def test_login_sets_strict_httponly_cookie(client: TestClient, peel_headers: Headers) -> None:
    page = client.get("/staff/login")
    assert page.status_code == 200 and "Toegangscode" in page.text
    response = client.post(
        "/staff/login", data={"token": token_of(peel_headers)}, follow_redirects=False
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("voordeur_staff=")
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/staff" in cookie


def test_bad_login_and_service_token_are_refused(
    client: TestClient, service_headers: Headers
) -> None:
    for token in ("onzin", token_of(service_headers)):
        response = client.post("/staff/login", data={"token": token}, follow_redirects=False)
        assert response.status_code == 401
        assert "onbekend of ingetrokken" in response.text
        assert "set-cookie" not in response.headers


def test_pages_need_login(client: TestClient, create_handover: Create) -> None:
    handover = create_handover()
    for path in ("/staff/", "/staff/inbox", f"/staff/handovers/{handover['id']}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def test_inbox_lists_own_organisation_only(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    mine = create_handover(priority="urgent", summary="Geen inkomen meer")
    other = create_handover(
        summary="Alleen voor Helmond",
        destination={"level": "local", "organisation": "helmond-wijkteam", "team": "wmo"},
    )
    login(client, peel_headers)
    page = client.get("/staff/inbox")
    assert page.status_code == 200
    assert mine["reference"] in page.text and "Spoed" in page.text
    assert other["reference"] not in page.text and "Alleen voor Helmond" not in page.text
    assert page.headers["cache-control"] == "no-store"
    filtered = client.get("/staff/inbox", params={"status": "closed"})
    assert mine["reference"] not in filtered.text and "geen overdrachten" in filtered.text


def test_detail_is_escaped_redacted_and_audited(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    handover = create_handover(summary="<script>alert(1)</script> & meer")
    login(client, peel_headers)
    page = client.get(f"/staff/handovers/{handover['id']}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; meer" in page.text
    assert "mijn BSN is [BSN]" in page.text and "123456782" not in page.text
    assert "Jan Jansen" in page.text  # contact details are for the professional
    actions = set(
        session.scalars(
            select(AuditLog.action).where(
                AuditLog.actor == "staff:anna",
                AuditLog.resource_id.in_([handover["id"], handover["conversation_id"]]),
            )
        )
    )
    assert actions == {"handover.read", "transcript.read"}


def test_other_organisation_gets_404(
    client: TestClient, helmond_headers: Headers, create_handover: Create
) -> None:
    handover = create_handover()
    login(client, helmond_headers)
    page = client.get(f"/staff/handovers/{handover['id']}")
    assert page.status_code == 404
    assert handover["summary"] not in page.text
    post = client.post(f"/staff/handovers/{handover['id']}/notes", data={"text": "x"})
    assert post.status_code == 404


def test_status_change_note_and_return_via_forms(
    client: TestClient,
    peel_headers: Headers,
    helmond_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    handover = create_handover()
    hid = uuid.UUID(handover["id"])
    login(client, peel_headers)
    response = client.post(
        f"/staff/handovers/{hid}/status", data={"status": "claimed"}, follow_redirects=False
    )
    assert response.status_code == 303
    row = session.get(Handover, hid)
    assert row is not None and row.status == "claimed"

    illegal = client.post(f"/staff/handovers/{hid}/status", data={"status": "claimed"})
    assert illegal.status_code == 409 and "niet toegestaan" in illegal.text

    note = client.post(
        f"/staff/handovers/{hid}/notes", data={"text": "Gebeld <b>ok</b>"}, follow_redirects=False
    )
    assert note.status_code == 303
    assert [
        n.text for n in session.scalars(select(HandoverNote).where(HandoverNote.handover_id == hid))
    ] == ["Gebeld <b>ok</b>"]
    assert "Gebeld &lt;b&gt;ok&lt;/b&gt;" in client.get(f"/staff/handovers/{hid}").text

    no_reason = client.post(
        f"/staff/handovers/{hid}/status",
        data={
            "status": "returned",
            "level": "local",
            "organisation": "helmond-wijkteam",
            "team": "wmo",
        },
    )
    assert no_reason.status_code == 422 and "reden" in no_reason.text
    returned = client.post(
        f"/staff/handovers/{hid}/status",
        data={
            "status": "returned",
            "level": "local",
            "organisation": "helmond-wijkteam",
            "team": "wmo",
            "reason": "Past beter bij het wijkteam",
        },
        follow_redirects=False,
    )
    assert returned.status_code == 303
    session.expire_all()
    row = session.get(Handover, hid)
    assert row is not None and row.status == "returned" and len(row.returned_to) == 1

    client.cookies.clear()
    login(client, helmond_headers)
    assert row.returned_to[0].reference in client.get("/staff/inbox").text


def test_cross_site_form_post_is_refused(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    handover = create_handover()
    login(client, peel_headers)
    response = client.post(
        f"/staff/handovers/{handover['id']}/notes",
        data={"text": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_logout_clears_cookie(client: TestClient, peel_headers: Headers) -> None:
    login(client, peel_headers)
    response = client.post("/staff/logout", follow_redirects=False)
    assert response.status_code == 303
    assert (
        'voordeur_staff=""' in response.headers["set-cookie"]
        or "max-age=0" in response.headers["set-cookie"].lower()
    )

"""Authorisation matrix: every /api/v1 route x every kind of caller.

Two organisations received a handover of the same resident (same phone number and, as in the
old data where the SMS number was the conversation id, even the same conversation id). Each
organisation reads only what was shared with it; the service token only writes; the auditor
only reads the audit log; everyone else gets 401. Refused attempts are audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handover_api.models import AuditLog
from handover_api.services import users
from tests.handover_api.conftest import bearer

Headers = dict[str, str]
SHARED_CONVERSATION = "whatsapp:+31612345678"


@pytest.fixture
def world(
    client: TestClient,
    service_headers: Headers,
    make_staff: Callable[..., Headers],
    make_payload: Callable[..., dict[str, Any]],
    session: Session,
) -> dict[str, Any]:
    peel = make_staff("peel61")
    helmond = make_staff("gemeente-helmond", team="wijkteam")
    auditor_user = users.create_user(
        session,
        username=f"auditor-{uuid.uuid4().hex[:6]}",
        organisation="gemeente-helmond",
        display_name="Auditor",
    )
    auditor_user.role = "auditor"
    auditor = bearer(users.issue_token(session, user=auditor_user))
    session.commit()

    def create(**overrides: Any) -> dict[str, Any]:
        response = client.post(
            "/api/v1/handovers",
            json=make_payload(conversation_id=SHARED_CONVERSATION, **overrides),
            headers=service_headers,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    to_peel = create(
        transcript=[
            {
                "event_id": "p1",
                "sender": "user",
                "text": "vraag over bijstand",
                "at": "2026-11-01T10:00:00Z",
            }
        ]
    )
    to_helmond = create(
        destination={"level": "local", "organisation": "gemeente-helmond", "team": "wijkteam"},
        transcript=[
            {
                "event_id": "h1",
                "sender": "user",
                "text": "alleen voor het wijkteam",
                "at": "2026-11-20T10:00:00Z",
            }
        ],
    )
    return {
        "callers": {
            "anonymous": {},
            "bad token": bearer("vd_not-a-token"),
            "service": service_headers,
            "peel61": peel,
            "helmond": helmond,
            "auditor": auditor,
        },
        "peel": to_peel,
        "helmond": to_helmond,
    }


def _routes(world: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None, dict[str, int]]]:
    """(method, url, json body, expected status per caller; callers not named: 401 if
    unauthenticated, else 403)."""
    peel_id = world["peel"]["id"]
    body_create = None  # filled per call with a fresh payload
    return [
        ("POST", "/api/v1/handovers", body_create, {"service": 201}),
        ("GET", "/api/v1/handovers", None, {"peel61": 200, "helmond": 200}),
        ("GET", f"/api/v1/handovers/{peel_id}", None, {"peel61": 200, "helmond": 404}),
        ("GET", f"/api/v1/handovers/{peel_id}/transcript", None, {"peel61": 200, "helmond": 404}),
        (
            "GET",
            f"/api/v1/handovers/{peel_id}/application/export",
            None,
            {"peel61": 200, "helmond": 404},
        ),
        (
            "POST",
            f"/api/v1/handovers/{peel_id}/notes",
            {"text": "gebeld"},
            {"peel61": 201, "helmond": 404},
        ),
        (
            "PATCH",
            f"/api/v1/handovers/{peel_id}",
            {"status": "claimed"},
            {"peel61": 200, "helmond": 404},
        ),
        (
            "POST",
            f"/api/v1/conversations/{SHARED_CONVERSATION}/events",
            {"events": [{"sender": "user", "text": "x", "at": "2026-11-21T10:00:00Z"}]},
            {"service": 200},
        ),
        (
            "GET",
            f"/api/v1/conversations/{SHARED_CONVERSATION}/transcript",
            None,
            {"peel61": 200, "helmond": 200},
        ),
        ("GET", "/api/v1/audit", None, {"auditor": 200}),
        # last: after a withdrawal peel61 no longer reads the conversation
        ("POST", f"/api/v1/handovers/{peel_id}/consent-withdrawal", None, {"service": 200}),
    ]


def test_every_route_for_every_caller(
    client: TestClient, world: dict[str, Any], make_payload: Callable[..., dict[str, Any]]
) -> None:
    failures = []
    for method, url, body, allowed in _routes(world):
        for caller, headers in world["callers"].items():
            if caller in allowed:
                expected = allowed[caller]
            elif caller in ("anonymous", "bad token"):
                expected = 401
            else:
                expected = 403
            json_body = make_payload() if url == "/api/v1/handovers" and method == "POST" else body
            response = client.request(method, url, json=json_body, headers=headers)
            if response.status_code != expected:
                failures.append(f"{caller} {method} {url}: {response.status_code} != {expected}")
            if response.status_code >= 400:
                # A refusal never carries the resident's data.
                assert "06-12345678" not in response.text and "Jan Jansen" not in response.text
    assert not failures, "\n".join(failures)


def test_same_resident_two_organisations_read_only_their_own(
    client: TestClient, world: dict[str, Any]
) -> None:
    peel, helmond = world["callers"]["peel61"], world["callers"]["helmond"]
    for headers, own, other, own_text, other_text in (
        (peel, world["peel"], world["helmond"], "bijstand", "wijkteam"),
        (helmond, world["helmond"], world["peel"], "wijkteam", "bijstand"),
    ):
        listing = client.get("/api/v1/handovers", headers=headers).json()
        assert [h["id"] for h in listing["items"]] == [own["id"]]
        lines = client.get(
            f"/api/v1/conversations/{SHARED_CONVERSATION}/transcript", headers=headers
        ).json()["events"]
        assert [e["text"] for e in lines if e["sender"] == "user"] == [
            t for t in ["vraag over bijstand", "alleen voor het wijkteam"] if own_text in t
        ]
        assert not any(other_text in e["text"] for e in lines)
        detail = client.get(f"/api/v1/handovers/{own['id']}", headers=headers).json()
        assert not any(other_text in e["text"] for e in detail["transcript"])
        assert client.get(f"/api/v1/handovers/{other['id']}", headers=headers).status_code == 404


def test_reads_and_refusals_are_in_the_audit_log_for_the_auditor(
    client: TestClient, world: dict[str, Any], session: Session
) -> None:
    peel, helmond = world["callers"]["peel61"], world["callers"]["helmond"]
    client.get("/api/v1/handovers", headers=peel)
    client.get(f"/api/v1/handovers/{world['peel']['id']}", headers=helmond)  # refused: 404
    client.get("/api/v1/handovers", headers=bearer("vd_wrong"))  # refused: 401
    client.get("/api/v1/audit", headers=peel)  # refused: 403

    page = client.get(
        "/api/v1/audit", params={"page_size": 200}, headers=world["callers"]["auditor"]
    ).json()
    entries = page["items"]
    listed = [e for e in entries if e["action"] == "handover.list"]
    assert listed and listed[0]["detail"]["handover_ids"] == [world["peel"]["id"]]
    refused = {
        (e["resource_id"], e["detail"]["status"])
        for e in entries
        if e["action"] == "access.refused"
    }
    assert ("GET /api/v1/handovers/{handover_id}", 404) in refused
    assert ("GET /api/v1/handovers", 401) in refused
    assert ("GET /api/v1/audit", 403) in refused
    # no token, phone number or conversation id is written into the log
    assert "vd_wrong" not in str(entries) and SHARED_CONVERSATION not in str(entries)
    # reading the audit log is itself audited
    assert session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "audit.read")
    )
    filtered = client.get(
        "/api/v1/audit", params={"action": "access.refused"}, headers=world["callers"]["auditor"]
    ).json()
    assert filtered["total"] >= 3
    assert {e["action"] for e in filtered["items"]} == {"access.refused"}

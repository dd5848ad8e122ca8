"""Additions to /api/v1/handovers for the case worker's workspace: search and filters on the
list, assignment (``POST /{id}/assign``) and call attempts (``POST /{id}/call-attempts``).
Existing parameters and fields stay as they are (contract/api.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import AuditLog, Handover
from handover_api.services import users
from tests.handover_api.conftest import bearer

URL = "/api/v1/handovers"
Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]


def worker(
    session: Session, username: str, organisation: str, name: str, role: str = "staff"
) -> Headers:
    user = users.create_user(
        session,
        username=username,
        organisation=organisation,
        display_name=name,
        team="werk-inkomen" if organisation == "peel61" else "wijkteam",
        role=role,
    )
    headers = bearer(users.issue_token(session, user=user))
    session.commit()
    return headers


@pytest.fixture
def anna(session: Session) -> Headers:
    return worker(session, "anna", "peel61", "Anna de Vries")


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def test_list_search_and_new_filters(
    client: TestClient, anna: Headers, create_handover: Create, session: Session
) -> None:
    a = create_handover(reference="VD-7K3P-92", life_domains=[], multi_problem=False)
    b = create_handover(
        contact={"name": "B", "phone": "+31 6 87654321", "preferred": "phone"},
        life_domains=[{"code": "huisvesting", "evidence": []}],
        multi_problem=False,
    )
    helmond = create_handover(
        destination={"level": "local", "organisation": "gemeente-helmond", "team": "wijkteam"},
        contact={"name": "C", "phone": "0687654321", "preferred": "phone"},
    )

    def listing(**params: Any) -> dict[str, Any]:
        response = client.get(URL, params=params, headers=anna)
        assert response.status_code == 200, response.text
        return dict(response.json())

    assert ids(listing(q="vd-7k3p")) == [a["id"]]
    assert ids(listing(q="7K3P92")) == [a["id"]]
    assert ids(listing(q="0687654321")) == [b["id"]]  # never Helmond's case
    assert helmond["id"] not in ids(listing(q="06 87654321"))
    assert ids(listing(domain="huisvesting")) == [b["id"]]
    assert len(ids(listing(team="werk-inkomen"))) == 2
    assert ids(listing(team="wijkteam")) == []
    assert client.get(URL, params={"domain": "geluk"}, headers=anna).status_code == 422
    assert client.get(URL, params={"assigned": "iemand"}, headers=anna).status_code == 422
    assert client.get(URL, params={"q": "x" * 101}, headers=anna).status_code == 422

    assert ids(listing(assigned="me")) == []
    client.patch(f"{URL}/{a['id']}", json={"status": "claimed"}, headers=anna)
    mine = listing(assigned="me")
    assert ids(mine) == [a["id"]]
    assert mine["items"][0]["assigned_to"]["username"] == "anna"
    assert mine["items"][0]["assigned_to"]["display_name"] == "Anna de Vries"
    assert mine["items"][0]["claimed_at"] is not None
    assert ids(listing(assigned="none")) == [b["id"]]
    # existing parameters work together with the new ones
    assert ids(listing(status="claimed", q="VD-7K3P-92", priority="normal", level="regional")) == [
        a["id"]
    ]
    audit_row = session.scalars(
        select(AuditLog).where(AuditLog.action == "handover.list").order_by(AuditLog.id.desc())
    ).first()
    assert audit_row is not None and audit_row.detail is not None
    assert audit_row.detail["filters"]["search"] == "reference"
    assert "VD-7K3P-92" not in str(audit_row.detail["filters"])


def test_list_default_order_is_unchanged_and_waiting_order_is_available(
    client: TestClient, anna: Headers, create_handover: Create, session: Session
) -> None:
    older = create_handover()
    newer = create_handover()
    urgent = create_handover(priority="urgent")
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for offset, item in enumerate((older, newer, urgent)):
        row = session.get(Handover, uuid.UUID(item["id"]))
        assert row is not None
        row.created_at = base + timedelta(hours=offset)
    session.commit()
    default = client.get(URL, headers=anna).json()
    assert ids(default) == [urgent["id"], newer["id"], older["id"]]  # urgent, newest first
    waiting = client.get(URL, params={"sort": "waiting"}, headers=anna).json()
    assert ids(waiting) == [urgent["id"], older["id"], newer["id"]]
    item = default["items"][0]
    assert item["assigned_to"] is None and item["first_contact_at"] is None


def test_assign_within_the_organisation_only(
    client: TestClient,
    anna: Headers,
    create_handover: Create,
    service_headers: Headers,
    session: Session,
) -> None:
    handover = create_handover()
    url = f"{URL}/{handover['id']}/assign"
    worker(session, "bob", "peel61", "Bob Jansen")
    wim = worker(session, "wim", "gemeente-helmond", "Wim Smit")
    worker(session, "ria", "peel61", "Ria", role="auditor")

    for username in ("wim", "ria", "onbekend"):
        refused = client.post(url, json={"username": username}, headers=anna)
        assert refused.status_code == 422, username
    assert client.post(url, json={"username": "bob"}, headers=service_headers).status_code == 403
    assert client.post(url, json={"username": "wim"}, headers=wim).status_code == 404
    assert client.post(url, json={}, headers=anna).status_code == 422

    response = client.post(url, json={"username": "bob"}, headers=anna)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "claimed"
    assert body["assigned_to"]["username"] == "bob"
    assert body["assigned_to"]["display_name"] == "Bob Jansen"
    detail = client.get(f"{URL}/{handover['id']}", headers=anna).json()
    assert detail["assigned_to"]["username"] == "bob"
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.resource_id == handover["id"])
    ).all()
    assert "handover.assign" in actions

    client.patch(f"{URL}/{handover['id']}", json={"status": "in_progress"}, headers=anna)
    client.patch(f"{URL}/{handover['id']}", json={"status": "closed"}, headers=anna)
    assert client.post(url, json={"username": "anna"}, headers=anna).status_code == 409


def test_release_clears_the_assignment(
    client: TestClient, anna: Headers, create_handover: Create
) -> None:
    handover = create_handover()
    claimed = client.patch(f"{URL}/{handover['id']}", json={"status": "claimed"}, headers=anna)
    assert claimed.json()["assigned_to"]["username"] == "anna"
    released = client.patch(f"{URL}/{handover['id']}", json={"status": "new"}, headers=anna)
    assert released.json()["assigned_to"] is None
    assert released.json()["claimed_at"] is not None  # the first claim stays known
    started = client.patch(f"{URL}/{handover['id']}", json={"status": "in_progress"}, headers=anna)
    assert started.json()["assigned_to"]["username"] == "anna"  # straight from new: assigned


def test_call_attempts(
    client: TestClient,
    anna: Headers,
    create_handover: Create,
    service_headers: Headers,
    helmond_headers: Headers,
    session: Session,
) -> None:
    handover = create_handover()
    url = f"{URL}/{handover['id']}/call-attempts"
    callback = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)

    assert client.post(url, json={"outcome": "bereikt"}, headers=service_headers).status_code == 403
    assert client.post(url, json={"outcome": "bereikt"}, headers=helmond_headers).status_code == 404
    for bad in (
        {"outcome": "misschien"},
        {"outcome": "terugbellen"},  # needs callback_at
        {"outcome": "bereikt", "callback_at": callback.isoformat()},
        {"outcome": "terugbellen", "callback_at": "2099-01-01T10:00:00Z"},  # too far ahead
        {"outcome": "niet_bereikt", "note": "x" * 4001},
        {"outcome": "niet_bereikt", "extra": 1},
    ):
        assert client.post(url, json=bad, headers=anna).status_code == 422, bad

    first = client.post(url, json={"outcome": "niet_bereikt", "note": "Voicemail"}, headers=anna)
    assert first.status_code == 201, first.text
    assert first.json()["author"] == "Anna de Vries" and first.json()["author_username"] == "anna"
    back = client.post(
        url, json={"outcome": "terugbellen", "callback_at": callback.isoformat()}, headers=anna
    )
    assert back.status_code == 201
    assert datetime.fromisoformat(back.json()["callback_at"].replace("Z", "+00:00")) == callback
    reached = client.post(url, json={"outcome": "bereikt"}, headers=anna)
    assert reached.status_code == 201

    detail = client.get(f"{URL}/{handover['id']}", headers=anna).json()
    assert [c["outcome"] for c in detail["call_attempts"]] == [
        "niet_bereikt",
        "terugbellen",
        "bereikt",
    ]
    assert detail["first_contact_at"] == reached.json()["at"]
    row = session.get(Handover, uuid.UUID(handover["id"]))
    assert row is not None and row.first_contact_at is not None

    client.patch(f"{URL}/{handover['id']}", json={"status": "claimed"}, headers=anna)
    client.patch(f"{URL}/{handover['id']}", json={"status": "closed"}, headers=anna)
    assert client.post(url, json={"outcome": "bereikt"}, headers=anna).status_code == 409


def test_openapi_documents_the_additions(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    listing = {p["name"] for p in schema["paths"]["/api/v1/handovers"]["get"]["parameters"]}
    assert {"status", "priority", "municipality", "level", "page", "page_size"} <= listing
    assert {"q", "team", "domain", "assigned", "sort"} <= listing
    assert "post" in schema["paths"]["/api/v1/handovers/{handover_id}/assign"]
    assert "post" in schema["paths"]["/api/v1/handovers/{handover_id}/call-attempts"]

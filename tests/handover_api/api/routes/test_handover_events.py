"""A handover's timeline (issue 13): named events recorded where things happen, served by
``GET /api/v1/handovers/{id}/events``, shown on the case page and its print view, and counted
on the dashboard."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import AuditLog, Handover, HandoverEvent, HandoverMessage
from handover_api.schemas import HandoverEventOut
from handover_api.services import events
from tests.handover_api.api.routes.test_handovers_workspace import worker
from tests.handover_api.web.test_staff_pages import login

URL = "/api/v1/handovers"
Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]
PERSONAL = ("Jan", "06-12345678", "123456782", "jan@example.nl", "ontslagen")


@pytest.fixture
def sanne(session: Session) -> Headers:
    return worker(session, "sanne", "peel61", "Sanne Bakker")


def timeline(client: TestClient, headers: Headers, handover_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{URL}/{handover_id}/events", headers=headers)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def kinds(items: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in items]


def assert_nothing_personal(items: list[dict[str, Any]]) -> None:
    text = str([e["detail"] for e in items])
    for value in PERSONAL:
        assert value not in text


def test_create_records_consent_and_arrival(
    client: TestClient, sanne: Headers, create_handover: Create
) -> None:
    handover = create_handover()
    items = timeline(client, sanne, handover["id"])
    assert kinds(items) == ["consent_given", "created"]
    consent, created = items
    assert consent["at"].startswith("2025-03-04T10:00:00")  # the consent's own moment
    assert consent["actor"] == "service:action-server"
    assert consent["detail"] == {"organisation": "peel61", "text_version": "v1"}
    assert created["actor"] == "service:action-server" and created["actor_name"] is None
    assert created["detail"]["organisation"] == "peel61"
    assert created["detail"]["team"] == "werk-inkomen"
    assert_nothing_personal(items)


def test_idempotent_replay_records_no_second_arrival(
    client: TestClient,
    sanne: Headers,
    service_headers: Headers,
    make_payload: Callable[..., dict[str, Any]],
) -> None:
    body = make_payload()
    headers = service_headers | {"Idempotency-Key": "k-events"}
    first = client.post(URL, json=body, headers=headers)
    again = client.post(URL, json=body, headers=headers)
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert kinds(timeline(client, sanne, first.json()["id"])) == ["consent_given", "created"]


def test_claim_calls_close_in_order_with_who_and_when(
    client: TestClient, sanne: Headers, create_handover: Create
) -> None:
    hid = create_handover()["id"]
    assert client.patch(f"{URL}/{hid}", json={"status": "claimed"}, headers=sanne).is_success
    callback = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    for body in (
        {"outcome": "niet_bereikt"},
        {"outcome": "terugbellen", "callback_at": callback.isoformat()},
        {"outcome": "bereikt", "note": "Jan wil bijstand, 06-12345678"},
    ):
        response = client.post(f"{URL}/{hid}/call-attempts", json=body, headers=sanne)
        assert response.status_code == 201, response.text
    assert client.patch(f"{URL}/{hid}", json={"status": "in_progress"}, headers=sanne).is_success
    assert client.patch(f"{URL}/{hid}", json={"status": "closed"}, headers=sanne).is_success

    items = timeline(client, sanne, hid)
    assert kinds(items) == [
        "consent_given",
        "created",
        "claimed",
        "contact_failed",
        "contact_attempted",
        "contact_made",
        "in_progress",
        "closed",
    ]
    assert [e["at"] for e in items] == sorted(e["at"] for e in items)
    claimed = items[2]
    assert (claimed["actor"], claimed["actor_name"]) == ("staff:sanne", "Sanne Bakker")
    assert items[3]["detail"] == {"outcome": "niet_bereikt"}
    assert datetime.fromisoformat(items[4]["detail"]["callback_at"]) == callback
    assert items[5]["detail"] == {"outcome": "bereikt", "first_contact": True}
    assert items[-1]["detail"] == {"from": "in_progress"}
    assert_nothing_personal(items)  # the call note stays out of the timeline


def test_release_and_assign(
    client: TestClient, sanne: Headers, session: Session, create_handover: Create
) -> None:
    worker(session, "piet", "peel61", "Piet de Groot")
    hid = create_handover()["id"]
    client.patch(f"{URL}/{hid}", json={"status": "claimed"}, headers=sanne)
    client.patch(f"{URL}/{hid}", json={"status": "new"}, headers=sanne)
    response = client.post(f"{URL}/{hid}/assign", json={"username": "piet"}, headers=sanne)
    assert response.status_code == 200, response.text
    items = timeline(client, sanne, hid)
    assert kinds(items)[2:] == ["claimed", "released", "assigned"]
    assert items[-1]["detail"] == {
        "to_username": "piet",
        "to_name": "Piet de Groot",
        "from_username": None,
    }
    assert items[-1]["actor"] == "staff:sanne"


def test_return_records_returned_and_the_successor_starts_its_own_timeline(
    client: TestClient,
    sanne: Headers,
    helmond_headers: Headers,
    create_handover: Create,
) -> None:
    hid = create_handover()["id"]
    response = client.patch(
        f"{URL}/{hid}",
        json={
            "status": "returned",
            "reason": "Past beter bij het wijkteam: Jan Jansen woont daar",
            "destination": {
                "level": "local",
                "organisation": "gemeente-helmond",
                "team": "wijkteam",
            },
            "consent_for_destination": True,
        },
        headers=sanne,
    )
    assert response.status_code == 200, response.text
    successor_id = response.json()["returned_to"]["id"]
    items = timeline(client, sanne, hid)
    assert kinds(items) == ["consent_given", "created", "returned"]
    returned = items[-1]["detail"]
    assert returned["to"] == "gemeente-helmond" and returned["team"] == "wijkteam"
    assert returned["new_handover_id"] == successor_id
    assert returned["consent_for_destination"] is True
    assert "reason" not in returned and "Jan" not in str(returned)

    new = timeline(client, helmond_headers, successor_id)
    assert kinds(new) == ["consent_given", "created"]
    assert new[0]["actor"] == "staff:sanne" and new[0]["detail"]["organisation"] == (
        "gemeente-helmond"
    )
    assert new[1]["detail"]["returned_from"] == "peel61"


def test_withdrawal_is_recorded_on_the_case_and_its_successor(
    client: TestClient,
    sanne: Headers,
    helmond_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
) -> None:
    hid = create_handover()["id"]
    successor_id = client.patch(
        f"{URL}/{hid}",
        json={
            "status": "returned",
            "reason": "wijkteam",
            "destination": {
                "level": "local",
                "organisation": "gemeente-helmond",
                "team": "wijkteam",
            },
        },
        headers=sanne,
    ).json()["returned_to"]["id"]
    for _ in range(2):  # idempotent: recorded once
        response = client.post(f"{URL}/{hid}/consent-withdrawal", headers=service_headers)
        assert response.status_code == 200
    assert kinds(timeline(client, sanne, hid))[-1] == "consent_withdrawn"
    assert kinds(timeline(client, sanne, hid)).count("consent_withdrawn") == 1
    # without confirmed consent the successor has no consent_given of its own
    assert kinds(timeline(client, helmond_headers, successor_id)) == [
        "created",
        "consent_withdrawn",
    ]


def test_messages_sent_and_received(
    app: FastAPI,
    client: TestClient,
    sanne: Headers,
    service_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    contact = {"name": "Jan Jansen", "phone": "06-12345678", "preferred": "phone"}
    hid = create_handover(channel="sms", contact=contact)["id"]
    sent = client.post(f"{URL}/{hid}/messages", json={"text": "Hallo Jan"}, headers=sanne)
    assert sent.status_code == 201, sent.text
    # as if Twilio had sent it: the resident's answer then belongs to this thread
    message = session.get(HandoverMessage, uuid.UUID(sent.json()["id"]))
    assert message is not None
    message.status = "sent"
    session.commit()
    answer = client.post(
        "/api/v1/inbound-messages",
        json={
            "channel": "sms",
            "from_phone": "+31612345678",
            "message_sid": f"SM{uuid.uuid4().hex}",
            "body": "Dank u",
            "media": [],
        },
        headers=service_headers,
    )
    assert answer.status_code == 200 and answer.json()["matched"] is True
    items = timeline(client, sanne, hid)
    assert kinds(items)[-2:] == ["message_sent", "message_received"]
    assert items[-2]["detail"]["channel"] == "sms"
    assert items[-2]["detail"]["status"] == "not_sent"  # TWILIO_SEND is off in tests
    assert items[-2]["actor_name"] == "Sanne Bakker"
    assert items[-1]["detail"]["files"] == 0 and items[-1]["actor"] == "service:action-server"
    assert_nothing_personal(items)


def test_events_route_visibility_and_audit(
    client: TestClient,
    sanne: Headers,
    helmond_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    hid = create_handover()["id"]
    assert client.get(f"{URL}/{hid}/events", headers=helmond_headers).status_code == 404
    assert client.get(f"{URL}/{uuid.uuid4()}/events", headers=sanne).status_code == 404
    assert client.get(f"{URL}/{hid}/events", headers=service_headers).status_code == 403
    assert client.get(f"{URL}/{hid}/events").status_code == 401
    timeline(client, sanne, hid)
    row = session.scalars(
        select(AuditLog).where(AuditLog.action == "events.read").order_by(AuditLog.id.desc())
    ).first()
    assert row is not None and row.actor == "staff:sanne"
    assert row.detail == {"handover_id": hid, "count": 2}


def test_record_refuses_unknown_kinds(session: Session, create_handover: Create) -> None:
    handover = session.get(Handover, uuid.UUID(create_handover()["id"]))
    assert handover is not None
    with pytest.raises(ValueError):
        events.record(session, handover, "lunch", actor="system")


def test_dutch_texts() -> None:
    def text(kind: str, actor_name: str | None = "Sanne", **detail: Any) -> str:
        event = HandoverEventOut(
            kind=kind, at=datetime.now(UTC), actor="staff:s", actor_name=actor_name, detail=detail
        )
        return events.describe(event, lambda org, team=None: f"<{org}/{team}>")

    assert text("claimed") == "Opgepakt door Sanne"
    assert text("contact_failed") == "Belpoging: niet bereikt"
    assert text("contact_made") == "Contact gehad"
    assert text("returned", to="x", team="t") == "Teruggelegd naar <x/t>"
    assert text("contact_attempted", callback_at="2030-05-06T12:30:00+00:00") == (
        "Belpoging: terugbellen afgesproken op 06-05-2030 14:30"
    )
    assert text("consent_withdrawn") == "Toestemming ingetrokken"
    assert text("closed") == "Afgesloten"
    assert text("message_received", files=2) == "Bericht van de inwoner ontvangen met 2 bestanden"
    service = HandoverEventOut(kind="created", at=datetime.now(UTC), actor="service:action-server")
    assert events.who(service) == "Voordeur"


def test_case_page_and_print_view_show_the_timeline(
    client: TestClient,
    sanne: Headers,
    create_handover: Create,
) -> None:
    hid = create_handover()["id"]
    client.patch(f"{URL}/{hid}", json={"status": "claimed"}, headers=sanne)
    client.post(f"{URL}/{hid}/call-attempts", json={"outcome": "niet_bereikt"}, headers=sanne)
    client.post(f"{URL}/{hid}/call-attempts", json={"outcome": "bereikt"}, headers=sanne)
    client.patch(
        f"{URL}/{hid}",
        json={
            "status": "returned",
            "reason": "wijkteam",
            "destination": {
                "level": "local",
                "organisation": "gemeente-helmond",
                "team": "wijkteam",
            },
        },
        headers=sanne,
    )
    login(client, sanne)
    page = client.get(f"/staff/handovers/{hid}").text
    assert '<section id="tijdlijn"' in page and 'id="tijdlijn-lijst"' in page
    section = page[page.index('<section id="tijdlijn"') :]
    section = section[: section.index("</section>")]
    expected = [
        "Toestemming gegeven voor",
        "Overdracht ontvangen",
        "Opgepakt door Sanne Bakker",
        "Belpoging: niet bereikt",
        "Contact gehad",
        "Teruggelegd naar Het wijkteam Helmond",
    ]
    positions = [section.index(text) for text in expected]
    assert positions == sorted(positions)
    assert "gemeente-helmond" not in section.replace('datetime="', "")  # names, not ids
    assert "04-03-2025 11:00" in section  # the consent's moment, local time (UTC+1)
    printed = client.get(f"/staff/handovers/{hid}/print").text
    assert 'id="tijdlijn-lijst"' in printed and "Contact gehad" in printed


def test_dashboard_counts_events_per_kind(
    client: TestClient,
    sanne: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    first, second = create_handover()["id"], create_handover()["id"]
    for hid in (first, second):
        client.post(f"{URL}/{hid}/call-attempts", json={"outcome": "niet_bereikt"}, headers=sanne)
    client.post(f"{URL}/{first}/call-attempts", json={"outcome": "bereikt"}, headers=sanne)
    client.patch(f"{URL}/{first}", json={"status": "claimed"}, headers=sanne)
    client.patch(f"{URL}/{first}", json={"status": "closed"}, headers=sanne)
    # an event outside the period does not count
    old = session.scalars(
        select(HandoverEvent).where(
            HandoverEvent.handover_id == uuid.UUID(second), HandoverEvent.kind == "contact_failed"
        )
    ).one()
    old.at = old.at - timedelta(days=400)
    session.commit()

    figures = client.get("/api/v1/stats", headers=sanne).json()
    counts = {c["key"]: c["count"] for c in figures["events_per_kind"]}
    assert counts["contact_failed"] == 1
    assert counts["contact_made"] == 1
    assert counts["closed"] == 1
    assert counts["claimed"] == 1
    # created today; the payload's consent is from 2025, outside the last 30 days
    assert counts["created"] == 2 and "consent_given" not in counts
    labels = {c["key"]: c["label"] for c in figures["events_per_kind"]}
    assert labels["contact_made"] == "contact gehad" and labels["contact_failed"] == "niet bereikt"

    login(client, sanne)
    page = client.get("/staff/statistieken").text
    section = page[page.index('id="gebeurtenissen"') :]
    section = section[: section.index("</section>")]
    assert "Gebeurtenissen per soort" in section and 'id="grafiek-gebeurtenissen' in section
    assert "<td>contact gehad</td><td>1</td>" in section
    assert "<td>niet bereikt</td><td>1</td>" in section

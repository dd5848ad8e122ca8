"""POST/GET/PATCH /api/v1/handovers and notes."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handover_api.core.config import Settings
from handover_api.main import create_app
from handover_api.models import AuditLog, Handover, TranscriptEvent
from handover_api.services import handovers as handover_service

URL = "/api/v1/handovers"
Payload = Callable[..., dict[str, Any]]
Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]


def count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def errors_by_field(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["msg"] for e in response.json()["detail"]}


# --- create ----------------------------------------------------------------------------------


def test_create_returns_201_with_contract_shape(
    client: TestClient, service_headers: Headers, make_payload: Payload, session: Session
) -> None:
    body = make_payload()
    response = client.post(URL, json=body, headers=service_headers)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["status"] == "new"
    assert data["reference"].startswith("VD-") and len(data["reference"]) == 10
    assert response.headers["location"] == f"{URL}/{data['id']}"
    assert data["destination"]["organisation"] == "peel61"
    assert data["contact"]["phone"] == "06-12345678"  # stored as given, not rewritten
    assert data["consent"]["given"] is True
    assert data["links"]["self"] == f"{URL}/{data['id']}"
    assert data["links"]["transcript"] == f"{URL}/{data['id']}/transcript"
    # evidence is redacted when stored
    assert data["life_domains"][0] == {
        "code": "inkomen",
        "evidence": ["ik heb geen inkomen, bel me op [telefoon]"],
    }
    assert (
        count(session, TranscriptEvent, TranscriptEvent.handover_id == uuid.UUID(data["id"])) == 3
    )
    assert (
        count(
            session,
            AuditLog,
            AuditLog.action == "handover.create",
            AuditLog.resource_id == data["id"],
        )
        == 1
    )


def test_created_at_is_timezone_aware(create_handover: Create) -> None:
    data = create_handover()
    created = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
    assert created.tzinfo is not None
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)


def test_client_proposed_reference_is_used_and_conflicts_are_409(
    client: TestClient, service_headers: Headers, make_payload: Payload
) -> None:
    first = client.post(URL, json=make_payload(reference="VD-7K3P-92"), headers=service_headers)
    assert first.status_code == 201
    assert first.json()["reference"] == "VD-7K3P-92"
    other = client.post(
        URL,
        json=make_payload(reference="VD-7K3P-92", summary="Iets anders"),
        headers=service_headers,
    )
    assert other.status_code == 409
    assert "VD-7K3P-92" in other.json()["detail"]


def test_bad_reference_format_is_422(
    client: TestClient, service_headers: Headers, make_payload: Payload
) -> None:
    errors = errors_by_field(
        client.post(URL, json=make_payload(reference="VD-1234"), headers=service_headers)
    )
    assert "VD-7K3P-92" in errors["reference"]


def test_crisis_makes_it_urgent(create_handover: Create) -> None:
    data = create_handover(crisis={"type": "acute_dakloosheid"}, priority="normal")
    assert data["crisis"] == {"type": "acute_dakloosheid"}
    assert data["priority"] == "urgent"


# --- idempotency -----------------------------------------------------------------------------


def test_idempotent_replay_returns_200_and_same_handover(
    client: TestClient, service_headers: Headers, make_payload: Payload, session: Session
) -> None:
    body = make_payload()
    headers = {**service_headers, "Idempotency-Key": "key-123"}
    first = client.post(URL, json=body, headers=headers)
    second = client.post(URL, json=body, headers=headers)
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["reference"] == first.json()["reference"]
    assert count(session, Handover, Handover.conversation_id == body["conversation_id"]) == 1
    # the transcript was not stored twice either
    assert (
        count(
            session, TranscriptEvent, TranscriptEvent.handover_id == uuid.UUID(first.json()["id"])
        )
        == 3
    )


def test_same_key_with_different_body_is_409(
    client: TestClient, service_headers: Headers, make_payload: Payload, session: Session
) -> None:
    body = make_payload()
    headers = {**service_headers, "Idempotency-Key": "key-456"}
    assert client.post(URL, json=body, headers=headers).status_code == 201
    response = client.post(URL, json={**body, "summary": "Een andere vraag"}, headers=headers)
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert count(session, Handover, Handover.conversation_id == body["conversation_id"]) == 1


def test_race_on_idempotency_key_is_resolved_by_unique_constraint(
    client: TestClient,
    service_headers: Headers,
    make_payload: Payload,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second request misses the first in its pre-check (as in a race), hits the unique
    constraint, and must answer with the first handover instead of failing or duplicating."""
    body = make_payload()
    headers = {**service_headers, "Idempotency-Key": "race-key"}
    first = client.post(URL, json=body, headers=headers)
    assert first.status_code == 201

    real = handover_service._replay_or_conflict
    calls = {"n": 0}

    def blind_first_check(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(*args, **kwargs)

    monkeypatch.setattr(handover_service, "_replay_or_conflict", blind_first_check)
    second = client.post(URL, json=body, headers=headers)
    assert calls["n"] == 2  # pre-check, then the check after the IntegrityError
    assert second.status_code == 200, second.text
    assert second.json()["id"] == first.json()["id"]
    assert count(session, Handover, Handover.idempotency_key == "race-key") == 1


def test_concurrent_requests_with_same_key_create_one_handover(
    settings: Settings, make_payload: Payload
) -> None:
    """Real threads and real sessions (no test transaction): one row, all answers agree."""
    app = create_app(settings)
    key = f"concurrent-{uuid.uuid4().hex}"
    body = make_payload()
    headers = {
        "Authorization": f"Bearer {settings.VOORDEUR_SERVICE_TOKEN.get_secret_value()}",
        "Idempotency-Key": key,
    }
    results: list[tuple[int, str]] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        with TestClient(app) as c:
            barrier.wait()
            r = c.post(URL, json=body, headers=headers)
            results.append((r.status_code, r.json().get("id", r.text)))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert sorted(code for code, _ in results) == [200, 200, 200, 201], results
        assert len({handover_id for _, handover_id in results}) == 1
        with app.state.db.session_factory() as s:
            assert count(s, Handover, Handover.idempotency_key == key) == 1
    finally:
        with app.state.db.session_factory() as s:
            for h in s.scalars(select(Handover).where(Handover.idempotency_key == key)):
                s.execute(AuditLog.__table__.delete().where(AuditLog.resource_id == str(h.id)))
                s.delete(h)
            s.commit()
        app.state.db.dispose()


# --- validation ------------------------------------------------------------------------------


def test_bad_municipality_code_message(
    client: TestClient, service_headers: Headers, make_payload: Payload
) -> None:
    body = make_payload(municipality={"code": "5708", "name": "Helmond"})
    response = client.post(URL, json=body, headers=service_headers)
    errors = errors_by_field(response)
    assert "GM" in errors["municipality.code"] and "4 digits" in errors["municipality.code"]
    assert "municipality.code" in response.json()["message"]
    # the rejected input is not echoed back
    assert "input" not in response.json()["detail"][0]


def test_consent_false_is_422_with_clear_message(
    client: TestClient, service_headers: Headers, make_payload: Payload, session: Session
) -> None:
    body = make_payload(
        consent={"given": False, "at": "2025-03-04T10:00:00Z", "text_version": "v1"}
    )
    errors = errors_by_field(client.post(URL, json=body, headers=service_headers))
    assert "consent.given must be true" in errors["consent.given"]
    assert "toestemming" in errors["consent.given"]
    assert count(session, Handover, Handover.conversation_id == body["conversation_id"]) == 0


def test_missing_contact_is_422(
    client: TestClient, service_headers: Headers, make_payload: Payload
) -> None:
    body = make_payload()
    del body["contact"]
    errors = errors_by_field(client.post(URL, json=body, headers=service_headers))
    assert errors["contact"] == "Field required"


def test_contact_without_phone_or_email_is_422_unless_chat(
    client: TestClient, service_headers: Headers, make_payload: Payload
) -> None:
    body = make_payload(contact={"name": "Jan", "phone": None, "email": None, "preferred": None})
    errors = errors_by_field(client.post(URL, json=body, headers=service_headers))
    assert "phone number or an e-mail" in errors["contact"]
    chat = make_payload(contact={"name": "Jan", "preferred": "chat"})
    assert client.post(URL, json=chat, headers=service_headers).status_code == 201


@pytest.mark.parametrize(
    ("contact", "field", "fragment"),
    [
        ({"phone": "12345", "preferred": "phone"}, "contact.phone", "Dutch phone number"),
        (
            {"phone": "+44 20 7946 0958", "preferred": "phone"},
            "contact.phone",
            "Dutch phone number",
        ),
        ({"email": "jan@", "preferred": "email"}, "contact.email", "e-mail address"),
        ({"email": "jan@example.nl", "preferred": "sms"}, "contact", "contact.phone is required"),
    ],
)
def test_contact_validation(
    client: TestClient,
    service_headers: Headers,
    make_payload: Payload,
    contact: dict[str, str],
    field: str,
    fragment: str,
) -> None:
    errors = errors_by_field(
        client.post(URL, json=make_payload(contact=contact), headers=service_headers)
    )
    assert fragment in errors[field]


@pytest.mark.parametrize(
    "phone",
    [
        "06-12345678",
        "0612345678",
        "+31 6 12345678",
        "040 123 4567",
        "(040) 1234567",
        "0031612345678",
    ],
)
def test_dutch_phone_numbers_are_accepted(
    client: TestClient, service_headers: Headers, make_payload: Payload, phone: str
) -> None:
    body = make_payload(contact={"phone": phone, "preferred": "phone"})
    assert client.post(URL, json=body, headers=service_headers).status_code == 201


def test_unknown_life_domain_and_control_characters_are_422(
    client: TestClient, service_headers: Headers, make_payload: Payload
) -> None:
    body = make_payload(
        life_domains=[{"code": "geld", "evidence": []}],
        summary="ok\x00bad",
    )
    errors = errors_by_field(client.post(URL, json=body, headers=service_headers))
    assert "unknown life domain 'geld'" in errors["life_domains.0.code"]
    assert "inkomen" in errors["life_domains.0.code"]
    assert "control characters" in errors["summary"] and "U+0000" in errors["summary"]


def test_lengths_are_limited(
    client: TestClient, service_headers: Headers, make_payload: Payload
) -> None:
    body = make_payload(
        summary="x" * 4001,
        transcript=[{"sender": "user", "text": "y" * 10_001, "at": "2025-03-04T10:00:00Z"}],
    )
    errors = errors_by_field(client.post(URL, json=body, headers=service_headers))
    assert "at most 4000" in errors["summary"]
    assert "at most 10000" in errors["transcript.0.text"]


def test_multiline_text_and_html_are_stored_unchanged(create_handover: Create) -> None:
    summary = "Regel 1\nRegel 2\t<b>niet escapen</b> & zo"
    assert create_handover(summary=summary)["summary"] == summary


def test_unknown_fields_and_bad_enums_are_422(
    client: TestClient, service_headers: Headers, make_payload: Payload
) -> None:
    errors = errors_by_field(
        client.post(
            URL, json=make_payload(channel="telegram", colour="blue"), headers=service_headers
        )
    )
    assert "channel" in errors and "colour" in errors


# --- auth ------------------------------------------------------------------------------------


def test_no_token_is_401_with_www_authenticate(client: TestClient, make_payload: Payload) -> None:
    for response in (client.post(URL, json=make_payload()), client.get(URL)):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_invalid_token_is_401(client: TestClient) -> None:
    response = client.get(URL, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_service_token_cannot_list_or_read(
    client: TestClient, service_headers: Headers, create_handover: Create
) -> None:
    handover = create_handover()
    assert client.get(URL, headers=service_headers).status_code == 403
    assert client.get(f"{URL}/{handover['id']}", headers=service_headers).status_code == 403


def test_staff_cannot_create(
    client: TestClient, peel_headers: Headers, make_payload: Payload
) -> None:
    assert client.post(URL, json=make_payload(), headers=peel_headers).status_code == 403


def test_other_organisation_sees_nothing(
    client: TestClient, helmond_headers: Headers, create_handover: Create, session: Session
) -> None:
    handover = create_handover()  # addressed to peel61
    listing = client.get(URL, headers=helmond_headers).json()
    assert listing["total"] == 0 and listing["items"] == []
    detail = client.get(f"{URL}/{handover['id']}", headers=helmond_headers)
    assert detail.status_code == 404
    assert handover["summary"] not in detail.text
    patch = client.patch(
        f"{URL}/{handover['id']}", json={"status": "claimed"}, headers=helmond_headers
    )
    assert patch.status_code == 404
    note = client.post(
        f"{URL}/{handover['id']}/notes", json={"text": "hoi"}, headers=helmond_headers
    )
    assert note.status_code == 404
    transcript = client.get(
        f"/api/v1/conversations/{handover['conversation_id']}/transcript?view=full",
        headers=helmond_headers,
    )
    assert transcript.status_code == 404
    assert "Ik ben ontslagen" not in transcript.text
    assert session.get(Handover, uuid.UUID(handover["id"])).status == "new"  # type: ignore[union-attr]


def test_revoked_token_is_401(client: TestClient, peel_headers: Headers, session: Session) -> None:
    from handover_api.models import ApiToken

    assert client.get(URL, headers=peel_headers).status_code == 200
    for token in session.scalars(select(ApiToken)):
        token.revoked_at = datetime.now(UTC)
    session.commit()
    assert client.get(URL, headers=peel_headers).status_code == 401


# --- list ------------------------------------------------------------------------------------


def test_list_order_filters_and_pagination(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    a = create_handover(summary="A normal oud")
    b = create_handover(summary="B urgent oud", priority="urgent")
    c = create_handover(summary="C normal nieuw", municipality={"code": "GM0762", "name": "Deurne"})
    d = create_handover(summary="D urgent nieuw", priority="urgent")
    create_handover(
        destination={"level": "local", "organisation": "gemeente-helmond", "team": "wijkteam"}
    )
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for offset, item in enumerate((a, b, c, d)):
        row = session.get(Handover, uuid.UUID(item["id"]))
        assert row is not None
        row.created_at = base + timedelta(hours=offset)
    session.commit()

    page = client.get(URL, headers=peel_headers).json()
    assert page["total"] == 4 and page["page"] == 1 and page["page_size"] == 20
    assert [i["summary"][0] for i in page["items"]] == ["D", "B", "C", "A"]
    item = page["items"][0]
    for key in (
        "summary",
        "channel",
        "consent",
        "reference",
        "status",
        "priority",
        "municipality",
        "destination",
        "life_domains",
        "multi_problem",
        "crisis",
        "contact",
        "created_at",
    ):
        assert key in item
    assert item["links"] == {"self": f"{URL}/{d['id']}", "transcript": d["links"]["transcript"]}

    second = client.get(URL, params={"page": 2, "page_size": 3}, headers=peel_headers).json()
    assert [i["summary"][0] for i in second["items"]] == ["A"]
    assert second["total"] == 4 and second["page_size"] == 3

    urgent = client.get(URL, params={"priority": "urgent"}, headers=peel_headers).json()
    assert {i["summary"][0] for i in urgent["items"]} == {"B", "D"}
    deurne = client.get(URL, params={"municipality": "GM0762"}, headers=peel_headers).json()
    assert [i["summary"][0] for i in deurne["items"]] == ["C"]
    assert client.get(URL, params={"level": "local"}, headers=peel_headers).json()["total"] == 0

    client.patch(f"{URL}/{a['id']}", json={"status": "claimed"}, headers=peel_headers)
    claimed = client.get(URL, params={"status": "claimed"}, headers=peel_headers).json()
    assert [i["id"] for i in claimed["items"]] == [a["id"]]
    assert client.get(URL, params={"status": "bogus"}, headers=peel_headers).status_code == 422
    assert client.get(URL, params={"page_size": 1000}, headers=peel_headers).status_code == 422


# --- detail ----------------------------------------------------------------------------------


def test_detail_has_notes_redacted_transcript_and_is_audited(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    handover = create_handover()
    client.post(
        f"{URL}/{handover['id']}/notes", json={"text": "Gebeld, geen gehoor"}, headers=peel_headers
    )
    response = client.get(f"{URL}/{handover['id']}", headers=peel_headers)
    assert response.status_code == 200
    data = response.json()
    assert [n["text"] for n in data["notes"]] == ["Gebeld, geen gehoor"]
    assert [e["event_id"] for e in data["transcript"]] == ["e1", "e2", "e3"]
    assert data["transcript"][2]["text"] == "[telefoon], mijn BSN is [BSN verwijderd]"
    actions = set(
        session.scalars(
            select(AuditLog.action).where(
                AuditLog.actor == "staff:anna", AuditLog.action.like("%.read")
            )
        )
    )
    assert actions == {"handover.read", "transcript.read"}


def test_detail_validates_against_contract_schema(
    client: TestClient, peel_headers: Headers, create_handover: Create, contract_dir: Path
) -> None:
    import jsonschema

    schema_file = contract_dir / "handover.schema.json"
    if not schema_file.exists():
        pytest.skip(f"{schema_file} not present")
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for overrides in (
        {},
        {
            "crisis": {"type": "suicidaliteit"},
            "application": None,
            "destination": {"level": "regional", "organisation": "peel61", "team": "werk-inkomen"},
        },
    ):
        handover = create_handover(**overrides)
        data = client.get(f"{URL}/{handover['id']}", headers=peel_headers).json()
        errors = sorted(validator.iter_errors(data), key=str)
        assert not errors, [e.message for e in errors]
        for stamp in (data["created_at"], data["consent"]["at"]):
            assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None


def test_unknown_id_is_404_and_bad_id_is_422(client: TestClient, peel_headers: Headers) -> None:
    assert client.get(f"{URL}/{uuid.uuid4()}", headers=peel_headers).status_code == 404
    assert client.get(f"{URL}/not-a-uuid", headers=peel_headers).status_code == 422


# --- status transitions ----------------------------------------------------------------------


def test_happy_path_transitions_are_audited(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    handover = create_handover()
    for status in ("claimed", "in_progress", "closed"):
        response = client.patch(
            f"{URL}/{handover['id']}", json={"status": status}, headers=peel_headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    rows = session.scalars(
        select(AuditLog)
        .where(AuditLog.action == "handover.update", AuditLog.resource_id == handover["id"])
        .order_by(AuditLog.id)
    ).all()
    assert [(r.detail or {}).get("to") for r in rows] == ["claimed", "in_progress", "closed"]
    assert all(r.actor == "staff:anna" for r in rows)
    row = session.get(Handover, uuid.UUID(handover["id"]))
    assert row is not None and row.closed_at is not None


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "closed"),  # new -> closed: must be claimed first
        (["claimed", "in_progress"], "claimed"),
        (["claimed", "closed"], "in_progress"),  # closed is final
        (["in_progress"], "new"),
        ([], "new"),  # no-op transition
    ],
)
def test_illegal_transitions_are_409(
    client: TestClient,
    peel_headers: Headers,
    create_handover: Create,
    path: list[str],
    target: str,
) -> None:
    handover = create_handover()
    for status in path:
        assert (
            client.patch(
                f"{URL}/{handover['id']}", json={"status": status}, headers=peel_headers
            ).status_code
            == 200
        )
    response = client.patch(
        f"{URL}/{handover['id']}", json={"status": target}, headers=peel_headers
    )
    assert response.status_code == 409
    assert "cannot change from" in response.json()["detail"]


def _return(
    client: TestClient, handover_id: str, headers: Headers, reason: str, **extra: Any
) -> Any:
    return client.patch(
        f"{URL}/{handover_id}",
        json={
            "status": "returned",
            "reason": reason,
            "destination": {
                "level": "local",
                "organisation": "gemeente-helmond",
                "team": "wijkteam",
            },
            **extra,
        },
        headers=headers,
    )


def test_return_creates_linked_handover_for_other_organisation(
    client: TestClient,
    peel_headers: Headers,
    helmond_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    original = create_handover()
    client.post(
        f"{URL}/{original['id']}/notes",
        json={"text": "interne notitie peel61"},
        headers=peel_headers,
    )
    reason = "Arbeidsvermogen ontbreekt: dagbesteding via de WMO past beter."
    response = _return(client, original["id"], peel_headers, reason, consent_for_destination=True)
    assert response.status_code == 200, response.text
    old = response.json()
    assert old["status"] == "returned"
    assert old["return_reason"] == reason
    new_ref = old["returned_to"]
    assert new_ref["destination"]["organisation"] == "gemeente-helmond"

    inbox = client.get(URL, headers=helmond_headers).json()
    assert [i["id"] for i in inbox["items"]] == [new_ref["id"]]
    new = client.get(f"{URL}/{new_ref['id']}", headers=helmond_headers).json()
    assert new["status"] == "new"
    assert new["reference"] != original["reference"]
    assert new["returned_from"]["id"] == original["id"]
    assert new["destination"] == {
        "level": "local",
        "organisation": "gemeente-helmond",
        "team": "wijkteam",
        "reason": reason,
    }
    for key in (
        "summary",
        "contact",
        "life_domains",
        "application",
        "municipality",
        "conversation_id",
        "channel",
    ):
        assert new[key] == original[key], key
    # The consent now names the new organisation and says who recorded it.
    assert new["consent"]["organisation"] == "gemeente-helmond"
    assert new["consent"]["covers_destination"] is True
    assert new["consent"]["text_version"] == "bevestigd-bij-terugleggen"
    assert new["withheld"] == []
    assert new["notes"] == []  # internal notes stay with peel61
    assert [e["event_id"] for e in new["transcript"]] == ["e1", "e2", "e3"]
    # each organisation reads the transcript through its own handover
    assert (
        client.get(f"{URL}/{new_ref['id']}/transcript", headers=helmond_headers).status_code == 200
    )
    assert client.get(f"{URL}/{original['id']}/transcript", headers=peel_headers).status_code == 200
    assert (
        client.get(f"{URL}/{original['id']}/transcript", headers=helmond_headers).status_code == 404
    )
    # returned is final
    again = client.patch(
        f"{URL}/{original['id']}", json={"status": "claimed"}, headers=peel_headers
    )
    assert again.status_code == 409
    assert (
        count(
            session,
            AuditLog,
            AuditLog.action == "handover.create",
            AuditLog.resource_id == new_ref["id"],
        )
        == 1
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            {
                "status": "returned",
                "destination": {
                    "level": "local",
                    "organisation": "gemeente-helmond",
                    "team": "wijkteam",
                },
            },
            "reason",
        ),
        ({"status": "returned", "reason": "past beter lokaal"}, "destination"),
        (
            {
                "status": "returned",
                "reason": "x",
                "destination": {
                    "level": "regional",
                    "organisation": "peel61",
                    "team": "werk-inkomen",
                },
            },
            "another organisation",
        ),
        (
            {
                "status": "claimed",
                "destination": {
                    "level": "local",
                    "organisation": "gemeente-helmond",
                    "team": "wijkteam",
                },
            },
            "only",
        ),
    ],
)
def test_return_needs_reason_and_other_destination(
    client: TestClient,
    peel_headers: Headers,
    create_handover: Create,
    session: Session,
    body: dict[str, Any],
    fragment: str,
) -> None:
    handover = create_handover()
    response = client.patch(f"{URL}/{handover['id']}", json=body, headers=peel_headers)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]
    assert count(session, Handover, Handover.conversation_id == handover["conversation_id"]) == 1
    row = session.get(Handover, uuid.UUID(handover["id"]))
    assert row is not None and row.status == "new"


# --- notes -----------------------------------------------------------------------------------


def test_notes_are_authored_and_audited(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    handover = create_handover()
    response = client.post(
        f"{URL}/{handover['id']}/notes",
        json={"text": "Afspraak gemaakt <script>"},
        headers=peel_headers,
    )
    assert response.status_code == 201
    note = response.json()
    assert note["author_username"] == "anna"
    assert note["author"] == "Medewerker peel61"
    assert note["text"] == "Afspraak gemaakt <script>"
    assert (
        count(
            session,
            AuditLog,
            AuditLog.action == "note.create",
            AuditLog.resource_id == handover["id"],
        )
        == 1
    )
    assert (
        client.post(
            f"{URL}/{handover['id']}/notes", json={"text": ""}, headers=peel_headers
        ).status_code
        == 422
    )


def test_logs_contain_no_personal_data(
    client: TestClient,
    service_headers: Headers,
    make_payload: Payload,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = make_payload(conversation_id="whatsapp:+31612345678")
    with caplog.at_level("DEBUG"):
        response = client.post(URL, json=body, headers=service_headers)
    assert response.status_code == 201
    text = caplog.text
    assert response.json()["reference"] in text
    for secret in ("+31612345678", "06-12345678", "jan@example.nl", "Jan Jansen", "123456782"):
        assert secret not in text


def test_return_without_consent_for_the_new_organisation_shows_metadata_only(
    client: TestClient, peel_headers: Headers, helmond_headers: Headers, create_handover: Create
) -> None:
    """The resident agreed to share with Senzer, not with the wijkteam: the wijkteam sees
    that a case is waiting and who holds the consent, not the resident's data."""
    original = create_handover()
    response = _return(client, original["id"], peel_headers, "past beter bij het wijkteam")
    assert response.status_code == 200, response.text
    new_id = response.json()["returned_to"]["id"]

    new = client.get(f"{URL}/{new_id}", headers=helmond_headers).json()
    assert new["consent"]["covers_destination"] is False
    assert new["consent"]["organisation"] == "peel61"
    assert set(new["withheld"]) >= {"summary", "contact", "transcript", "application"}
    assert new["contact"] == {
        "name": None,
        "phone": None,
        "email": None,
        "preferred": None,
        "best_time": None,
    }
    assert new["application"] is None and new["life_domains"] == []
    assert "06-12345678" not in str(new) and "Jan Jansen" not in str(new)
    assert new["transcript"] == []
    assert new["returned_from"]["reference"] == original["reference"]
    transcript = client.get(f"{URL}/{new_id}/transcript", headers=helmond_headers).json()
    assert transcript["events"] == [] and transcript["consent_covers"] is False
    conv = original["conversation_id"]
    assert (
        client.get(f"/api/v1/conversations/{conv}/transcript", headers=helmond_headers).status_code
        == 404
    )


def test_return_only_to_the_other_level_of_the_municipality(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    original = create_handover()  # Helmond
    response = client.patch(
        f"{URL}/{original['id']}",
        json={
            "status": "returned",
            "reason": "verkeerde gemeente",
            "destination": {
                "level": "local",
                "organisation": "gemeente-deurne",
                "team": "sociaal-team",
            },
        },
        headers=peel_headers,
    )
    assert response.status_code == 422
    assert "gemeente-helmond/wijkteam" in response.json()["detail"]
    assert client.get(f"{URL}/{original['id']}", headers=peel_headers).json()["status"] == "new"


def test_consent_withdrawal_hides_the_data_and_is_idempotent(
    client: TestClient, service_headers: Headers, peel_headers: Headers, create_handover: Create
) -> None:
    created = create_handover()
    url = f"{URL}/{created['id']}/consent-withdrawal"
    assert client.post(url, headers=peel_headers).status_code == 403
    first = client.post(url, headers=service_headers)
    assert first.status_code == 200, first.text
    withdrawn_at = first.json()["consent"]["withdrawn_at"]
    assert withdrawn_at
    again = client.post(url, headers=service_headers).json()
    assert again["consent"]["withdrawn_at"] == withdrawn_at
    seen = client.get(f"{URL}/{created['id']}", headers=peel_headers).json()
    assert seen["consent"]["covers_destination"] is False
    assert seen["transcript"] == [] and seen["contact"]["phone"] is None
    assert (
        client.get(f"{URL}/{uuid.uuid4()}/consent-withdrawal", headers=service_headers).status_code
        == 405
    )
    assert (
        client.post(f"{URL}/{uuid.uuid4()}/consent-withdrawal", headers=service_headers).status_code
        == 404
    )

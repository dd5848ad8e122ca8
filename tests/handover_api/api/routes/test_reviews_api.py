"""GET /api/v1/reviews/export (Rasa NLU YAML) and GET /api/v1/stats."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import AuditLog
from handover_api.services import reviews
from handover_api.services.principals import Principal
from tests.handover_api.conftest import REPO_ROOT, bearer
from tests.handover_api.web.test_review_pages import HELMOND, T0, add_conversation, make_user

Headers = dict[str, str]
RASA = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"


def reviewer(organisation: str, username: str = "rita") -> Principal:
    return Principal(
        kind="staff",
        username=username,
        display_name="Rita",
        organisation=organisation,
        role="reviewer",
    )


def mark_all(session: Session) -> None:
    """Marks of peel61 (with a duplicate text, a conflict and markup-like text) and one of
    gemeente-helmond that must stay out of peel61's export."""
    tricky = [
        ("user", "hoi ik wil bijstand, bel me op 06-12345678", "ask_bijstand", 0.42, False),
        ("user", "hoi  ik wil bijstand,\nbel me op 06 12345678", "ask_bijstand", 0.40, False),
        ("user", 'mijn [BSN](x) is 123456782: "ja" # {geen}', "inform", 0.3, True),
        ("user", "ik woon op Kerkstraat 12 en het gaat mis", None, None, True),
        ("user", "- lijstje? | pijp > groter", "greet", 0.2, False),
        ("user", "   ", "greet", 0.2, False),
    ]
    first, events = add_conversation(session, messages=tricky)
    second, more = add_conversation(session, messages=HELMOND)
    peel = reviewer("peel61")
    wanted = ["apply", "apply", "ask_bijstand", "ask_schuldhulp", "out_of_scope", "greet"]
    for event, intent in zip(events, wanted, strict=True):
        reviews.mark_message(
            session, conversation=first, event_id=event.id, correct_intent=intent, principal=peel
        )
    # the same text marked once more, with another intent later: the latest wins
    reviews.mark_message(
        session, conversation=second, event_id=more[0].id, correct_intent="apply", principal=peel
    )
    reviews.mark_message(
        session,
        conversation=second,
        event_id=more[2].id,
        correct_intent="ask_schuldhulp",
        principal=reviewer("gemeente-helmond", "hans"),
    )
    session.commit()


EXPECTED = {
    "apply": ["hoi ik wil bijstand, bel me op [telefoon]"],
    "ask_bijstand": ['mijn [BSN] (x) is [BSN]: "ja" # {geen}'],
    "ask_schuldhulp": ["ik woon op [adres] en het gaat mis"],
    "out_of_scope": ["- lijstje? | pijp > groter"],
}


def parsed(text: str) -> dict[str, list[str]]:
    data = yaml.safe_load(text)
    assert data["version"] == "3.1" and list(data) == ["version", "nlu"]
    out = {}
    for item in data["nlu"]:
        assert set(item) == {"intent", "examples"}
        out[item["intent"]] = [line.removeprefix("- ") for line in item["examples"].splitlines()]
    return out


def test_export_shape_scope_and_audit(client: TestClient, session: Session) -> None:
    mark_all(session)
    response = client.get("/api/v1/reviews/export", headers=bearer(make_user(session, "peel61")))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/yaml")
    assert "\nnlu:\n- intent: apply\n  examples: |\n    - hoi ik wil" in response.text
    assert parsed(response.text) == EXPECTED
    assert response.headers["x-voordeur-examples"] == "4"
    assert "06-12345678" not in response.text and "123456782" not in response.text
    reviews.check_nlu_yaml(response.text, EXPECTED)
    exported = session.scalars(select(AuditLog).where(AuditLog.action == "review.export")).one()
    assert exported.resource_id == "peel61" and exported.detail == {
        "intents": 4,
        "examples": 4,
        "via": "api",
    }

    helmond = client.get(
        "/api/v1/reviews/export", headers=bearer(make_user(session, "gemeente-helmond"))
    )
    assert parsed(helmond.text) == {"ask_schuldhulp": ["wat moet ik doen met de deurwaarder"]}


def test_empty_export_is_valid(client: TestClient, session: Session) -> None:
    response = client.get("/api/v1/reviews/export", headers=bearer(make_user(session, "peel61")))
    assert yaml.safe_load(response.text) == {"version": "3.1", "nlu": []}


def test_export_needs_a_reviewer(
    client: TestClient, session: Session, peel_headers: Headers, service_headers: Headers
) -> None:
    assert client.get("/api/v1/reviews/export").status_code == 401
    assert client.get("/api/v1/reviews/export", headers=peel_headers).status_code == 403
    assert client.get("/api/v1/reviews/export", headers=service_headers).status_code == 403


@pytest.mark.skipif(not RASA.exists(), reason=".venv-rasa is not installed")
def test_export_passes_rasa_data_validate(session: Session, tmp_path: Path) -> None:
    """The export loads with ``rasa data validate`` against the bot's domain, next to the
    project's own training data (as ``voordeur test`` validates it)."""
    mark_all(session)
    text, _ = reviews.export_nlu(session, principal=reviewer("peel61"), via="test")
    data_dir = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data" / "nlu", data_dir / "nlu")
    for folder in ("rules", "stories"):
        shutil.copytree(REPO_ROOT / "data" / folder, data_dir / folder)
    (data_dir / "nlu" / "voordeur_correcties.yml").write_text(text, encoding="utf-8")
    result = subprocess.run(
        [
            str(RASA),
            "data",
            "validate",
            "--config",
            str(REPO_ROOT / "bot" / "config.yml"),
            "--domain",
            str(REPO_ROOT / "bot" / "domain"),
            "--data",
            str(data_dir / "nlu"),
            str(data_dir / "rules"),
            str(data_dir / "stories"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_stats_json_is_scoped_and_checked(
    client: TestClient,
    session: Session,
    create_handover: Callable[..., dict[str, Any]],
    peel_headers: Headers,
    helmond_headers: Headers,
) -> None:
    today = datetime.now(UTC)
    helmond, _ = add_conversation(session, at=today - timedelta(days=2), messages=HELMOND)
    add_conversation(session, municipality="GM0762", at=today - timedelta(days=1))
    add_conversation(session, municipality="GM0453", at=today - timedelta(days=1))
    add_conversation(session, at=today - timedelta(days=40))  # outside the default 30 days
    create_handover(conversation_id=helmond.id)

    body = client.get("/api/v1/stats", headers=peel_headers).json()
    assert body["organisation"] == "peel61"
    assert body["conversations"] == 2 and len(body["conversations_per_day"]) == 30
    assert body["conversations_with_handover"] == 1 and body["needed_person_share"] == 0.5
    assert body["handovers"] == 1
    assert body["handovers_per_destination"] == [
        {"key": "werk-inkomen", "label": "Senzer", "count": 1}
    ]
    assert {d["key"] for d in body["handovers_per_life_domain"]} == {"inkomen", "schulden"}
    assert body["fallback_messages"] == 1 and body["user_messages"] == 2

    local = client.get("/api/v1/stats", headers=helmond_headers).json()
    assert local["conversations"] == 1 and local["handovers"] == 0
    reviewer_token = make_user(session, "gemeente-helmond")
    assert client.get("/api/v1/stats", headers=bearer(reviewer_token)).status_code == 200

    ranged = client.get(
        "/api/v1/stats", params={"from": "2025-03-01", "to": "2025-03-03"}, headers=peel_headers
    ).json()
    assert ranged["date_from"] == "2025-03-01" and len(ranged["conversations_per_day"]) == 3
    wrong = client.get(
        "/api/v1/stats", params={"from": "2025-03-10", "to": "2025-03-01"}, headers=peel_headers
    )
    assert wrong.status_code == 422
    assert client.get("/api/v1/stats").status_code == 401


def test_conversation_list_is_the_contracts_shape_and_scope(
    client: TestClient, session: Session, peel_headers: Headers
) -> None:
    """GET /api/v1/conversations (contract v2): the reviewer's municipalities only, redacted,
    each resident message with intent and confidence; filters as the contract names them."""
    helmond, _ = add_conversation(session, messages=HELMOND)
    add_conversation(session, municipality="GM0453", messages=HELMOND)  # Velsen: not peel61's
    quiet, _ = add_conversation(session, municipality="GM0762", at=T0 + timedelta(hours=1))
    session.commit()
    token = make_user(session, "peel61")

    body = client.get("/api/v1/conversations", headers=bearer(token)).json()
    assert [item["id"] for item in body["items"]] == [quiet.id, helmond.id] and body["total"] == 2
    first = next(item for item in body["items"] if item["id"] == helmond.id)
    assert first["municipality_name"] == "Helmond" and first["fallbacks"] == 1
    user = first["events"][0]
    assert user["sender"] == "user" and user["intent"] == "ask_bijstand"
    assert user["confidence"] == pytest.approx(0.42)
    assert "06-12345678" not in user["text"] and "[telefoon]" in user["text"]
    assert first["events"][2]["fallback"] is True

    only_fallback = client.get(
        "/api/v1/conversations", params={"fallback": "true"}, headers=bearer(token)
    ).json()
    assert [item["id"] for item in only_fallback["items"]] == [helmond.id]
    deurne = client.get(
        "/api/v1/conversations", params={"municipality": "GM0762"}, headers=bearer(token)
    ).json()
    assert [item["id"] for item in deurne["items"]] == [quiet.id]
    assert (
        client.get(
            "/api/v1/conversations",
            params={"since": "2026-03-10", "until": "2026-03-01"},
            headers=bearer(token),
        ).status_code
        == 422
    )
    assert client.get("/api/v1/conversations", headers=peel_headers).status_code == 403


def test_marking_a_message_through_the_api(client: TestClient, session: Session) -> None:
    """POST /api/v1/conversations/{id}/reviews (contract v2) marks one resident message by its
    event_id; marking again replaces it; the mark appears in the export."""
    helmond, events = add_conversation(session, messages=HELMOND)
    session.commit()
    token = make_user(session, "peel61")
    url = f"/api/v1/conversations/{helmond.id}/reviews"
    body = {"event_id": events[2].event_id, "verdict": "misunderstood", "correct_intent": "apply"}

    created = client.post(url, json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.json()["correct_intent"] == "apply"
    again = client.post(
        url, json=body | {"correct_intent": "ask_schuldhulp"}, headers=bearer(token)
    )
    assert again.status_code == 201
    export = client.get("/api/v1/reviews/export", headers=bearer(token)).text
    assert parsed(export) == {"ask_schuldhulp": ["wat moet ik doen met de deurwaarder"]}

    assert (
        client.post(url, json=body | {"event_id": "nope"}, headers=bearer(token)).status_code == 404
    )
    assert (
        client.post(
            url, json=body | {"correct_intent": "no_such"}, headers=bearer(token)
        ).status_code
        == 422
    )
    assert (
        client.post(url, json=body | {"verdict": "fine"}, headers=bearer(token)).status_code == 422
    )
    other = make_user(session, "werkplein-ijmond")
    assert client.post(url, json=body, headers=bearer(other)).status_code == 404


def test_stats_take_the_contracts_since_and_until(
    client: TestClient, session: Session, peel_headers: Headers
) -> None:
    ranged = client.get(
        "/api/v1/stats", params={"since": "2025-03-01", "until": "2025-03-03"}, headers=peel_headers
    ).json()
    assert ranged["date_from"] == "2025-03-01" and ranged["date_to"] == "2025-03-03"

"""The action-result check done once gives the answers Rasa's own check gives."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

ANSWERS: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "gemeente", "value": "Helmond", "timestamp": None}],
        "responses": [{"text": "Dank u.", "buttons": [], "custom": {}}],
    },
    {"events": [{"event": "form", "name": None}], "responses": [{"response": "utter_ask_x"}]},
    {
        "events": [
            {"event": "active_loop", "name": "aanvraag_form"},
            {"event": "bot", "text": "Wat is uw postcode?", "data": {}, "metadata": {}},
            {"event": "action_execution_rejected", "name": "aanvraag_form"},
            {"event": "reset_slots"},
        ],
        "responses": [],
    },
]
WRONG: list[dict[str, Any]] = [
    {"events": [{"name": "no event type"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "noon"}]},
    {"events": [{"event": "slott", "name": "x", "value": 1}], "responses": []},
    {"events": [{"event": "slot", "name": 5, "value": 1}], "responses": []},
    {"events": [{"event": "user", "text": 7}], "responses": []},
    {"events": [{"event": "slot", "name": "x", "value": 1}, "no object"], "responses": []},
]


@pytest.fixture(autouse=True)
def installed() -> None:
    rasa_speedups.install()


@pytest.mark.parametrize("answer", ANSWERS)
def test_valid_answers_pass_as_before(answer: dict[str, Any]) -> None:
    validate(answer, RemoteAction.action_response_format_spec())
    action = RemoteAction("action_x", None)
    assert action._validate_action_result(answer) is True


@pytest.mark.parametrize("answer", WRONG)
def test_invalid_answers_fail_with_the_same_error(answer: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as rasas:
        validate(answer, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError) as ours:
        RemoteAction("action_x", None)._validate_action_result(answer)
    assert ours.value.message.startswith(rasas.value.message)
    assert "Failed to validate Action server response" in ours.value.message
    assert list(ours.value.path) == list(rasas.value.path)


@pytest.mark.parametrize("answer", ANSWERS + WRONG)
def test_checking_by_event_type_agrees_with_the_full_check(answer: dict[str, Any]) -> None:
    full = rasa_speedups.action_result_validator().is_valid(answer)
    assert rasa_speedups._passes_by_event_type(answer) is full


def test_every_event_type_of_the_schema_has_its_own_branch() -> None:
    split = rasa_speedups._by_event_type()
    assert split is not None  # else every answer takes the full (slower) check
    assert {"user", "bot", "slot", "action", "active_loop", "session_started"} <= set(split[1])


def test_the_schema_is_checked_once() -> None:
    assert rasa_speedups.action_result_validator() is rasa_speedups.action_result_validator()


async def test_endpoint_sessions_send_the_same_json_faster() -> None:
    import json

    import ujson
    from rasa.utils.endpoints import EndpointConfig

    endpoint = EndpointConfig(
        "http://localhost:5055/webhook", basic_auth={"username": "a", "password": "b"}
    )
    session = endpoint.session()
    try:
        assert session._json_serialize is ujson.dumps
        assert session.auth is not None and session.auth.login == "a"
    finally:
        await session.close()
    body = {
        "tracker": {
            "events": [{"event": "user", "text": "Ik wil één ding / vragen", "timestamp": 1.5}]
        }
    }
    assert json.loads(ujson.dumps(body)) == body

"""Checks Rasa does per message that give the same answer every time, done once instead.

Profiling the Rasa server under load (tests/bench/rasa_turns.py --py-spy) showed a third of
its CPU time in `jsonschema.validate` on the action server's answers: Rasa 3.6's
`RemoteAction._validate_action_result` calls it for every custom action, and `validate` first
checks the (constant) response schema against the JSON Schema meta-schema, every time. The
replacement checks the schema once, then validates each answer exactly as `validate` does
(same validator class, `best_match` error, same message), so an invalid answer still fails
the same way.

A second profile put the remaining check at 5 % of the Rasa process: each event of an answer is
tried against all 23 event types of the schema's `oneOf`. Every branch fixes its own `event`
constant, so an event can only match the branch of its own type; the answer is first checked
with the schema without the `oneOf` and each event against its own type's branch (about 6x
faster). Only when that finds a problem does the full check run, so the error is the one
Rasa's own check raises.

Rasa sends the tracker and the whole domain to the action server with every custom action,
serialised by aiohttp with the standard library's `json.dumps` (5 % of the Rasa process).
Rasa's HTTP sessions serialise with `ujson.dumps` instead (a dependency of Rasa 3.6 already):
the same JSON values, about 3x faster.

`install()` is idempotent; bot/policies.py and bot/tracker_store.py call it, so every Rasa
process that loads our model or our tracker store has it.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import aiohttp
import ujson
from jsonschema import exceptions
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig


@cache
def action_result_validator() -> Any:
    """The validator of the action server's answer format; its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@cache
def _by_event_type() -> tuple[Any, dict[str, Any]] | None:
    """The schema without the events' `oneOf`, and one validator per event type; None when
    the branches are not told apart by their `event` constant (then only the full check)."""
    schema = RemoteAction.action_response_format_spec()
    items = schema["properties"]["events"]["items"]
    branches = items.get("oneOf") or []
    types = [branch.get("properties", {}).get("event", {}).get("const") for branch in branches]
    if not branches or None in types or len(set(types)) != len(types):
        return None
    validator_class = validator_for(schema)
    outline = copy.deepcopy(schema)
    del outline["properties"]["events"]["items"]["oneOf"]
    base = {key: value for key, value in items.items() if key != "oneOf"}
    per_type = {
        event_type: validator_class({**base, "allOf": [branch]})
        for event_type, branch in zip(types, branches, strict=True)
    }
    return validator_class(outline), per_type


def _passes_by_event_type(result: dict[str, Any]) -> bool:
    """True only when `result` is certainly valid (see the module docstring)."""
    split = _by_event_type()
    if split is None:
        return False
    outline, per_type = split
    if not outline.is_valid(result):
        return False
    for event in result.get("events") or []:
        validator = per_type.get(event.get("event"))
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(_: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the schema check done once."""
    if _passes_by_event_type(result):
        return True
    error = exceptions.best_match(action_result_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            "For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def endpoint_session(self: EndpointConfig) -> aiohttp.ClientSession:
    """EndpointConfig.session, serialising request bodies with ujson."""
    auth = (
        aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
        if self.basic_auth
        else None
    )
    return aiohttp.ClientSession(
        headers=self.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        json_serialize=ujson.dumps,
    )


def install() -> None:
    """Puts the replacements in place (once per process)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    EndpointConfig.session = endpoint_session  # type: ignore[method-assign]

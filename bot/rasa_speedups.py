"""Checks Rasa does per message that give the same answer every time, done once instead.

Profiling the Rasa server under load (tests/bench/rasa_turns.py --py-spy) showed a third of
its CPU time in `jsonschema.validate` on the action server's answers: Rasa 3.6's
`RemoteAction._validate_action_result` calls it for every custom action, and `validate` first
checks the (constant) response schema against the JSON Schema meta-schema, every time. The
replacement checks the schema once, then validates each answer exactly as `validate` does
(same validator class, `best_match` error, same message), so an invalid answer still fails
the same way.

`install()` is idempotent; bot/policies.py and bot/tracker_store.py call it, so every Rasa
process that loads our model or our tracker store has it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import exceptions
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def action_result_validator() -> Any:
    """The validator of the action server's answer format; its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(_: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the schema check done once."""
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


def install() -> None:
    """Puts the replacements in place (once per process)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]

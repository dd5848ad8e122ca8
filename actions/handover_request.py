"""The handover request the assistant sends to POST /api/v1/handovers, typed once.

The request is the contract's handover (contract/handover.schema.json) without what the API
decides itself (id, status, created_at), plus the transcript. `request_problems` checks a
request against that schema, so that the action tests and the fake API refuse what the real
API would refuse, before a resident ever meets a rejected handover.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypedDict

from jsonschema import Draft202012Validator

CONTRACT_SCHEMA = Path(__file__).resolve().parents[1] / "contract" / "handover.schema.json"
SET_BY_THE_API = ("id", "status", "created_at")


class Municipality(TypedDict):
    code: str
    name: str


class Destination(TypedDict):
    level: Literal["regional", "local"]
    organisation: str
    team: str
    reason: str


class LifeDomain(TypedDict):
    code: str
    evidence: list[str]


class Crisis(TypedDict):
    type: str


class Application(TypedDict):
    type: Literal["bijstand", "bijzondere_bijstand", "schuldhulp", "wmo", "minimaregeling"]
    fields: dict[str, Any]
    complete: bool


class Contact(TypedDict):
    name: str | None
    phone: str | None
    email: str | None
    preferred: Literal["phone", "sms", "whatsapp", "email", "chat"] | None
    best_time: str | None


class Consent(TypedDict):
    given: Literal[True]
    at: str
    text_version: str


class TranscriptLine(TypedDict, total=False):
    event_id: str
    sender: Literal["user", "bot"]
    text: str
    at: str
    intent: str


class HandoverRequest(TypedDict):
    reference: str
    conversation_id: str
    channel: Literal["web", "sms", "whatsapp", "rest", "shell"]
    priority: Literal["normal", "urgent"]
    municipality: Municipality
    destination: Destination
    life_domains: list[LifeDomain]
    multi_problem: bool
    crisis: Crisis | None
    summary: str
    application: Application | None
    contact: Contact
    consent: Consent
    transcript: list[TranscriptLine]


@lru_cache(maxsize=1)
def request_schema() -> dict[str, Any]:
    """The contract's handover schema, as a request: without the fields the API sets, with
    the transcript the request carries."""
    schema: dict[str, Any] = copy.deepcopy(json.loads(CONTRACT_SCHEMA.read_text(encoding="utf-8")))
    schema["required"] = [f for f in schema["required"] if f not in SET_BY_THE_API]
    for name in SET_BY_THE_API:
        schema["properties"].pop(name, None)
    schema["properties"]["transcript"] = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["event_id", "sender", "text", "at"],
            "properties": {
                "event_id": {"type": "string"},
                "sender": {"enum": ["user", "bot"]},
                "text": {"type": "string"},
                "at": {"type": "string"},
                "intent": {"type": "string"},
            },
        },
    }
    schema["required"].append("transcript")
    return schema


def request_problems(payload: Any) -> list[str]:
    """What is wrong with a handover request by the contract, as readable lines; [] if none."""
    validator = Draft202012Validator(request_schema())
    return sorted(
        f"{'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
        for error in validator.iter_errors(payload)
    )

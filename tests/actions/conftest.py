"""Builders for rasa_sdk trackers and a fake handover API, so actions are tested without Rasa
running and without the real API (which has its own tests)."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handover_request import request_problems


def make_tracker(
    *,
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    channel: str | None = "web",
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    sender_id: str = "test-conversation",
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
        "metadata": {"channel": channel} if channel else {},
    }
    now = time.time()
    history = (
        events
        if events is not None
        else [
            {
                "event": "user",
                "text": text,
                "timestamp": now,
                "parse_data": latest,
                "input_channel": "rest",
            },
        ]
    )
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest,
        events=history,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


class FakeHandoverApi:
    """A local aiohttp server that behaves like POST /api/v1/handovers (idempotency included)
    and POST /api/v1/handovers/{id}/consent-withdrawal (contract v2, idempotent), and
    DELETE /api/v1/conversations/{id} (erasure of the review copy, idempotent, 204).

    Every request is recorded in ``requests`` as {"method", "path", "headers", "body"};
    ``withdrawn`` lists the handover ids whose consent was withdrawn, in order; ``erased`` the
    conversation ids erased, in order."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        self.conflict_references: set[str] = set()
        self.withdrawn: list[str] = []
        self.erased: list[str] = []

    def _record(self, request: web.Request, body: Any) -> None:
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "headers": dict(request.headers),
                "body": body,
            }
        )

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(request, body)
        if self.fail_with:
            return web.json_response({"detail": "failure"}, status=self.fail_with)
        if request.headers.get("Authorization") != "Bearer test-service-token":
            return web.json_response({"detail": "unauthorised"}, status=401)
        problems = request_problems(body)
        if problems:  # what the real API refuses (422), by the contract's schema
            return web.json_response({"detail": problems}, status=422)
        key = request.headers["Idempotency-Key"]
        if key in self.by_key:
            return web.json_response(self.by_key[key], status=200)
        if body.get("reference") in self.conflict_references:
            return web.json_response({"detail": "reference taken"}, status=409)
        created = {**body, "id": f"id-{len(self.by_key) + 1}", "status": "new"}
        self.by_key[key] = created
        return web.json_response(created, status=201)

    async def withdraw_consent(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self._record(request, body)
        if self.fail_with:
            return web.json_response({"detail": "failure"}, status=self.fail_with)
        if request.headers.get("Authorization") != "Bearer test-service-token":
            return web.json_response({"detail": "unauthorised"}, status=401)
        handover_id = request.match_info["handover_id"]
        handover = next((h for h in self.by_key.values() if h["id"] == handover_id), None)
        if handover is None:
            return web.json_response({"detail": "not found"}, status=404)
        if handover_id not in self.withdrawn:
            self.withdrawn.append(handover_id)
        handover["consent_withdrawn"] = True
        return web.json_response(handover, status=200)

    async def erase_conversation(self, request: web.Request) -> web.Response:
        self._record(request, None)
        if self.fail_with:
            return web.json_response({"detail": "failure"}, status=self.fail_with)
        if request.headers.get("Authorization") != "Bearer test-service-token":
            return web.json_response({"detail": "unauthorised"}, status=401)
        conversation_id = request.match_info["conversation_id"]
        if conversation_id not in self.erased:
            self.erased.append(conversation_id)
        return web.Response(status=204)

    def add_handover(self, handover_id: str, key: str = "", **fields: Any) -> dict[str, Any]:
        """A handover the API already holds (as if created earlier in the conversation)."""
        created = {"id": handover_id, "status": "new", **fields}
        self.by_key[key or f"key-{handover_id}"] = created
        return created


@pytest.fixture
async def fake_api(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> AsyncIterator[FakeHandoverApi]:
    api = FakeHandoverApi()
    app = web.Application()
    app.router.add_post("/api/v1/handovers", api.create)
    app.router.add_post("/api/v1/handovers/{handover_id}/consent-withdrawal", api.withdraw_consent)
    app.router.add_delete("/api/v1/conversations/{conversation_id}", api.erase_conversation)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    monkeypatch.setenv("HANDOVER_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("VOORDEUR_SERVICE_TOKEN", "test-service-token")
    monkeypatch.setenv("VOORDEUR_OUTBOX", str(tmp_path / "outbox.sqlite3"))
    monkeypatch.setenv("VOORDEUR_HTTP_TIMEOUT", "2")
    yield api
    await runner.cleanup()
    await asyncio.sleep(0)


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)


def valid_request(reference: str = "VD-AAAA-01", **overrides: Any) -> dict[str, Any]:
    """A handover request the contract accepts, for tests about delivery rather than content."""
    request: dict[str, Any] = {
        "reference": reference,
        "conversation_id": "c-test",
        "channel": "web",
        "priority": "normal",
        "municipality": {"code": "GM0794", "name": "Helmond"},
        "destination": {
            "level": "regional",
            "organisation": "peel61",
            "team": "werk-inkomen",
            "reason": "Een vraag over bijstand gaat naar Senzer.",
        },
        "life_domains": [],
        "multi_problem": False,
        "crisis": None,
        "summary": "x",
        "application": None,
        "contact": {
            "name": None,
            "phone": "0612345678",
            "email": None,
            "preferred": "phone",
            "best_time": None,
        },
        "consent": {"given": True, "at": "2026-12-02T10:00:00+00:00", "text_version": "v"},
        "transcript": [],
    }
    request.update(overrides)
    return request

"""The local profile's event broker (bot/review_broker.py) against a fake handover API: an
aiohttp server on a free port that records what it gets and can answer 503 or be stopped."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.review_broker import INGEST_PATH, HandoverApiEventBroker, review_event, sender_key

TOKEN = "test-service-token-0123456789"
SENDER = "whatsapp:+31612345678"
REPO = Path(__file__).resolve().parents[2]


class FakeApi:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[str] = []
        self.status = 200
        self.delay = 0.0
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.Response(status=self.status)
        self.headers.append(request.headers.get("Authorization", ""))
        self.bodies.append(await request.json())
        return web.json_response({"received": 0, "stored": 0, "pending": 0})

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post(INGEST_PATH, self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def events(self) -> list[dict[str, Any]]:
        return [e for body in self.bodies for e in body["events"]]


@pytest.fixture
async def api() -> AsyncIterator[FakeApi]:
    fake = FakeApi()
    await fake.start()
    yield fake
    await fake.stop()


def user(i: int, sender: str = SENDER) -> dict[str, Any]:
    return {
        "sender_id": sender,
        "event": "user",
        "timestamp": 1_790_000_000.0 + i,
        "text": f"bericht {i}",
        "parse_data": {
            "intent": {"name": "inform", "confidence": 0.8},
            "entities": [{"entity": "telefoonnummer", "value": "0612345678"}],
            "intent_ranking": [],
        },
        "input_channel": "twilio",
        "metadata": {"channel": "whatsapp", "from": "+31612345678"},
    }


async def until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_sender_key_is_pinned() -> None:
    """handover_api/consumer.py computes the same key (tests/handover_api pins the same value)."""
    assert sender_key(TOKEN, SENDER) == (
        "44f6e32d074773d4d8848c1167df564bab9a68d80e2038b9138acd11cae06e64"
    )
    assert sender_key(TOKEN, "+31612345678") != sender_key(TOKEN, SENDER)
    assert sender_key("another-token-0123456789ab", SENDER) != sender_key(TOKEN, SENDER)


def test_only_what_review_needs_leaves_rasa() -> None:
    reduced = review_event(user(1))
    assert reduced == {
        "event": "user",
        "timestamp": 1_790_000_001.0,
        "text": "bericht 1",
        "input_channel": "twilio",
        "parse_data": {"intent": {"name": "inform", "confidence": 0.8}},
        "metadata": {"channel": "whatsapp"},
    }
    assert review_event({"event": "slot", "name": "telefoonnummer", "value": "06"}) is None
    assert review_event({"event": "slot", "name": "gemeente_code", "value": "GM0794"}) == {
        "event": "slot",
        "timestamp": None,
        "name": "gemeente_code",
        "value": "GM0794",
    }
    assert review_event({"event": "user_featurization"}) is None


async def test_batches_per_sender_in_order_without_the_sender_id(api: FakeApi) -> None:
    broker = HandoverApiEventBroker(api.url, TOKEN, flush_interval=0.02, batch_size=4)
    for i in range(10):
        broker.publish(user(i))
        broker.publish(user(100 + i, sender="web-abc"))
    await until(lambda: len(api.events()) == 20)
    await broker.close()

    assert all(h == f"Bearer {TOKEN}" for h in api.headers)
    assert all(len(b["events"]) <= 4 for b in api.bodies)
    by_sender: dict[str, list[str]] = {}
    for body in api.bodies:
        by_sender.setdefault(body["sender_key"], []).extend(e["text"] for e in body["events"])
    assert by_sender == {
        sender_key(TOKEN, SENDER): [f"bericht {i}" for i in range(10)],
        sender_key(TOKEN, "web-abc"): [f"bericht {100 + i}" for i in range(10)],
    }
    whatsapp = {b["sender_key"]: b["whatsapp"] for b in api.bodies}
    assert whatsapp == {sender_key(TOKEN, SENDER): True, sender_key(TOKEN, "web-abc"): False}
    everything = json.dumps(api.bodies)
    assert "612345678" not in everything and "whatsapp:" not in everything


async def test_retries_while_the_api_is_down_then_delivers_in_order() -> None:
    api = FakeApi()
    await api.start()
    port = api.port
    await api.stop()  # nobody listens: connection refused
    broker = HandoverApiEventBroker(
        f"http://127.0.0.1:{port}", TOKEN, flush_interval=0.02, max_backoff=0.1
    )
    for i in range(5):
        broker.publish(user(i))
    await asyncio.sleep(0.3)
    assert broker.buffered == 5 and broker.sent == 0

    await api.start(port)  # back, but overloaded
    api.status = 503
    broker.publish(user(5))
    await asyncio.sleep(0.3)
    assert broker.buffered == 6 and api.bodies == []

    api.status = 200
    await until(lambda: broker.buffered == 0)
    assert [e["text"] for e in api.events()] == [f"bericht {i}" for i in range(6)]
    await broker.close()
    await api.stop()


async def test_a_refused_batch_is_dropped_not_retried_forever(api: FakeApi) -> None:
    api.status = 422
    broker = HandoverApiEventBroker(api.url, TOKEN, flush_interval=0.02)
    broker.publish(user(1))
    await until(lambda: broker.buffered == 0)
    api.status = 200
    broker.publish(user(2))
    await until(lambda: len(api.events()) == 1)
    assert api.events()[0]["text"] == "bericht 2"
    await broker.close()


async def test_publish_never_waits_for_the_api(api: FakeApi) -> None:
    api.delay = 2.0  # a hanging API
    broker = HandoverApiEventBroker(api.url, TOKEN, flush_interval=0.01, request_timeout=0.2)
    started = time.perf_counter()
    for i in range(200):
        broker.publish(user(i))
    assert time.perf_counter() - started < 0.5
    # the loop stays free while a request hangs
    ticks = 0
    for _ in range(10):
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 10
    await broker.close()


async def test_bounded_buffer_drops_the_oldest_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = HandoverApiEventBroker("http://127.0.0.1:9", TOKEN, max_buffered=5)
    # No running flush (nothing listens on port 9 anyway): publish only buffers.
    with caplog.at_level("WARNING"):
        for i in range(8):
            broker.publish(user(i, sender=f"s{i % 2}"))
    assert broker.buffered == 5 and broker.dropped == 3
    assert "oldest dropped" in caplog.text
    remaining = sorted(item.event["text"] for buf in broker._buffers.values() for item in buf)
    assert remaining == [f"bericht {i}" for i in range(3, 8)]
    await broker.close()


async def test_loaded_from_endpoints_yml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bot/endpoints.yml names this class; Rasa's loader builds it from url and token."""
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "tracker.sqlite3"))
    monkeypatch.setenv("HANDOVER_API_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("VOORDEUR_SERVICE_TOKEN", TOKEN)
    config = read_endpoint_config(str(REPO / "bot" / "endpoints.yml"), "event_broker")
    assert config is not None
    broker = await EventBroker.create(config)
    assert isinstance(broker, HandoverApiEventBroker)
    assert broker.url == "http://127.0.0.1:8000" + INGEST_PATH
    await broker.close()


async def test_no_broker_without_url_or_token() -> None:
    assert await HandoverApiEventBroker.from_endpoint_config(EndpointConfig(url=None)) is None


def test_production_profile_keeps_rabbitmq() -> None:
    raw = yaml.safe_load((REPO / "bot" / "endpoints.production.yml").read_text())
    assert raw["event_broker"]["type"] == "pika"


async def test_with_rasas_own_tracker_store(api: FakeApi) -> None:
    """Rasa's tracker store publishes each new event (event.as_dict() plus sender_id) when a
    turn is saved; what reaches the API is in order and without the sender id."""
    broker = HandoverApiEventBroker(api.url, TOKEN, flush_interval=0.02)
    domain = Domain.from_dict(
        {"slots": {"conversation_ref": {"type": "text", "mappings": [{"type": "custom"}]}}}
    )
    store = InMemoryTrackerStore(domain, event_broker=broker)
    tracker = DialogueStateTracker(SENDER, domain.slots)
    for event in [
        ActionExecuted("action_session_start"),
        BotUttered("Welkom", data={"buttons": [{"title": "Ja", "payload": "/affirm"}]}),
        SessionStarted(),
        SlotSet("conversation_ref", "c-abc"),
        ActionExecuted("action_listen"),
        UserUttered(
            "/affirm",
            intent={"name": "affirm", "confidence": 1.0},
            input_channel="twilio",
            metadata={"channel": "whatsapp"},
        ),
    ]:
        tracker.update(event)
    await store.save(tracker)
    await until(lambda: len(api.events()) == 6)
    await broker.close()

    events = api.events()
    assert [e["event"] for e in events] == [
        "action",
        "bot",
        "session_started",
        "slot",
        "action",
        "user",
    ]
    assert events[1]["data"] == {"buttons": [{"title": "Ja", "payload": "/affirm"}]}
    assert events[3] == {
        "event": "slot",
        "timestamp": events[3]["timestamp"],
        "name": "conversation_ref",
        "value": "c-abc",
    }
    assert events[5]["parse_data"] == {"intent": {"name": "affirm", "confidence": 1.0}}
    assert events[5]["input_channel"] == "twilio"
    assert api.bodies[0]["sender_key"] == sender_key(TOKEN, SENDER)
    assert SENDER not in json.dumps(api.bodies)

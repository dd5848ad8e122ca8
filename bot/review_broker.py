"""Rasa event broker of the local profile: conversation events to the handover API for review.

The front office reviews every conversation of its municipality, with or without a handover
(``handover_api/services/conversation_log.py``). The production profile publishes Rasa's
events to RabbitMQ (``bot/endpoints.production.yml``, read by ``handover_api/consumer.py``);
the local profile has no broker, so this one posts them to
``POST {HANDOVER_API_URL}/api/v1/conversations/rasa-events`` (``bot/endpoints.yml``)::

    event_broker:
      type: bot.review_broker.HandoverApiEventBroker
      url: ${HANDOVER_API_URL}
      token: ${VOORDEUR_SERVICE_TOKEN}

What leaves Rasa: per sender an HMAC of the sender id (``sender_key``; the sender id is a
phone number for SMS and WhatsApp and is never sent), whether it is a WhatsApp sender, and
only the parts of the events that review needs (``review_event``): messages with their
intent and confidence, action names, session starts and the slots ``conversation_ref``,
``gemeente`` and ``gemeente_code``. No entities, no other slot values.

``publish`` never blocks a turn: it only buffers (per sender, in order). A background task
posts each sender's events in batches every ``flush_interval`` seconds (sooner when a batch is
full), retries with exponential backoff while the API is down or answers 5xx/401/429, and
drops a batch the API refuses as invalid (4xx) with an error in the log. The buffer holds at
most ``max_buffered`` events; only beyond that the oldest are dropped, with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import logging
from asyncio import AbstractEventLoop
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

import aiohttp
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

INGEST_PATH = "/api/v1/conversations/rasa-events"
# The HMAC key is derived from the service token, so the API side (handover_api/consumer.py)
# computes the same sender key and no separate secret has to be distributed.
KEY_CONTEXT = b"voordeur conversation sender key v1"
EVENT_TYPES = frozenset({"user", "bot", "action", "session_started", "slot"})
REVIEW_SLOTS = frozenset({"conversation_ref", "gemeente", "gemeente_code"})
# Answers after which the same batch is tried again later; other 4xx answers are final.
RETRY_STATUSES = frozenset({401, 403, 404, 408, 409, 425, 429})

FLUSH_INTERVAL = 0.5
BATCH_SIZE = 100
MAX_BUFFERED = 10_000
REQUEST_TIMEOUT = 5.0
MAX_BACKOFF = 30.0
CLOSE_TIMEOUT = 5.0


def derive_key(service_token: str) -> bytes:
    return hmac.new(service_token.encode("utf-8"), KEY_CONTEXT, hashlib.sha256).digest()


def sender_key(service_token: str, sender_id: str) -> str:
    """HMAC-SHA256 of the sender id (hex, 64 characters) under a key derived from the service
    token. Same function as ``handover_api.consumer.sender_key`` (tests pin both)."""
    return _hmac_hex(derive_key(service_token), sender_id)


def _hmac_hex(key: bytes, sender_id: str) -> str:
    return hmac.new(key, sender_id.encode("utf-8"), hashlib.sha256).hexdigest()[:64]


def _user_part(event: dict[str, Any]) -> dict[str, Any]:
    parse_data = event.get("parse_data")
    intent = parse_data.get("intent") if isinstance(parse_data, dict) else None
    metadata = event.get("metadata")
    part: dict[str, Any] = {
        "text": event.get("text"),
        "input_channel": event.get("input_channel"),
    }
    if isinstance(intent, dict):
        part["parse_data"] = {
            "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")}
        }
    if isinstance(metadata, dict) and "channel" in metadata:
        part["metadata"] = {"channel": metadata.get("channel")}
    return part


def _bot_part(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    buttons = data.get("buttons") if isinstance(data, dict) else None
    part: dict[str, Any] = {"text": event.get("text")}
    if isinstance(buttons, list):
        part["data"] = {
            "buttons": [
                {"title": b.get("title"), "payload": b.get("payload")}
                for b in buttons
                if isinstance(b, dict)
            ]
        }
    return part


def review_event(event: dict[str, Any]) -> dict[str, Any] | None:
    """The part of one Rasa event that review needs, or None when it needs none of it."""
    kind = event.get("event")
    if kind not in EVENT_TYPES:
        return None
    if kind == "slot" and event.get("name") not in REVIEW_SLOTS:
        return None
    timestamp = event.get("timestamp")
    out: dict[str, Any] = {
        "event": kind,
        "timestamp": timestamp if isinstance(timestamp, int | float) else None,
    }
    if kind == "user":
        out.update(_user_part(event))
    elif kind == "bot":
        out.update(_bot_part(event))
    elif kind == "action":
        out["name"] = event.get("name")
    elif kind == "slot":
        out.update(name=event.get("name"), value=event.get("value"))
    return out


@dataclass(frozen=True)
class _Item:
    seq: int
    event: dict[str, Any]


class HandoverApiEventBroker(EventBroker):
    """Buffers Rasa's events per sender and posts them to the handover API in the background."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        flush_interval: float = FLUSH_INTERVAL,
        batch_size: int = BATCH_SIZE,
        max_buffered: int = MAX_BUFFERED,
        request_timeout: float = REQUEST_TIMEOUT,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self.url = url.rstrip("/") + INGEST_PATH
        self._token = token
        self._key = derive_key(token)
        self.flush_interval = flush_interval
        self.batch_size = max(1, batch_size)
        self.max_buffered = max(1, max_buffered)
        self.request_timeout = request_timeout
        self.max_backoff = max_backoff
        self._buffers: OrderedDict[str, deque[_Item]] = OrderedDict()
        self._whatsapp: dict[str, bool] = {}
        self._buffered = 0
        self._seq = itertools.count()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._down = False
        self.dropped = 0
        self.sent = 0

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig,
        event_loop: AbstractEventLoop | None = None,
    ) -> HandoverApiEventBroker | None:
        """From ``event_broker:`` in endpoints.yml: ``url`` (the handover API's base URL),
        ``token`` (the service token); optional ``flush_interval``, ``batch_size``,
        ``max_buffered``. Rasa loads custom brokers without an event loop argument."""
        url = broker_config.url
        token = broker_config.token or broker_config.kwargs.get("service_token")
        if not url or not token:
            logger.error("review broker: url and token are required; conversations not logged")
            return None
        options = {
            name: broker_config.kwargs[name]
            for name in ("flush_interval", "batch_size", "max_buffered")
            if broker_config.kwargs.get(name) is not None
        }
        return cls(
            str(url),
            str(token),
            flush_interval=float(options.get("flush_interval", FLUSH_INTERVAL)),
            batch_size=int(options.get("batch_size", BATCH_SIZE)),
            max_buffered=int(options.get("max_buffered", MAX_BUFFERED)),
        )

    # --- called by Rasa, in its event loop; never waits ---

    def publish(self, event: dict[str, Any]) -> None:
        sender_id = event.get("sender_id")
        if not isinstance(sender_id, str):
            return
        reduced = review_event(event)
        if reduced is None:
            return
        key = _hmac_hex(self._key, sender_id)
        self._whatsapp[key] = sender_id.startswith("whatsapp:")
        buffer = self._buffers.setdefault(key, deque())
        buffer.append(_Item(next(self._seq), reduced))
        self._buffered += 1
        if self._buffered > self.max_buffered:
            self._drop_oldest()
        self._start()
        if len(buffer) >= self.batch_size and self._wakeup is not None:
            self._wakeup.set()

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        """Rasa shuts down: one last attempt to send what is buffered (bounded in time)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._buffers:
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(self.flush(), timeout=CLOSE_TIMEOUT)
        if self._buffers:
            logger.warning("review broker: %d events not sent at shutdown", self._buffered)
        if self._http is not None:
            await self._http.close()
            self._http = None

    # --- buffering ---

    @property
    def buffered(self) -> int:
        return self._buffered

    def _drop_oldest(self) -> None:
        key = min(self._buffers, key=lambda k: self._buffers[k][0].seq)
        buffer = self._buffers[key]
        buffer.popleft()
        if not buffer:
            del self._buffers[key]
        self._buffered -= 1
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 1000 == 0:
            logger.warning(
                "review broker: buffer full (%d events), oldest dropped (%d so far)",
                self.max_buffered,
                self.dropped,
            )

    def _start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop yet: the events wait for the next publish in one
            return
        self._wakeup = asyncio.Event()
        self._task = loop.create_task(self._run())

    # --- sending ---

    async def _run(self) -> None:
        backoff = 0.0
        assert self._wakeup is not None
        while True:
            if backoff:
                await asyncio.sleep(backoff)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self.flush_interval)
            self._wakeup.clear()
            try:
                ok = await self.flush()
            except Exception:  # never let the task die: log and retry later
                logger.exception("review broker: sending failed")
                ok = False
            backoff = 0.0 if ok else min(max(backoff * 2, self.flush_interval), self.max_backoff)

    async def flush(self) -> bool:
        """Send every sender's buffered events, oldest first per sender. False when the API
        could not take them (they stay buffered, in order)."""
        for key in list(self._buffers):
            while self._buffers.get(key):
                items = list(itertools.islice(self._buffers[key], self.batch_size))
                outcome = await self._post(key, items)
                if outcome == "retry":
                    return False
                self._remove(key, items[-1].seq)
                if outcome == "ok":
                    self.sent += len(items)
        return True

    def _remove(self, key: str, last_seq: int) -> None:
        buffer = self._buffers.get(key)
        while buffer and buffer[0].seq <= last_seq:
            buffer.popleft()
            self._buffered -= 1
        if buffer is not None and not buffer:
            del self._buffers[key]
            self._whatsapp.pop(key, None)

    async def _post(self, key: str, items: list[_Item]) -> str:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.request_timeout)
            )
        body = {
            "sender_key": key,
            "whatsapp": self._whatsapp.get(key, False),
            "events": [item.event for item in items],
        }
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with self._http.post(self.url, json=body, headers=headers) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self._went_down(type(exc).__name__)
            return "retry"
        if status < 300:
            if self._down:
                logger.info("review broker: the handover API takes events again")
                self._down = False
            return "ok"
        if status >= 500 or status in RETRY_STATUSES:
            self._went_down(f"HTTP {status}")
            return "retry"
        logger.error(
            "review broker: the handover API refused %d events (HTTP %d); dropped",
            len(items),
            status,
        )
        return "dropped"

    def _went_down(self, reason: str) -> None:
        if not self._down:
            logger.warning(
                "review broker: handover API unavailable (%s); %d events buffered, retrying",
                reason,
                self._buffered,
            )
            self._down = True

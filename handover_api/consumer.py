"""Reads Rasa's conversation events from RabbitMQ into the review log (production profile).

``python -m handover_api.consumer``. The production Rasa server publishes every tracker event
to the queue ``RABBITMQ_QUEUE`` (``bot/endpoints.production.yml``, Rasa's pika broker: one
JSON event per message, with the ``sender_id``). This consumer turns the sender id into the
same HMAC ``sender_key`` as the local profile's broker (``bot/review_broker.py``), drops the
sender id and hands the event to ``services/conversation_log.ingest``.

Delivery: one message at a time (prefetch 1, so a requeued message keeps its place and a
sender's events stay in order). A message is acknowledged after its transaction committed;
when the database cannot be reached it is requeued (nack) and the consumer waits, backing off
up to 30 s; a message that can never be stored (not JSON, no sender, refused by the database
as invalid) is rejected with an error in the log, so it cannot block the queue. Log lines
carry no message content.

Environment: ``DATABASE_URL`` and ``VOORDEUR_SERVICE_TOKEN`` (as the API), ``RABBITMQ_HOST``
(127.0.0.1), ``RABBITMQ_PORT`` (5672), ``RABBITMQ_USER`` / ``RABBITMQ_PASSWORD`` (guest),
``RABBITMQ_QUEUE`` (voordeur_events).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from handover_api.services.conversation_log import ingest

logger = logging.getLogger("handover_api.consumer")

# Same derivation as bot/review_broker.py (the two venvs share no code; tests pin the value).
KEY_CONTEXT = b"voordeur conversation sender key v1"
DEFAULT_QUEUE = "voordeur_events"
MAX_BACKOFF = 30.0

Outcome = Literal["ack", "requeue", "reject"]
# Errors that say "the database is not there right now", not "this message is wrong".
TRANSIENT = (OperationalError, DisconnectionError, PoolTimeout)


def derive_key(service_token: str) -> bytes:
    return hmac.new(service_token.encode("utf-8"), KEY_CONTEXT, hashlib.sha256).digest()


def sender_key(service_token: str, sender_id: str) -> str:
    """HMAC-SHA256 of the sender id under a key derived from the service token (hex)."""
    return _hmac_hex(derive_key(service_token), sender_id)


def _hmac_hex(key: bytes, sender_id: str) -> str:
    return hmac.new(key, sender_id.encode("utf-8"), hashlib.sha256).hexdigest()[:64]


def handle_message(session_factory: Callable[[], Session], key: bytes, body: bytes) -> Outcome:
    """Store one event message; what to tell RabbitMQ. Commits before answering ``ack``."""
    try:
        event: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        logger.error("review consumer: a message is not JSON; rejected")
        return "reject"
    if not isinstance(event, dict) or not isinstance(event.get("sender_id"), str):
        logger.error("review consumer: a message has no sender; rejected")
        return "reject"
    sender_id = event.pop("sender_id")
    try:
        with session_factory() as session:
            ingest(
                session,
                sender_key=_hmac_hex(key, sender_id),
                events=[event],
                whatsapp=sender_id.startswith("whatsapp:"),
            )
            session.commit()
    except TRANSIENT as exc:
        logger.warning("review consumer: database unavailable (%s); requeued", _name(exc))
        return "requeue"
    except DBAPIError as exc:
        if exc.connection_invalidated:
            logger.warning("review consumer: database connection lost; requeued")
            return "requeue"
        logger.error("review consumer: the database refused an event (%s); rejected", _name(exc))
        return "reject"
    except SQLAlchemyError as exc:
        logger.error("review consumer: an event could not be stored (%s); rejected", _name(exc))
        return "reject"
    except Exception as exc:  # a bug must not crash-loop the consumer on one message
        logger.error("review consumer: an event could not be read (%s); rejected", _name(exc))
        return "reject"
    return "ack"


def _name(exc: BaseException) -> str:
    """The error's class (and the driver's), never its message: it may quote the text."""
    orig = getattr(exc, "orig", None)
    return f"{type(exc).__name__}/{type(orig).__name__}" if orig is not None else type(exc).__name__


@dataclass(frozen=True)
class RabbitConfig:
    host: str = "127.0.0.1"
    port: int = 5672
    user: str = "guest"
    password: str = "guest"
    queue: str = DEFAULT_QUEUE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RabbitConfig:
        env = os.environ if environ is None else environ
        return cls(
            host=env.get("RABBITMQ_HOST") or cls.host,
            port=int(env.get("RABBITMQ_PORT") or cls.port),
            user=env.get("RABBITMQ_USER") or cls.user,
            password=env.get("RABBITMQ_PASSWORD") or cls.password,
            queue=env.get("RABBITMQ_QUEUE") or cls.queue,
        )


class Consumer:
    """Consumes the queue until ``stop`` (SIGTERM/SIGINT); reconnects when RabbitMQ goes."""

    def __init__(
        self, rabbit: RabbitConfig, session_factory: Callable[[], Session], key: bytes
    ) -> None:
        self.rabbit = rabbit
        self.session_factory = session_factory
        self.key = key
        self.stopping = False
        self._connection: Any = None
        self._channel: Any = None
        self._backoff = 0.0

    def _on_message(self, channel: Any, method: Any, _properties: Any, body: bytes) -> None:
        outcome = handle_message(self.session_factory, self.key, body)
        if outcome == "ack":
            self._backoff = 0.0
            channel.basic_ack(delivery_tag=method.delivery_tag)
        elif outcome == "requeue":
            self._backoff = min(max(self._backoff * 2, 0.5), MAX_BACKOFF)
            # connection.sleep keeps heartbeats going (time.sleep would not).
            channel.connection.sleep(self._backoff)
            channel.basic_nack(delivery_tag=method.delivery_tag, requeue=True)
        else:
            channel.basic_nack(delivery_tag=method.delivery_tag, requeue=False)

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self, *_: object) -> None:
        self.stopping = True
        if self._connection is not None and self._channel is not None:
            self._connection.add_callback_threadsafe(self._channel.stop_consuming)

    def run(self) -> None:
        # Only the consumer needs pika (no type stubs); the API imports nothing of RabbitMQ.
        import pika  # type: ignore[import-untyped]

        credentials = pika.PlainCredentials(self.rabbit.user, self.rabbit.password)
        parameters = pika.ConnectionParameters(
            host=self.rabbit.host,
            port=self.rabbit.port,
            credentials=credentials,
            heartbeat=60,
            blocked_connection_timeout=300,
        )
        delay = 1.0
        while not self.stopping:
            try:
                self._connection = pika.BlockingConnection(parameters)
                self._channel = self._connection.channel()
                # As Rasa's pika broker declares it (durable, no arguments): whoever starts
                # first creates it, and no event published before the consumer is lost.
                self._channel.queue_declare(queue=self.rabbit.queue, durable=True)
                self._channel.basic_qos(prefetch_count=1)
                self._channel.basic_consume(
                    queue=self.rabbit.queue, on_message_callback=self._on_message
                )
                logger.info("review consumer: consuming queue %s", self.rabbit.queue)
                delay = 1.0
                self._channel.start_consuming()
            except pika.exceptions.AMQPError as exc:
                logger.warning(
                    "review consumer: RabbitMQ unavailable (%s); retrying in %.0f s",
                    type(exc).__name__,
                    delay,
                )
                self._wait(delay)
                delay = min(delay * 2, MAX_BACKOFF)
            finally:
                if self._connection is not None and self._connection.is_open:
                    with contextlib.suppress(pika.exceptions.AMQPError):
                        self._connection.close()
                self._connection = self._channel = None


def main() -> int:
    from pydantic import ValidationError

    from handover_api.core.config import describe_errors, get_settings
    from handover_api.core.db import Database
    from handover_api.core.logging import configure_logging

    try:
        settings = get_settings()
    except ValidationError as exc:
        print(f"error: invalid configuration:\n{describe_errors(exc)}", file=sys.stderr)
        return 2
    configure_logging(settings.VOORDEUR_LOG_LEVEL)
    database = Database(settings.DATABASE_URL)
    consumer = Consumer(
        RabbitConfig.from_env(),
        database.session_factory,
        derive_key(settings.VOORDEUR_SERVICE_TOKEN.get_secret_value()),
    )
    signal.signal(signal.SIGTERM, consumer.stop)
    signal.signal(signal.SIGINT, consumer.stop)
    try:
        consumer.run()
    finally:
        database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Webhook notifications (``handover_api/notify/webhook.py``) against a local receiver.

The receiver is a ``ThreadingHTTPServer`` on 127.0.0.1 that checks every request with
``verify_signature`` (401 when it does not match), records it, and answers with the status the
test sets (500, 503, a redirect) or only after a delay (the sender's timeout).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from handover_api.notify import NotifyError, WebhookSender, sign, verify_signature
from handover_api.notify.webhook import encode
from tests.handover_api.notify.test_notify_email import DELIVERY_ID, HANDOVER_ID, LINK, notification

SECRET = "s3cret-of-the-wijkteam"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool


@dataclass
class Receiver:
    """What the receiver does (``status``, ``delay``, ``location``) and what it got."""

    secret: str = SECRET
    status: int = 204
    delay: float = 0.0
    location: str | None = None
    url: str = ""
    requests: list[Received] = field(default_factory=list)

    def hook(self, path: str = "/hook") -> str:
        return self.url + path


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            verified = verify_signature(
                receiver.secret,
                timestamp=self.headers.get("X-Voordeur-Timestamp", ""),
                body=body,
                signature=self.headers.get("X-Voordeur-Signature", ""),
            )
            receiver.requests.append(Received(self.path, dict(self.headers), body, verified))
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.status if verified else 401
            try:
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the sender gave up waiting (timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


@contextlib.contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A local webhook receiver that checks every signature (also used by the outbox tests)."""
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_good_delivery_is_accepted_with_the_right_fields(receiver: Receiver) -> None:
    WebhookSender().send(notification(), destination=(receiver.hook(),), secret=SECRET)

    [got] = receiver.requests
    assert got.verified
    assert got.path == "/hook"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"] == "Voordeur-Webhook/1"
    assert got.headers["X-Voordeur-Event"] == "handover.created"
    assert got.headers["X-Voordeur-Delivery"] == DELIVERY_ID
    assert abs(int(got.headers["X-Voordeur-Timestamp"]) - time.time()) < 10
    assert got.headers["X-Voordeur-Signature"] == sign(
        SECRET, int(got.headers["X-Voordeur-Timestamp"]), got.body
    )
    assert json.loads(got.body) == {
        "event": "handover.created",
        "delivery_id": DELIVERY_ID,
        "handover_id": HANDOVER_ID,
        "reference": "VD-7K3P-92",
        "priority": "normal",
        "organisation": "Gemeente Helmond",
        "team": "het wijkteam Helmond",
        "link": LINK,
        "created_at": "2026-12-08T09:30:00Z",
        "claim_due_at": "2026-12-08T13:30:00Z",
    }
    assert b": " not in got.body and b", " not in got.body  # compact


def test_urgent_escalation_payload(receiver: Receiver) -> None:
    n = notification(kind="escalation", urgent=True, claim_due_at=None)
    WebhookSender().send(n, destination=(receiver.hook(),), secret=SECRET)
    [got] = receiver.requests
    data = json.loads(got.body)
    assert got.headers["X-Voordeur-Event"] == data["event"] == "handover.escalated"
    assert data["priority"] == "urgent"
    assert data["claim_due_at"] is None


def test_non_ascii_team_name_round_trips(receiver: Receiver) -> None:
    n = notification(
        team_name="Sociaal team Geldrop-Mierlo – Coëlho & Zoë",
        organisation_name="Gemeente Geldrop‑Mierlo",
    )
    WebhookSender().send(n, destination=(receiver.hook(),), secret=SECRET)
    [got] = receiver.requests
    assert got.verified  # signed over the UTF-8 bytes as sent
    assert "Coëlho".encode() in got.body  # not \\u-escaped
    data = json.loads(got.body.decode("utf-8"))
    assert data["team"] == "Sociaal team Geldrop-Mierlo – Coëlho & Zoë"
    assert data["organisation"] == "Gemeente Geldrop‑Mierlo"


def test_wrong_secret_gets_401_and_is_permanent(receiver: Receiver) -> None:
    with pytest.raises(NotifyError) as caught:
        WebhookSender().send(notification(), destination=(receiver.hook(),), secret="not-it")
    assert caught.value.retry is False
    assert str(caught.value) == f"webhook {receiver.url.removeprefix('http://')}: HTTP 401"
    assert receiver.requests[0].verified is False


@pytest.mark.parametrize("status", [500, 503, 429, 408])
def test_server_errors_and_rate_limits_are_retried(receiver: Receiver, status: int) -> None:
    receiver.status = status
    with pytest.raises(NotifyError) as caught:
        WebhookSender().send(notification(), destination=(receiver.hook(),), secret=SECRET)
    assert caught.value.retry is True
    assert f"HTTP {status}" in str(caught.value)


@pytest.mark.parametrize("status", [400, 404, 410])
def test_other_client_errors_are_permanent(receiver: Receiver, status: int) -> None:
    receiver.status = status
    with pytest.raises(NotifyError) as caught:
        WebhookSender().send(notification(), destination=(receiver.hook(),), secret=SECRET)
    assert caught.value.retry is False


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.status = 302
    receiver.location = receiver.hook("/elsewhere")
    with pytest.raises(NotifyError) as caught:
        WebhookSender().send(notification(), destination=(receiver.hook(),), secret=SECRET)
    assert caught.value.retry is False
    assert "HTTP 302" in str(caught.value)
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_timeout_is_retried(receiver: Receiver) -> None:
    receiver.delay = 1.5
    started = time.monotonic()
    with pytest.raises(NotifyError) as caught:
        WebhookSender(timeout=0.5).send(
            notification(), destination=(receiver.hook(),), secret=SECRET
        )
    assert caught.value.retry is True
    assert "ReadTimeout" in str(caught.value)
    assert time.monotonic() - started < 1.4


def test_receiver_down_is_retried() -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NotifyError) as caught:
        WebhookSender(timeout=2).send(
            notification(), destination=(f"http://127.0.0.1:{port}/hook",), secret=SECRET
        )
    assert caught.value.retry is True
    assert str(caught.value) == f"webhook 127.0.0.1:{port}: ConnectError"


def test_missing_secret_is_a_fixable_configuration_error(receiver: Receiver) -> None:
    for secret in (None, ""):
        with pytest.raises(NotifyError) as caught:
            WebhookSender().send(notification(), destination=(receiver.hook(),), secret=secret)
        assert caught.value.retry is True
        assert "secret" in str(caught.value)
    assert receiver.requests == []


def test_error_messages_name_the_host_not_the_path() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    with pytest.raises(NotifyError) as caught:
        WebhookSender(client=client).send(
            notification(),
            destination=("https://user:pw@hooks.example.nl/t/abc123-token",),
            secret=SECRET,
        )
    assert str(caught.value) == "webhook hooks.example.nl: HTTP 503"
    assert not client.is_closed  # a client that was passed in stays open
    client.close()


def test_every_url_is_tried_and_retry_if_any_failure_is_temporary() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(
            {"a.example": 404, "b.example": 503, "c.example": 200}[request.url.host]
        )

    client = httpx.Client(transport=httpx.MockTransport(answer))
    with client, pytest.raises(NotifyError) as caught:
        WebhookSender(client=client).send(
            notification(),
            destination=("https://a.example/h", "https://b.example/h", "https://c.example/h"),
            secret=SECRET,
        )
    assert seen == ["a.example", "b.example", "c.example"]
    assert str(caught.value) == "webhook a.example: HTTP 404; webhook b.example: HTTP 503"
    assert caught.value.retry is True


# --- signatures, for receivers ---------------------------------------------------------------


def test_verify_signature_accepts_a_fresh_signature_only() -> None:
    body = encode(notification())
    now = 1_800_000_000
    signature = sign(SECRET, now, body)
    assert signature.startswith("sha256=") and len(signature) == len("sha256=") + 64
    assert verify_signature(SECRET, timestamp=str(now), body=body, signature=signature, now=now)
    assert verify_signature(
        SECRET, timestamp=str(now), body=body, signature=signature, now=now + 300
    )
    # Stale (replayed) and from the future.
    assert not verify_signature(
        SECRET, timestamp=str(now), body=body, signature=signature, now=now + 301
    )
    assert not verify_signature(
        SECRET, timestamp=str(now), body=body, signature=signature, now=now - 301
    )


def test_verify_signature_rejects_tampering() -> None:
    body = encode(notification())
    now = 1_800_000_000
    signature = sign(SECRET, now, body)
    tampered = body.replace(b"VD-7K3P-92", b"VD-XXXX-00")
    assert not verify_signature(
        SECRET, timestamp=str(now), body=tampered, signature=signature, now=now
    )
    # The timestamp is signed too: moving it forward breaks the signature.
    assert not verify_signature(
        SECRET, timestamp=str(now + 1), body=body, signature=signature, now=now
    )
    assert not verify_signature(
        "other", timestamp=str(now), body=body, signature=signature, now=now
    )
    for bad in ("", "sha256=", signature.removeprefix("sha256="), "sha256=ü" + "0" * 63):
        assert not verify_signature(SECRET, timestamp=str(now), body=body, signature=bad, now=now)
    for stamp in ("", "abc", "-1", "１８"):
        assert not verify_signature(
            SECRET, timestamp=stamp, body=body, signature=signature, now=now
        )


def test_stale_timestamp_from_the_sender_is_rejected_by_the_receiver(receiver: Receiver) -> None:
    sender = WebhookSender(clock=lambda: time.time() - 3600)  # a request captured an hour ago
    with pytest.raises(NotifyError) as caught:
        sender.send(notification(), destination=(receiver.hook(),), secret=SECRET)
    assert caught.value.retry is False
    assert receiver.requests[0].verified is False

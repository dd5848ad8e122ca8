"""Channel ``webhook``: a signed JSON POST to the team's own system (a ticket queue, a chat).

The body (compact JSON, UTF-8) names the event, the delivery, the handover's reference, the
priority, organisation, team, link and moments: never resident data (``base.Notification`` has
none). Headers::

    Content-Type: application/json
    User-Agent: Voordeur-Webhook/1
    X-Voordeur-Event: handover.created | handover.escalated
    X-Voordeur-Delivery: <delivery_id>          same on every retry: the receiver's idempotency key
    X-Voordeur-Timestamp: <unix seconds>
    X-Voordeur-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

The timestamp is inside the signature so a captured request cannot be replayed later
(``verify_signature`` accepts 5 minutes either way). Receivers verify with ``verify_signature``
or the ten lines in docs/team-notifications.md.

Outcomes: 2xx delivered; 408, 425, 429, 5xx, a timeout or a connection error are temporary
(``retry=True``); other 4xx and 3xx are permanent (``retry=False``: a redirect is not followed,
the signed body is not sent to a place nobody configured). Messages name the host and the
status, not the path (it may hold a token) nor the receiver's reply.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from handover_api.notify.base import Notification, NotifyError, event_of, iso_utc

USER_AGENT = "Voordeur-Webhook/1"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE = 300
# Statuses a later attempt may get past: slow, early, rate-limited (the rest of 4xx is not).
RETRY_STATUSES = frozenset({408, 425, 429})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Voordeur-Signature`` value: ``sha256=`` and the hex HMAC-SHA256, keyed with
    ``secret`` (UTF-8), of ``"<timestamp>."`` followed by the exact body bytes."""
    message = f"{timestamp}.".encode("ascii") + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """For receivers: True when ``signature`` (the ``X-Voordeur-Signature`` header) is the
    signature of ``body`` at ``timestamp`` (the ``X-Voordeur-Timestamp`` header) and that
    timestamp lies within ``tolerance`` seconds of ``now`` (default: the clock).

    Compares in constant time (``hmac.compare_digest``) so the answer's timing tells an
    attacker nothing about the right signature; the time window stops replays.
    """
    stamp = timestamp.strip()
    if not stamp.isascii() or not stamp.isdigit():
        return False
    moment = int(stamp)
    current = time.time() if now is None else now
    if abs(current - moment) > tolerance:
        return False
    expected = sign(secret, moment, body).encode("ascii")
    return hmac.compare_digest(expected, signature.strip().encode("utf-8"))


def payload(notification: Notification) -> dict[str, Any]:
    """The JSON body as a dict (see the module docstring; docs/team-notifications.md)."""
    n = notification
    return {
        "event": event_of(n),
        "delivery_id": n.delivery_id,
        "handover_id": n.handover_id,
        "reference": n.reference,
        "priority": "urgent" if n.urgent else "normal",
        "organisation": n.organisation_name,
        "team": n.team_name,
        "link": n.link,
        "created_at": iso_utc(n.created_at),
        "claim_due_at": iso_utc(n.claim_due_at),
    }


def encode(notification: Notification) -> bytes:
    """The exact bytes that are signed and sent: compact JSON, UTF-8, non-ASCII kept."""
    return json.dumps(payload(notification), ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def _host(url: str) -> str:
    """Only the host (and port) of a URL, for error messages: the path may hold a token."""
    try:
        parts = urlsplit(url)
        return parts.netloc.rpartition("@")[2] or "?"
    except ValueError:
        return "?"


class WebhookSender:
    """POSTs a ``Notification`` to each URL of ``destination``, signed with ``secret``.

    ``client``: an ``httpx.Client`` to use (tests, a shared pool); the sender then leaves it
    open. Without one, each ``send`` opens and closes its own.
    """

    def __init__(
        self,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.timeout = timeout
        self.client = client
        self.clock = clock

    def send(
        self,
        notification: Notification,
        *,
        destination: tuple[str, ...],
        secret: str | None = None,
    ) -> None:
        """Deliver to every URL; raises one ``NotifyError`` naming each failed host.

        Every URL is tried even when an earlier one failed. A retry posts to all URLs again
        with the same ``X-Voordeur-Delivery``, so receivers that already have it drop it.
        ``retry`` is True when any failure was temporary.
        """
        if not secret:
            raise NotifyError(
                "webhook secret missing (environment variable of secret_env)", retry=True
            )
        urls = [url.strip() for url in destination if url.strip()]
        if not urls:
            raise NotifyError("no webhook URL to send to", retry=False)
        body = encode(notification)
        timestamp = int(self.clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Voordeur-Event": event_of(notification),
            "X-Voordeur-Delivery": notification.delivery_id,
            "X-Voordeur-Timestamp": str(timestamp),
            "X-Voordeur-Signature": sign(secret, timestamp, body),
        }
        failures: list[NotifyError] = []
        client = self.client or httpx.Client(timeout=self.timeout, follow_redirects=False)
        try:
            for url in urls:
                try:
                    self._post(client, url, body, headers)
                except NotifyError as exc:
                    failures.append(exc)
        finally:
            if self.client is None:
                client.close()
        if failures:
            raise NotifyError(
                "; ".join(str(f) for f in failures), retry=any(f.retry for f in failures)
            )

    def _post(self, client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> None:
        where = f"webhook {_host(url)}"
        if urlsplit(url).scheme not in ("http", "https"):
            raise NotifyError(f"{where}: not an http(s) URL", retry=False)
        try:
            response = client.post(
                url,
                content=body,
                headers=headers,
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.TimeoutException as exc:
            raise NotifyError(f"{where}: {type(exc).__name__}", retry=True) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise NotifyError(f"{where}: {type(exc).__name__}", retry=False) from None
        except httpx.TransportError as exc:  # connection refused or reset, DNS, TLS, protocol
            raise NotifyError(f"{where}: {type(exc).__name__}", retry=True) from None
        status = response.status_code
        if 200 <= status <= 299:
            return
        if 300 <= status <= 399:
            raise NotifyError(f"{where}: HTTP {status} (redirects are not followed)", retry=False)
        retry = status in RETRY_STATUSES or 500 <= status <= 599
        raise NotifyError(f"{where}: HTTP {status}", retry=retry)

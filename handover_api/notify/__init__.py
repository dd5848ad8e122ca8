"""Senders that announce a handover to its receiving team: e-mail and a signed webhook.

``services/notifications.py`` keeps the outbox (one row per handover and kind, retries with
backoff, ``last_error``) and calls ``sender.send(notification, destination=..., secret=...)``:
None on success, ``NotifyError(message, retry=...)`` on failure.

- ``base``: ``Notification`` (reference, team, link, moments: no resident data),
  ``NotifyError``, the ``Sender`` protocol and the Dutch wording (``subject``, ``body_text``).
- ``email``: ``EmailSender(SmtpSettings(...))`` through ``smtplib``.
- ``webhook``: ``WebhookSender()``, HMAC-SHA256 signed; ``sign`` and ``verify_signature`` for
  receivers (docs/team-notifications.md).
"""

from __future__ import annotations

from handover_api.notify.base import (
    EVENTS,
    Notification,
    NotifyError,
    Sender,
    body_text,
    subject,
)
from handover_api.notify.email import EmailSender, SmtpSettings
from handover_api.notify.webhook import WebhookSender, payload, sign, verify_signature

__all__ = [
    "EVENTS",
    "EmailSender",
    "Notification",
    "NotifyError",
    "Sender",
    "SmtpSettings",
    "WebhookSender",
    "body_text",
    "payload",
    "sign",
    "subject",
    "verify_signature",
]

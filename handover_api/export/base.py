"""What every exporter offers, and what it is given: a view of one handover.

An exporter (``handover_api/export/__init__.py`` keeps the registry) sends one handover to an
organisation's own system. It gets a ``HandoverView``: the handover as the receiving
organisation may see it (``view_of``: summary, contact and life domains only while the
resident's consent covers the organisation), never the database row. It reports progress
through ``ExportProgress``: ``remember(key, remote_id)`` stores a remote id at once (the outbox
row is committed), so a retry after a failure continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from handover_api.models import Handover
from handover_api.services.directory import ExportConfig


class ExportError(Exception):
    """An export attempt failed; the message holds no personal data (status, path, fields).

    ``retry``: whether another attempt may succeed (network, 5xx, 401 after a token change).
    """

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class HandoverView:
    """One handover as the receiving organisation may see it, for an exporter."""

    id: str
    reference: str
    channel: str
    priority: str
    created_at: datetime
    conversation_started_at: datetime
    municipality_name: str
    organisation: str
    organisation_name: str
    team: str
    team_name: str
    consent_covers: bool
    summary: str | None
    life_domains: tuple[str, ...]
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    contact_preferred: str | None
    contact_best_time: str | None
    transcript_messages: int


def view_of(
    handover: Handover,
    *,
    organisation_name: str,
    team_name: str,
    transcript_messages: int,
    conversation_started_at: datetime | None = None,
) -> HandoverView:
    """The view of ``handover``; withholds what the organisation may not see without consent."""
    covers = handover.consent_covers_destination
    contact: dict[str, Any] = handover.contact if covers else {}
    return HandoverView(
        id=str(handover.id),
        reference=handover.reference,
        channel=handover.channel,
        priority=handover.priority,
        created_at=handover.created_at,
        conversation_started_at=conversation_started_at or handover.created_at,
        municipality_name=handover.municipality_name,
        organisation=handover.destination_organisation,
        organisation_name=organisation_name,
        team=handover.destination_team,
        team_name=team_name,
        consent_covers=covers,
        summary=handover.summary if covers else None,
        life_domains=tuple(str(d.get("code")) for d in handover.life_domains) if covers else (),
        contact_name=contact.get("name") or None,
        contact_phone=contact.get("phone") or None,
        contact_email=contact.get("email") or None,
        contact_preferred=contact.get("preferred") or None,
        contact_best_time=contact.get("best_time") or None,
        transcript_messages=transcript_messages if covers else 0,
    )


@dataclass
class ExportProgress:
    """The remote ids created so far; ``remember`` saves each one as soon as it exists."""

    remote_ids: dict[str, Any] = field(default_factory=dict)
    save: Callable[[dict[str, Any]], None] = lambda ids: None

    def get(self, key: str) -> Any:
        return self.remote_ids.get(key)

    def remember(self, key: str, value: Any) -> None:
        self.remote_ids[key] = value
        self.save(dict(self.remote_ids))


@dataclass(frozen=True)
class ExportResult:
    """A finished export: the remote ids, and the fields that had to be shortened (each one
    with a visible marker and the complete text reachable through the bijlage)."""

    remote_ids: dict[str, Any]
    shortened: tuple[str, ...] = ()


class Exporter(Protocol):
    """An export plugin. ``check_config`` lists what is wrong with a configuration (empty:
    usable); ``export`` sends one handover, idempotently, continuing from ``progress``."""

    name: str

    def check_config(self, config: ExportConfig) -> list[str]: ...

    def export(
        self, view: HandoverView, *, config: ExportConfig, progress: ExportProgress
    ) -> ExportResult: ...

"""Audit trail: who read or changed what. Details hold ids and non-personal facts only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session
from starlette.requests import Request

from handover_api.models import AuditLog
from handover_api.services.pagination import page_of


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: str,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Add an audit row to the session (committed with the surrounding transaction)."""
    row = AuditLog(
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        detail=detail,
    )
    session.add(row)
    return row


def record_handover_read(
    session: Session,
    *,
    actor: str,
    handover_id: str,
    view: str = "redacted",
    via: str | None = None,
) -> None:
    """Opening a handover shows its transcript: the read of both is audited."""
    handover_detail: dict[str, Any] = {"handover_id": handover_id}
    if via:
        handover_detail["via"] = via
    record(
        session,
        actor=actor,
        action="handover.read",
        resource_type="handover",
        resource_id=handover_id,
        detail=handover_detail,
    )
    record_transcript_read(session, actor=actor, handover_id=handover_id, view=view, via=via)


def record_application_export(
    session: Session, *, actor: str, handover_id: str, export_format: str
) -> None:
    """Exporting the application is a read of the handover (``handover.read``, as auditors
    filter it), marked with how it was read and in which shape."""
    record(
        session,
        actor=actor,
        action="handover.read",
        resource_type="handover",
        resource_id=handover_id,
        detail={"handover_id": handover_id, "via": "application-export", "format": export_format},
    )


def record_transcript_read(
    session: Session, *, actor: str, handover_id: str, view: str, via: str | None = None
) -> None:
    detail: dict[str, Any] = {"view": view, "handover_id": handover_id}
    if via:
        detail["via"] = via
    record(
        session,
        actor=actor,
        action="transcript.read",
        resource_type="handover",
        resource_id=handover_id,
        detail=detail,
    )


def record_conversation_read(
    session: Session, *, actor: str, conversation_id: str, via: str | None = None
) -> None:
    """A reviewer opened one conversation (all its messages, redacted) for review."""
    detail: dict[str, Any] = {"view": "redacted"}
    if via:
        detail["via"] = via
    record(
        session,
        actor=actor,
        action="conversation.read",
        resource_type="conversation",
        resource_id=conversation_id,
        detail=detail,
    )


def record_conversation_erasure(
    session: Session, *, actor: str, conversation_id: str, already: bool
) -> None:
    """The review copy of a conversation was erased at the resident's request (AVG art. 17).
    Ids only: the conversation is the resource; the detail says whether it was a repeat."""
    record(
        session,
        actor=actor,
        action="conversation.erase",
        resource_type="conversation",
        resource_id=conversation_id,
        detail={"repeat": already},
    )


def _list_detail(
    filters: dict[str, Any], key: str, ids: list[str], via: str | None
) -> dict[str, Any]:
    """The detail of a list read: the filters that were set, and which ids were shown."""
    detail: dict[str, Any] = {
        "filters": {k: v for k, v in filters.items() if v is not None},
        "count": len(ids),
        key: ids,
    }
    if via:
        detail["via"] = via
    return detail


def record_conversation_list(
    session: Session,
    *,
    actor: str,
    organisation: str,
    filters: dict[str, Any],
    conversation_ids: list[str],
    via: str | None = None,
) -> None:
    """A list of conversations shown to a reviewer (ids only; never a search text)."""
    detail = _list_detail(filters, "conversation_ids", conversation_ids, via)
    record(
        session,
        actor=actor,
        action="conversation.list",
        resource_type="organisation",
        resource_id=organisation,
        detail=detail,
    )


def record_review_mark(
    session: Session,
    *,
    actor: str,
    conversation_id: str,
    event_id: int,
    correct_intent: str | None,
    previous: str | None,
) -> None:
    """A message marked misunderstood (``correct_intent``), re-marked, or unmarked (None)."""
    record(
        session,
        actor=actor,
        action="review.unmark" if correct_intent is None else "review.mark",
        resource_type="conversation",
        resource_id=conversation_id,
        detail={"event_id": event_id, "correct_intent": correct_intent, "previous": previous},
    )


def record_review_export(
    session: Session,
    *,
    actor: str,
    organisation: str,
    intents: int,
    examples: int,
    via: str | None = None,
) -> None:
    """The organisation's corrections were exported as training data (redacted texts)."""
    detail: dict[str, Any] = {"intents": intents, "examples": examples}
    if via:
        detail["via"] = via
    record(
        session,
        actor=actor,
        action="review.export",
        resource_type="organisation",
        resource_id=organisation,
        detail=detail,
    )


def route_of(request: Request) -> str:
    """The route template (``/api/v1/handovers/{handover_id}``), not the concrete path, so no
    id typed by a caller, nor a conversation id, ends up in the log verbatim."""
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    if not template:
        return "unmatched"
    path = str(request.scope.get("path", ""))
    try:
        concrete = template.format(**request.scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return str(template)
    # An included router's template lacks the prefixes it was mounted under.
    prefix = path[: -len(concrete)] if concrete and path.endswith(concrete) else ""
    return f"{prefix}{template}"


def record_refusal(
    session: Session, *, actor: str, method: str, route: str, status_code: int
) -> None:
    """A refused attempt: bad or missing token, wrong role, or a handover of another org."""
    record(
        session,
        actor=actor,
        action="access.refused",
        resource_type="route",
        resource_id=f"{method} {route}"[:200],
        detail={"status": status_code},
    )


def record_list(
    session: Session,
    *,
    actor: str,
    organisation: str,
    filters: dict[str, Any],
    handover_ids: list[str],
    via: str | None = None,
) -> None:
    """A bulk read (API list, staff inbox): which handovers were shown to whom."""
    detail = _list_detail(filters, "handover_ids", handover_ids, via)
    record(
        session,
        actor=actor,
        action="handover.list",
        resource_type="organisation",
        resource_id=organisation,
        detail=detail,
    )


def list_entries(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    resource_id: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[Sequence[AuditLog], int]:
    """Audit rows, newest first, filtered."""
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(AuditLog.at >= since)
    if until is not None:
        conditions.append(AuditLog.at < until)
    if actor:
        conditions.append(AuditLog.actor == actor)
    if action:
        conditions.append(AuditLog.action == action)
    if resource_id:
        conditions.append(AuditLog.resource_id == resource_id)
    return page_of(
        session,
        AuditLog,
        conditions=conditions,
        order_by=[AuditLog.at.desc(), AuditLog.id.desc()],
        page=page,
        page_size=page_size,
    )


# --- messages between professional and resident (services/messaging.py) ----------------------


def record_message_sent(
    session: Session,
    *,
    actor: str,
    handover_id: str,
    message_id: str,
    channel: str,
    status: str,
    via_template: bool,
) -> None:
    """A professional's message to the resident (ids and delivery facts; never the text)."""
    record(
        session,
        actor=actor,
        action="message.send",
        resource_type="handover",
        resource_id=handover_id,
        detail={
            "handover_id": handover_id,
            "message_id": message_id,
            "channel": channel,
            "status": status,
            "via_template": via_template,
        },
    )


def record_message_received(
    session: Session,
    *,
    actor: str,
    handover_id: str,
    message_id: str,
    channel: str,
    stored_media: int,
    refused_media: int,
) -> None:
    """A resident's message added to a case's thread (counts only; never text or number)."""
    record(
        session,
        actor=actor,
        action="message.receive",
        resource_type="handover",
        resource_id=handover_id,
        detail={
            "handover_id": handover_id,
            "message_id": message_id,
            "channel": channel,
            "stored_media": stored_media,
            "refused_media": refused_media,
        },
    )


def record_messages_read(
    session: Session, *, actor: str, handover_id: str, count: int, via: str | None = None
) -> None:
    """The case's message thread was shown (API list or the case page)."""
    detail: dict[str, Any] = {"handover_id": handover_id, "count": count}
    if via:
        detail["via"] = via
    record(
        session,
        actor=actor,
        action="messages.read",
        resource_type="handover",
        resource_id=handover_id,
        detail=detail,
    )


def record_media_download(
    session: Session,
    *,
    actor: str,
    handover_id: str,
    media_id: str,
    content_type: str,
    via: str | None = None,
) -> None:
    """A file the resident sent was downloaded."""
    detail: dict[str, Any] = {
        "handover_id": handover_id,
        "media_id": media_id,
        "content_type": content_type,
    }
    if via:
        detail["via"] = via
    record(
        session,
        actor=actor,
        action="media.download",
        resource_type="handover",
        resource_id=handover_id,
        detail=detail,
    )

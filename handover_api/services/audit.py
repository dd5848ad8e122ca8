"""Audit trail: who read or changed what. Details hold ids and non-personal facts only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from handover_api.models import AuditLog


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
    conversation_id: str,
    via: str | None = None,
) -> None:
    """Opening a handover shows its (redacted) transcript: both reads are audited."""
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
    record(
        session,
        actor=actor,
        action="transcript.read",
        resource_type="conversation",
        resource_id=conversation_id,
        detail={"view": "redacted", "handover_id": handover_id},
    )

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

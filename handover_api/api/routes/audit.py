"""/api/v1/audit: the audit log, for auditors only (reading it is audited as well)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from handover_api.api.deps import AuditorPrincipal, SessionDep
from handover_api.schemas import AuditEntry, AuditPage, UTCDatetime
from handover_api.services import audit

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def read_audit_log(
    session: SessionDep,
    principal: AuditorPrincipal,
    since: UTCDatetime | None = None,
    until: UTCDatetime | None = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=50)] = None,
    resource_id: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """Audit rows, newest first: reads, changes and refused attempts with who and when."""
    rows, total = audit.list_entries(
        session,
        since=since,
        until=until,
        actor=actor,
        action=action,
        resource_id=resource_id,
        page=page,
        page_size=page_size,
    )
    items = [AuditEntry.model_validate(r, from_attributes=True) for r in rows]
    audit.record(
        session,
        actor=principal.actor,
        action="audit.read",
        resource_type="audit_log",
        resource_id="audit_log",
        detail={"count": len(items), "page": page},
    )
    session.commit()
    return AuditPage(items=items, total=total, page=page, page_size=page_size)

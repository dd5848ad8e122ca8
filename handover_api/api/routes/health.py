"""Liveness (no database) and readiness (database reachable)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response, status
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from handover_api.api.deps import SessionDep
from handover_api.schemas import Health

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
def healthz() -> Health:
    """The process is alive. Does not touch the database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health, "description": "database unreachable"}},
)
def readyz(session: SessionDep, response: Response) -> Health:
    """The database answers ``SELECT 1``; 503 otherwise."""
    try:
        session.execute(text("SELECT 1"))
        session.rollback()
    except (SQLAlchemyError, OSError) as exc:
        logger.warning("readiness check failed: %s", type(exc).__name__)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="unavailable", database="unavailable")
    return Health(status="ok", database="ok")

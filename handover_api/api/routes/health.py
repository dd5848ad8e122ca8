"""Liveness (no database) and readiness (database reachable and migrated to the head).

Readiness includes the schema revision because a reachable but un-migrated database is not
ready: every staff call would fail with 500 on missing tables while ``/readyz`` said yes.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Response, status
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from handover_api.api.deps import SessionDep
from handover_api.schemas import Health

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"


@lru_cache(maxsize=1)
def migration_head() -> str | None:
    """The head revision of ``handover_api/alembic``.

    Read once per process: the scripts on disk belong to the code that is running, so they
    cannot change under it, and parsing them on every probe would be wasted work.
    """
    return ScriptDirectory(str(ALEMBIC_DIR)).get_current_head()


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
def healthz() -> Health:
    """The process is alive. Does not touch the database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    response_model_exclude_none=True,
    responses={
        503: {"model": Health, "description": "database unreachable or migrations behind"},
    },
)
def readyz(session: SessionDep, response: Response) -> Health:
    """Ready when the database answers ``SELECT 1`` and its alembic revision is the head.

    503 otherwise; ``migrations`` is only reported when the database could be asked.
    """
    try:
        session.execute(text("SELECT 1"))
        current = MigrationContext.configure(session.connection()).get_current_revision()
        session.rollback()
    except (SQLAlchemyError, OSError) as exc:
        logger.warning("readiness check failed: %s", type(exc).__name__)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="unavailable", database="unavailable")
    head = migration_head()
    if current != head:
        logger.warning("readiness check: database at revision %s, code expects %s", current, head)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="unavailable", database="ok", migrations="behind")
    return Health(status="ok", database="ok", migrations="ok")

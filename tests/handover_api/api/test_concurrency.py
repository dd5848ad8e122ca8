"""Concurrent changes of one handover, with real threads, sessions and connections (no test
transaction): ten professionals return the same case at the same moment and exactly one
successor is made; the other nine get 409. Runs on SQLite and PostgreSQL; on PostgreSQL the
row lock (SELECT ... FOR UPDATE) is what makes this hold."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from handover_api.core.config import Settings
from handover_api.main import create_app
from handover_api.models import AuditLog, Handover, StaffUser
from handover_api.services import users

PARALLEL = 10


def test_parallel_returns_create_one_successor(
    settings: Settings, make_payload: Callable[..., dict[str, Any]]
) -> None:
    app = create_app(settings)
    db = app.state.db
    username = f"race-{uuid.uuid4().hex[:8]}"
    with db.session_factory() as s:
        user = users.create_user(
            s, username=username, organisation="peel61", display_name="Race", team="werk-inkomen"
        )
        token = users.issue_token(s, user=user)
        s.commit()
    staff = {"Authorization": f"Bearer {token}"}
    service = {"Authorization": f"Bearer {settings.VOORDEUR_SERVICE_TOKEN.get_secret_value()}"}
    created_ids: list[str] = []
    try:
        with TestClient(app) as c:
            created = c.post("/api/v1/handovers", json=make_payload(), headers=service).json()
        created_ids.append(created["id"])
        body = {
            "status": "returned",
            "reason": "past beter lokaal",
            "destination": {
                "level": "local",
                "organisation": "gemeente-helmond",
                "team": "wijkteam",
            },
        }
        barrier = threading.Barrier(PARALLEL)
        codes: list[int] = []

        def return_it() -> None:
            with TestClient(app) as c:
                barrier.wait()
                codes.append(
                    c.patch(
                        f"/api/v1/handovers/{created['id']}", json=body, headers=staff
                    ).status_code
                )

        threads = [threading.Thread(target=return_it) for _ in range(PARALLEL)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

        assert sorted(codes) == [200] + [409] * (PARALLEL - 1), codes
        with db.session_factory() as s:
            successors = s.scalars(
                select(Handover.id).where(Handover.returned_from_id == uuid.UUID(created["id"]))
            ).all()
            created_ids.extend(str(i) for i in successors)
            assert len(successors) == 1
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(AuditLog)
                    .where(
                        AuditLog.action == "handover.update", AuditLog.resource_id == created["id"]
                    )
                )
                == 1
            )
    finally:
        with db.session_factory() as s:
            for handover_id in reversed(created_ids):
                row = s.get(Handover, uuid.UUID(handover_id))
                if row is not None:
                    s.execute(delete(AuditLog).where(AuditLog.resource_id == handover_id))
                    s.delete(row)
            s.execute(delete(StaffUser).where(StaffUser.username == username))
            s.commit()
        db.dispose()

"""Migration 0006: existing handovers get a timeline from what is known (backfill)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command

from handover_api.core.db import make_engine
from tests.handover_api.test_migrations import _config, empty_db_url  # noqa: F401 - fixture

TZ = sa.DateTime(timezone=True)
T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)

handovers = sa.table(
    "handovers",
    *(
        sa.column(name, kind)
        for name, kind in {
            "id": sa.Uuid(),
            "reference": sa.String(),
            "status": sa.String(),
            "priority": sa.String(),
            "created_at": TZ,
            "updated_at": TZ,
            "closed_at": TZ,
            "claimed_at": TZ,
            "municipality_code": sa.String(),
            "municipality_name": sa.String(),
            "destination_level": sa.String(),
            "destination_organisation": sa.String(),
            "destination_team": sa.String(),
            "life_domains": sa.JSON(),
            "multi_problem": sa.Boolean(),
            "summary": sa.Text(),
            "contact": sa.JSON(),
            "consent_given": sa.Boolean(),
            "consent_at": TZ,
            "consent_text_version": sa.String(),
            "consent_organisation": sa.String(),
            "consent_recorded_by": sa.String(),
            "consent_withdrawn_at": TZ,
            "conversation_id": sa.String(),
            "channel": sa.String(),
            "domain_codes": sa.String(),
            "returned_from_id": sa.Uuid(),
        }.items()
    ),
)
call_attempts = sa.table(
    "call_attempts",
    *(
        sa.column(name, kind)
        for name, kind in {
            "id": sa.Uuid(),
            "handover_id": sa.Uuid(),
            "at": TZ,
            "author_username": sa.String(),
            "author_display_name": sa.String(),
            "outcome": sa.String(),
            "callback_at": TZ,
            "note": sa.Text(),
        }.items()
    ),
)


def _handover(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "reference": f"VD-{uuid.uuid4().hex[:4].upper()}-11",
        "status": "new",
        "priority": "normal",
        "created_at": T0,
        "updated_at": T0,
        "closed_at": None,
        "claimed_at": None,
        "municipality_code": "GM0794",
        "municipality_name": "Helmond",
        "destination_level": "regional",
        "destination_organisation": "peel61",
        "destination_team": "werk-inkomen",
        "life_domains": [],
        "multi_problem": False,
        "summary": "Jan Jansen wil bijstand",
        "contact": {"name": "Jan Jansen", "phone": "06-12345678"},
        "consent_given": True,
        "consent_at": T0 - timedelta(minutes=1),
        "consent_text_version": "v1",
        "consent_organisation": "peel61",
        "consent_recorded_by": "service:action-server",
        "consent_withdrawn_at": None,
        "conversation_id": "c-1",
        "channel": "web",
        "domain_codes": "",
        "returned_from_id": None,
    }
    return row | values


def test_upgrade_to_0006_backfills_timelines(empty_db_url: str) -> None:  # noqa: F811
    command.upgrade(_config(empty_db_url), "0005")
    engine = make_engine(empty_db_url)
    returned = _handover(
        status="returned",
        claimed_at=T0 + timedelta(hours=1),
        closed_at=T0 + timedelta(hours=3),
        consent_withdrawn_at=T0 + timedelta(days=1),
    )
    successor = _handover(
        created_at=T0 + timedelta(hours=3),
        destination_level="local",
        destination_organisation="gemeente-helmond",
        destination_team="wijkteam",
        returned_from_id=returned["id"],
    )
    closed = _handover(status="closed", closed_at=T0 + timedelta(hours=5), consent_given=False)
    try:
        with engine.begin() as conn:
            conn.execute(handovers.insert(), [returned, successor, closed])
            conn.execute(
                call_attempts.insert(),
                [
                    {
                        "id": uuid.uuid4(),
                        "handover_id": returned["id"],
                        "at": T0 + timedelta(hours=2),
                        "author_username": "sanne",
                        "author_display_name": "Sanne Bakker",
                        "outcome": "terugbellen",
                        "callback_at": T0 + timedelta(days=2),
                        "note": "Jan belt terug op 06-12345678",
                    }
                ],
            )
        command.upgrade(_config(empty_db_url), "0006")
        events = sa.table(
            "handover_events",
            sa.column("id", sa.Integer()),
            sa.column("handover_id", sa.Uuid()),
            sa.column("kind", sa.String()),
            sa.column("at", TZ),
            sa.column("actor", sa.String()),
            sa.column("actor_name", sa.String()),
            sa.column("detail", sa.JSON()),
        )
        with engine.connect() as conn:

            def of(handover: dict[str, Any]) -> list[Any]:
                return list(
                    conn.execute(
                        sa.select(events)
                        .where(events.c.handover_id == handover["id"])
                        .order_by(events.c.at, events.c.id)
                    )
                )

            old = of(returned)
            assert [e.kind for e in old] == [
                "consent_given",
                "created",
                "claimed",
                "contact_attempted",
                "returned",
                "consent_withdrawn",
            ]
            assert old[0].actor == "service:action-server"
            assert old[0].detail["organisation"] == "peel61"
            assert old[3].actor == "staff:sanne" and old[3].actor_name == "Sanne Bakker"
            assert old[3].detail["outcome"] == "terugbellen"
            assert datetime.fromisoformat(old[3].detail["callback_at"]) == T0 + timedelta(days=2)
            assert old[4].detail["to"] == "gemeente-helmond"
            assert old[4].detail["new_handover_id"] == str(successor["id"])
            assert all(e.detail["backfilled"] is True for e in old)
            assert "Jan" not in str([e.detail for e in old])
            assert [e.kind for e in of(successor)] == ["consent_given", "created"]
            assert [e.kind for e in of(closed)] == ["created", "closed"]
        command.downgrade(_config(empty_db_url), "0005")
        assert "handover_events" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()

"""Handover events: every handover's timeline of named outcome events, with who and when.

Why: contract v2's ``GET /api/v1/handovers/{id}/events`` and the case page's "Tijdlijn" show
what happened to a case (consent, arrival, claim, call outcomes, return, withdrawal, closing);
the dashboard counts them. ``handover_events`` holds one row per event (``detail``:
non-personal facts only), going with its handover (``ON DELETE CASCADE``).

Existing handovers get a timeline from what is known (``detail.backfilled = true``, actor
``system`` where the actor was not kept): ``consent_given`` at ``consent_at`` (by
``consent_recorded_by``), ``created`` at ``created_at``, ``claimed`` at ``claimed_at``, one
``contact_made`` / ``contact_failed`` / ``contact_attempted`` per call attempt (signed by its
case worker), ``message_sent`` / ``message_received`` per message, ``returned`` (to the
successor's organisation) or ``closed`` at ``closed_at``, and ``consent_withdrawn`` at
``consent_withdrawn_at``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-11 06:00:00
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
KINDS = (
    "consent_given",
    "created",
    "team_notified",
    "claimed",
    "released",
    "in_progress",
    "assigned",
    "contact_attempted",
    "contact_made",
    "contact_failed",
    "message_sent",
    "message_received",
    "forwarded",
    "returned",
    "escalated",
    "consent_withdrawn",
    "closed",
)
OUTCOME_EVENTS = {
    "bereikt": "contact_made",
    "niet_bereikt": "contact_failed",
    "terugbellen": "contact_attempted",
}
BATCH = 500

handovers = sa.table(
    "handovers",
    sa.column("id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("priority", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("created_at", TZ),
    sa.column("closed_at", TZ),
    sa.column("claimed_at", TZ),
    sa.column("destination_organisation", sa.String()),
    sa.column("destination_team", sa.String()),
    sa.column("destination_level", sa.String()),
    sa.column("consent_given", sa.Boolean()),
    sa.column("consent_at", TZ),
    sa.column("consent_text_version", sa.String()),
    sa.column("consent_organisation", sa.String()),
    sa.column("consent_recorded_by", sa.String()),
    sa.column("consent_withdrawn_at", TZ),
    sa.column("returned_from_id", sa.Uuid()),
)
call_attempts = sa.table(
    "call_attempts",
    sa.column("handover_id", sa.Uuid()),
    sa.column("at", TZ),
    sa.column("author_username", sa.String()),
    sa.column("author_display_name", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("callback_at", TZ),
)
messages = sa.table(
    "handover_messages",
    sa.column("id", sa.Uuid()),
    sa.column("handover_id", sa.Uuid()),
    sa.column("direction", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("status", sa.String()),
    sa.column("via_template", sa.Boolean()),
    sa.column("author_username", sa.String()),
    sa.column("author_display_name", sa.String()),
    sa.column("created_at", TZ),
)
handover_events = sa.table(
    "handover_events",
    sa.column("handover_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("at", TZ),
    sa.column("actor", sa.String()),
    sa.column("actor_name", sa.String()),
    sa.column("detail", sa.JSON()),
)


def upgrade() -> None:
    op.create_table(
        "handover_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handover_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            f"kind IN ({', '.join(repr(k) for k in KINDS)})",
            name=op.f("ck_handover_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["handovers.id"],
            name=op.f("fk_handover_events_handover_id_handovers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_events")),
    )
    with op.batch_alter_table("handover_events", schema=None) as batch_op:
        batch_op.create_index("ix_handover_events_handover_at", ["handover_id", "at"])

    _backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("handover_events", schema=None) as batch_op:
        batch_op.drop_index("ix_handover_events_handover_at")
    op.drop_table("handover_events")


# --- backfill ---------------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    """A stored moment as ISO 8601 in UTC (SQLite gives it back naive, meaning UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _event(
    handover_id: Any,
    kind: str,
    at: datetime,
    actor: str = "system",
    actor_name: str | None = None,
    **detail: Any,
) -> dict[str, Any]:
    return {
        "handover_id": handover_id,
        "kind": kind,
        "at": at,
        "actor": actor,
        "actor_name": actor_name,
        "detail": {**detail, "backfilled": True},
    }


def _handover_events(h: Any, successor: Any | None) -> Iterator[dict[str, Any]]:
    if h.consent_given and h.consent_at is not None:
        yield _event(
            h.id,
            "consent_given",
            h.consent_at,
            actor=h.consent_recorded_by or "system",
            organisation=h.consent_organisation,
            text_version=h.consent_text_version,
        )
    yield _event(
        h.id,
        "created",
        h.created_at,
        organisation=h.destination_organisation,
        team=h.destination_team,
        channel=h.channel,
        priority=h.priority,
    )
    if h.claimed_at is not None:
        yield _event(h.id, "claimed", h.claimed_at)
    if h.status == "closed" and h.closed_at is not None:
        yield _event(h.id, "closed", h.closed_at)
    if h.status == "returned" and h.closed_at is not None:
        to: dict[str, Any] = {}
        if successor is not None:
            to = {
                "to": successor.destination_organisation,
                "team": successor.destination_team,
                "level": successor.destination_level,
                "new_handover_id": str(successor.id),
            }
        yield _event(h.id, "returned", h.closed_at, **to)
    if h.consent_withdrawn_at is not None:
        yield _event(h.id, "consent_withdrawn", h.consent_withdrawn_at)


def _backfill(conn: sa.Connection) -> None:
    rows: list[dict[str, Any]] = []

    def flush(force: bool = False) -> None:
        if rows and (force or len(rows) >= BATCH):
            conn.execute(handover_events.insert(), rows)
            rows.clear()

    all_handovers = conn.execute(sa.select(handovers)).all()
    successors: dict[Any, Any] = {}
    for h in sorted(all_handovers, key=lambda h: h.created_at):
        if h.returned_from_id is not None:
            successors.setdefault(h.returned_from_id, h)
    for h in all_handovers:
        rows.extend(_handover_events(h, successors.get(h.id)))
        flush()

    for a in conn.execute(sa.select(call_attempts)):
        detail: dict[str, Any] = {"outcome": a.outcome}
        if a.callback_at is not None:
            detail["callback_at"] = _iso(a.callback_at)
        rows.append(
            _event(
                a.handover_id,
                OUTCOME_EVENTS.get(a.outcome, "contact_attempted"),
                a.at,
                actor=f"staff:{a.author_username}",
                actor_name=a.author_display_name,
                **detail,
            )
        )
        flush()

    for m in conn.execute(sa.select(messages)):
        if m.direction == "out":
            rows.append(
                _event(
                    m.handover_id,
                    "message_sent",
                    m.created_at,
                    actor=f"staff:{m.author_username}" if m.author_username else "system",
                    actor_name=m.author_display_name,
                    channel=m.channel,
                    status=m.status,
                    via_template=bool(m.via_template),
                    message_id=str(m.id),
                )
            )
        else:
            rows.append(
                _event(
                    m.handover_id,
                    "message_received",
                    m.created_at,
                    actor="service:action-server",
                    channel=m.channel,
                    message_id=str(m.id),
                )
            )
        flush()
    flush(force=True)

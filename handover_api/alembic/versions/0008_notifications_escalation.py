"""Team notifications and escalation of unclaimed handovers.

Why: a new handover must be announced to its team at once (e-mail or a signed webhook) and
escalated when nobody claims it within the team's claim time, counted in its working hours.
``handovers.claim_due_at`` is that deadline (set at creation), ``handovers.escalated_at`` when
it was escalated; ``handover_notifications`` is the outbox of announcements (one per handover
and kind: ``new`` | ``escalation``), delivered with backoff. Existing open handovers get no
deadline (they were never promised one): they are not escalated retroactively.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_due_at", TZ, nullable=True))
        batch_op.add_column(sa.Column("escalated_at", TZ, nullable=True))
        batch_op.create_index(
            "ix_handovers_claim_due", ["status", "escalated_at", "claim_due_at"]
        )
    op.create_table(
        "handover_notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handover_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("destination", sa.JSON(), nullable=False),
        sa.Column("secret_env", sa.String(100), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("done_at", TZ, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed')",
            name=op.f("ck_handover_notifications_status"),
        ),
        sa.CheckConstraint(
            "kind IN ('new', 'escalation')", name=op.f("ck_handover_notifications_kind")
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'webhook')", name=op.f("ck_handover_notifications_channel")
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["handovers.id"],
            name=op.f("fk_handover_notifications_handover_id_handovers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_notifications")),
        sa.UniqueConstraint(
            "handover_id", "kind", name=op.f("uq_handover_notifications_handover_kind")
        ),
    )
    with op.batch_alter_table("handover_notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_handover_notifications_handover_id"), ["handover_id"]
        )
        batch_op.create_index("ix_handover_notifications_due", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("handover_notifications")
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_index("ix_handovers_claim_due")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("claim_due_at")

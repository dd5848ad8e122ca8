"""Outbox of handover exports (Klantinteracties API of an organisation).

Why: an organisation can have its handovers exported to its own Klantinteracties API (Open
Klant, used with KISS; ``handover_api/export``). ``handover_exports`` is the outbox: one row per
handover and exporter (unique), delivered by ``cli export-due`` with exponential backoff;
``remote_ids`` keeps what was created remotely so a retry never creates a second klantcontact.
The rows go with their handover (``ON DELETE CASCADE``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "handover_exports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handover_id", sa.Uuid(), nullable=False),
        sa.Column("exporter", sa.String(32), nullable=False),
        sa.Column("organisation", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("remote_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("done_at", TZ, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed')", name=op.f("ck_handover_exports_status")
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["handovers.id"],
            name=op.f("fk_handover_exports_handover_id_handovers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_exports")),
        sa.UniqueConstraint(
            "handover_id", "exporter", name=op.f("uq_handover_exports_handover_exporter")
        ),
    )
    with op.batch_alter_table("handover_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_exports_handover_id"), ["handover_id"])
        batch_op.create_index("ix_handover_exports_due", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("handover_exports")

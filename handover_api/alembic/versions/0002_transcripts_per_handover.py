"""Transcripts belong to a handover; consent names its organisation; staff roles.

Why: transcripts were grouped and authorised by the conversation id, which for SMS/WhatsApp was
the resident's phone number, so two organisations that each received a handover of the same
resident read each other's conversations. From now on each handover holds the messages shared
with its own consent (``transcript_events``), and ``consent_organisation`` records whom the
resident agreed to share with, so a case returned to another organisation shows no data until
that organisation is covered by consent. Existing handovers get their transcript copied from
the conversation events up to the moment the handover was made.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transcript_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handover_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("sender", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.CheckConstraint("sender IN ('user', 'bot')", name=op.f("ck_transcript_events_sender")),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["handovers.id"],
            name=op.f("fk_transcript_events_handover_id_handovers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_events")),
        sa.UniqueConstraint("handover_id", "event_id", name="uq_transcript_events_event"),
    )
    with op.batch_alter_table("transcript_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transcript_events_handover_id"), ["handover_id"], unique=False
        )

    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_organisation", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column(
                "consent_recorded_by",
                sa.String(length=200),
                nullable=False,
                server_default="service:action-server",
            )
        )
        batch_op.add_column(
            sa.Column("consent_withdrawn_at", sa.DateTime(timezone=True), nullable=True)
        )
    # A returned case used to copy the consent of its predecessor: that consent named the
    # predecessor's organisation, so such successors are not covered.
    op.execute(
        "UPDATE handovers SET consent_organisation = COALESCE("
        "(SELECT p.destination_organisation FROM handovers p "
        "WHERE p.id = handovers.returned_from_id), destination_organisation)"
    )
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.alter_column(
            "consent_organisation", existing_type=sa.String(length=100), nullable=False
        )
        batch_op.alter_column("consent_recorded_by", server_default=None)

    op.execute(
        "INSERT INTO transcript_events (handover_id, event_id, sender, text, at, intent) "
        "SELECT h.id, e.event_id, e.sender, e.text, e.at, e.intent "
        "FROM handovers h JOIN conversation_events e ON e.conversation_id = h.conversation_id "
        "WHERE e.at <= h.created_at AND h.returned_from_id IS NULL"
    )

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), nullable=False, server_default="staff")
        )
        batch_op.create_check_constraint(
            op.f("ck_staff_users_role"), "role IN ('staff', 'auditor')"
        )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.alter_column("role", server_default=None)

    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_events_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_events_received_at"))
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_staff_users_role"), type_="check")
        batch_op.drop_column("role")
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_column("consent_withdrawn_at")
        batch_op.drop_column("consent_recorded_by")
        batch_op.drop_column("consent_organisation")
    with op.batch_alter_table("transcript_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcript_events_handover_id"))
    op.drop_table("transcript_events")

"""Messages between professional and resident, and the files the resident sends.

Why: a professional writes to the resident through the resident's channel (SMS or WhatsApp via
Twilio) from the case page, sees whether it was delivered (Twilio's status callbacks), and reads
the resident's answer, photos and documents included, in the same case. ``handover_messages``
holds both directions (bodies with BSNs stripped); ``handover_media`` the files (allowed types
only, at most 10 MB each). Both go with their handover (``ON DELETE CASCADE``).
``conversations.webchat_seen_at``: when the resident's web chat last picked up messages (a
professional's message to the web chat waits there while the chat is open).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webchat_seen_at", TZ, nullable=True))

    op.create_table(
        "handover_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handover_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_username", sa.String(100), nullable=True),
        sa.Column("author_display_name", sa.String(200), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("twilio_sid", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", TZ, nullable=True),
        sa.Column("status_reason", sa.String(50), nullable=True),
        sa.Column("error_code", sa.String(20), nullable=True),
        sa.Column("via_template", sa.Boolean(), nullable=False),
        sa.Column("content_sid", sa.String(64), nullable=True),
        sa.CheckConstraint(
            "direction IN ('out', 'in')", name=op.f("ck_handover_messages_direction")
        ),
        sa.CheckConstraint(
            "channel IN ('sms', 'whatsapp', 'web')", name=op.f("ck_handover_messages_channel")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'delivered', 'read', 'undelivered', 'failed', "
            "'received', 'not_sent')",
            name=op.f("ck_handover_messages_status"),
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["handovers.id"],
            name=op.f("fk_handover_messages_handover_id_handovers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_messages")),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_handover_messages_twilio_sid")),
    )
    with op.batch_alter_table("handover_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_handover_messages_handover_created", ["handover_id", "created_at"]
        )

    op.create_table(
        "handover_media",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handover_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("twilio_message_sid", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["handovers.id"],
            name=op.f("fk_handover_media_handover_id_handovers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["handover_messages.id"],
            name=op.f("fk_handover_media_message_id_handover_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_media")),
    )
    with op.batch_alter_table("handover_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_media_handover_id"), ["handover_id"])
        batch_op.create_index(batch_op.f("ix_handover_media_message_id"), ["message_id"])
        batch_op.create_index(
            batch_op.f("ix_handover_media_twilio_message_sid"), ["twilio_message_sid"]
        )


def downgrade() -> None:
    op.drop_table("handover_media")
    op.drop_table("handover_messages")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("webchat_seen_at")

"""Staff workspace: assignment, call attempts, conversation review.

Why: case workers need cases assigned to a person, a record of call attempts, search on phone
number and filters on life domain; the front office needs every conversation (with or without
a handover) with the classifier's confidence per message, and a place to mark a message as
misunderstood. Adds the ``reviewer`` role for front-office staff.

Existing handovers get their search columns filled from their JSON (phone, life domains);
``claimed_at`` is left empty for them (no reliable moment is known).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _phone_digits(contact: object) -> str | None:
    if not isinstance(contact, dict):
        return None
    digits = "".join(ch for ch in str(contact.get("phone") or "") if ch.isdigit())
    return digits[-9:] if len(digits) >= 9 else None


def _domain_codes(domains: object) -> str:
    codes = [str(d.get("code")) for d in domains or [] if isinstance(d, dict) and d.get("code")]
    return f",{','.join(codes)}," if codes else ""


def upgrade() -> None:
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_username", sa.String(100), nullable=True))
        batch_op.add_column(sa.Column("assigned_name", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("assigned_at", TZ, nullable=True))
        batch_op.add_column(sa.Column("claimed_at", TZ, nullable=True))
        batch_op.add_column(sa.Column("first_contact_at", TZ, nullable=True))
        batch_op.add_column(sa.Column("search_phone", sa.String(16), nullable=True))
        batch_op.add_column(
            sa.Column("domain_codes", sa.String(400), nullable=False, server_default="")
        )
        batch_op.create_index(
            batch_op.f("ix_handovers_assigned_username"), ["assigned_username"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_handovers_search_phone"), ["search_phone"])
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.alter_column("domain_codes", server_default=None)

    handovers = sa.table(
        "handovers",
        sa.column("id", sa.Uuid()),
        sa.column("contact", sa.JSON()),
        sa.column("life_domains", sa.JSON()),
        sa.column("search_phone", sa.String()),
        sa.column("domain_codes", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(handovers.c.id, handovers.c.contact, handovers.c.life_domains))
    for row in rows.fetchall():
        bind.execute(
            handovers.update()
            .where(handovers.c.id == row.id)
            .values(
                search_phone=_phone_digits(row.contact),
                domain_codes=_domain_codes(row.life_domains),
            )
        )

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_staff_users_role"), type_="check")
        batch_op.create_check_constraint("role", "role IN ('staff', 'reviewer', 'auditor')")

    op.create_table(
        "call_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handover_id", sa.Uuid(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("author_username", sa.String(100), nullable=False),
        sa.Column("author_display_name", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("callback_at", TZ, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('bereikt', 'niet_bereikt', 'terugbellen')",
            name=op.f("ck_call_attempts_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["handovers.id"],
            name=op.f("fk_call_attempts_handover_id_handovers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_attempts")),
    )
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_attempts_handover_id"), ["handover_id"])

    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confidence", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("fallback", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.alter_column("fallback", server_default=None)

    op.create_table(
        "conversations",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("sender_key", sa.String(64), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("last_at", TZ, nullable=False),
        sa.Column("user_messages", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.Column("low_confidence", sa.Integer(), nullable=False),
        sa.Column("min_confidence", sa.Float(), nullable=True),
        sa.Column("erased_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversations_sender_key"), ["sender_key"])
        batch_op.create_index(batch_op.f("ix_conversations_last_at"), ["last_at"])
        batch_op.create_index(
            "ix_conversations_municipality_last", ["municipality_code", "last_at"]
        )

    op.create_table(
        "conversation_senders",
        sa.Column("sender_key", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=True),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("sender_key", name=op.f("pk_conversation_senders")),
    )
    with op.batch_alter_table("conversation_senders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_senders_updated_at"), ["updated_at"])

    op.create_table(
        "review_marks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("correct_intent", sa.String(100), nullable=False),
        sa.Column("reviewer_username", sa.String(100), nullable=False),
        sa.Column("reviewer_display_name", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(100), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["conversation_events.id"],
            name=op.f("fk_review_marks_event_id_conversation_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_marks")),
        sa.UniqueConstraint("event_id", name=op.f("uq_review_marks_event_id")),
    )
    with op.batch_alter_table("review_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_marks_conversation_id"), ["conversation_id"])
        batch_op.create_index(batch_op.f("ix_review_marks_organisation"), ["organisation"])


def downgrade() -> None:
    op.drop_table("review_marks")
    op.drop_table("conversation_senders")
    op.drop_table("conversations")
    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.drop_column("fallback")
        batch_op.drop_column("confidence")
    op.drop_table("call_attempts")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_staff_users_role"), type_="check")
        batch_op.create_check_constraint("role", "role IN ('staff', 'auditor')")
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handovers_search_phone"))
        batch_op.drop_index(batch_op.f("ix_handovers_assigned_username"))
        for column in (
            "domain_codes",
            "search_phone",
            "first_contact_at",
            "claimed_at",
            "assigned_at",
            "assigned_name",
            "assigned_username",
        ):
            batch_op.drop_column(column)

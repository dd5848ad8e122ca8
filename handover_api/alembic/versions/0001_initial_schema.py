"""Initial schema: handovers, notes, conversation events, staff users, tokens, audit log.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26 06:31:23.717620

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('resource_type', sa.String(length=50), nullable=False),
    sa.Column('resource_id', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_log_resource', ['resource_type', 'resource_id'], unique=False)

    op.create_table('conversation_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('sender', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('intent', sa.String(length=100), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sender IN ('user', 'bot')", name=op.f('ck_conversation_events_sender')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_events')),
    sa.UniqueConstraint('conversation_id', 'event_id', name='uq_conversation_events_event')
    )
    with op.batch_alter_table('conversation_events', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_events_conversation_at', ['conversation_id', 'at'], unique=False)

    op.create_table('handovers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('municipality_code', sa.String(length=6), nullable=False),
    sa.Column('municipality_name', sa.String(length=100), nullable=False),
    sa.Column('destination_level', sa.String(length=16), nullable=False),
    sa.Column('destination_organisation', sa.String(length=100), nullable=False),
    sa.Column('destination_team', sa.String(length=100), nullable=False),
    sa.Column('destination_reason', sa.Text(), nullable=True),
    sa.Column('life_domains', sa.JSON(), nullable=False),
    sa.Column('multi_problem', sa.Boolean(), nullable=False),
    sa.Column('crisis', sa.JSON(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('application', sa.JSON(), nullable=True),
    sa.Column('contact', sa.JSON(), nullable=False),
    sa.Column('consent_given', sa.Boolean(), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consent_text_version', sa.String(length=50), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('returned_from_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint("channel IN ('web', 'sms', 'whatsapp', 'rest', 'shell')", name=op.f('ck_handovers_channel')),
    sa.CheckConstraint("destination_level IN ('regional', 'local')", name=op.f('ck_handovers_destination_level')),
    sa.CheckConstraint("priority IN ('normal', 'urgent')", name=op.f('ck_handovers_priority')),
    sa.CheckConstraint("status IN ('new', 'claimed', 'in_progress', 'returned', 'closed')", name=op.f('ck_handovers_status')),
    sa.ForeignKeyConstraint(['returned_from_id'], ['handovers.id'], name=op.f('fk_handovers_returned_from_id_handovers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_handovers_idempotency_key')),
    sa.UniqueConstraint('reference', name=op.f('uq_handovers_reference'))
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handovers_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_handovers_inbox', ['destination_organisation', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_handovers_returned_from_id'), ['returned_from_id'], unique=False)

    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=100), nullable=False),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_users_username'))
    )
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_users_organisation'), ['organisation'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], name=op.f('fk_api_tokens_user_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('handover_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('handover_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author_username', sa.String(length=100), nullable=False),
    sa.Column('author_display_name', sa.String(length=200), nullable=False),
    sa.Column('author_organisation', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_notes_handover_id_handovers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_notes'))
    )
    with op.batch_alter_table('handover_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_notes_handover_id'), ['handover_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('handover_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_notes_handover_id'))

    op.drop_table('handover_notes')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_users_organisation'))

    op.drop_table('staff_users')
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handovers_returned_from_id'))
        batch_op.drop_index('ix_handovers_inbox')
        batch_op.drop_index(batch_op.f('ix_handovers_conversation_id'))

    op.drop_table('handovers')
    with op.batch_alter_table('conversation_events', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_events_conversation_at')

    op.drop_table('conversation_events')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_resource')
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')

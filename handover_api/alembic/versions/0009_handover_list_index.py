"""An index the handover lists sort from.

Why: the inbox and ``GET /api/v1/handovers`` sort an organisation's handovers (urgent first,
open first, by time). With 100,000 handovers SQLite read and sorted every matching row with
all its columns (~450 ms per page). ``ix_handovers_list`` holds the filter and sort columns
and the key, so a page is chosen from the index alone and only its rows are read
(services/pagination.page_of with ``key``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["destination_organisation", "status", "priority", "created_at", "reference", "id"]


def upgrade() -> None:
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.create_index("ix_handovers_list", COLUMNS)


def downgrade() -> None:
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_index("ix_handovers_list")

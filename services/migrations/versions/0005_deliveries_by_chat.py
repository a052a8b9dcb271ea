"""Deliveries indexed by chat: a claim skips the chats another sender holds a lease on.

Revision ID: 0005
Revises: 0004

Without it, every candidate row of a claim looks through all queued deliveries for one of its
chat's that is leased: fine for a hundred, a scan per row for the ten thousand of a busy hour.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_chat", "deliveries", ["account_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_chat", table_name="deliveries")

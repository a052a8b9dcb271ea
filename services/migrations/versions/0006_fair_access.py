"""Fair access: bans and rating blocks on accounts, holds by account and time for the rating.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("banned_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("ban_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("blocked_until", sa.DateTime(), nullable=True))
    op.create_index("ix_reservations_account_created", "reservations", ["account_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_reservations_account_created", table_name="reservations")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("blocked_until")
        batch.drop_column("ban_reason")
        batch.drop_column("banned_until")

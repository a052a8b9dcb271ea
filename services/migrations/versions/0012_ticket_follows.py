"""A ticket opened by a driver's message after their last one was closed names that one.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain column (a ticket's number, for the agents to look up), not a foreign key: SQLite
    # would have to copy the table that the messages refer to.
    op.add_column("support_tickets", sa.Column("previous_id", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("support_tickets") as table:
        table.drop_column("previous_id")

"""The version of each truck's latest registration.

So that `PUT /v1/trucks/{plate}` replayed, or overtaken on the way by a later one, cannot bring
back a list of phones the border system changed since. A plate registered before this revision has no row: its first registration with a version takes any.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "truck_registrations",
        sa.Column("plate", sa.String(16), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("truck_registrations")

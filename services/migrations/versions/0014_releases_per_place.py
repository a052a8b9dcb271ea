"""A reservation may free more than one place.

A booking the border system moves frees its old place at each move (services.booking.moves), each
with its own release time (rule 5). So `releases.reservation_id` is no longer unique, only indexed.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEX = "ix_releases_reservation_id"
UNIQUE = "releases_reservation_id_key"  # PostgreSQL's name for 0001's unique column


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a constraint: the table is copied into one without it. The table is
        # given, not read, so `alembic upgrade --sql` prints it.
        with op.batch_alter_table("releases", recreate="always", copy_from=_releases(unique=False)):
            pass
    else:
        op.drop_constraint(UNIQUE, "releases", type_="unique")
    op.create_index(INDEX, "releases", ["reservation_id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="releases")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("releases", recreate="always", copy_from=_releases(unique=True)):
            pass
    else:
        op.create_unique_constraint(UNIQUE, "releases", ["reservation_id"])


def _releases(*, unique: bool) -> sa.Table:
    """The table as 0001 made it, with or without its reservation's uniqueness."""
    return sa.Table(
        "releases", sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slot_id", sa.Integer(), sa.ForeignKey("slots.id"), nullable=False),
        sa.Column("reservation_id", sa.Integer(), sa.ForeignKey("reservations.id"), nullable=False, unique=unique),
        sa.Column("release_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime()),
        sa.Index("ix_releases_due", "released_at", "release_at"),
    )

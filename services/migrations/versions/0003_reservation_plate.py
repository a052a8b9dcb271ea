"""Reservations carry their truck's plate, unique among active ones per checkpoint and day.

Revision ID: 0003
Revises: 0002

Rows from before are given their truck's plate, except an active one whose plate an earlier
active row at the same checkpoint on the same day already has (two accounts that added the same
truck, each with a booking): that booking stays as it was, outside the new index, rather than the
migration failing or cancelling a driver's booking.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('held', 'booked')")


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("plate", sa.String(16)))
    op.execute(
        "UPDATE reservations SET plate = (SELECT plate FROM trucks WHERE trucks.id = reservations.truck_id)"
        " WHERE NOT (status IN ('held', 'booked') AND EXISTS ("
        "  SELECT 1 FROM reservations AS earlier JOIN trucks AS theirs ON theirs.id = earlier.truck_id"
        "  WHERE earlier.status IN ('held', 'booked') AND earlier.id < reservations.id"
        "  AND earlier.checkpoint = reservations.checkpoint AND earlier.day = reservations.day"
        "  AND theirs.plate = (SELECT plate FROM trucks WHERE trucks.id = reservations.truck_id)))"
    )
    op.create_index("uq_reservations_plate_day_active", "reservations", ["plate", "checkpoint", "day"],
                    unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index("uq_reservations_plate_day_active", table_name="reservations")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("plate")

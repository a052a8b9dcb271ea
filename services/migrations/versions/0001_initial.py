"""Accounts, trucks, slots, reservations (holds and bookings) and pending releases.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('held', 'booked')")
NOT_REMOVED = sa.text("removed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("first_name", sa.String(128), nullable=False, server_default=""),
        sa.Column("language", sa.String(8)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "trucks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("trailer_plate", sa.String(16)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime()),
    )
    op.create_index("ix_trucks_account_id", "trucks", ["account_id"])
    op.create_index("uq_trucks_account_plate_active", "trucks", ["account_id", "plate"], unique=True,
                    sqlite_where=NOT_REMOVED, postgresql_where=NOT_REMOVED)
    op.create_table(
        "slots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("checkpoint", sa.String(16), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("checkpoint", "starts_at", name="uq_slots_checkpoint_start"),
        sa.CheckConstraint("taken >= 0 AND taken <= capacity", name="ck_slots_taken_within_capacity"),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("truck_id", sa.Integer(), sa.ForeignKey("trucks.id"), nullable=False),
        sa.Column("slot_id", sa.Integer(), sa.ForeignKey("slots.id"), nullable=False),
        sa.Column("checkpoint", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime()),
        sa.Column("ended_at", sa.DateTime()),
        sa.Column("ref", sa.String(12), unique=True),
        sa.Column("chat_id", sa.BigInteger()),
        sa.Column("message_id", sa.BigInteger()),
        sa.Column("countdown_at", sa.DateTime()),
    )
    op.create_index("ix_reservations_slot_id", "reservations", ["slot_id"])
    op.create_index("ix_reservations_account_status", "reservations", ["account_id", "status"])
    op.create_index("ix_reservations_status_expires", "reservations", ["status", "expires_at"])
    op.create_index("ix_reservations_status_countdown", "reservations", ["status", "countdown_at"])
    op.create_index("uq_reservations_truck_day_active", "reservations", ["truck_id", "checkpoint", "day"],
                    unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slot_id", sa.Integer(), sa.ForeignKey("slots.id"), nullable=False),
        sa.Column("reservation_id", sa.Integer(), sa.ForeignKey("reservations.id"), nullable=False, unique=True),
        sa.Column("release_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime()),
    )
    op.create_index("ix_releases_due", "releases", ["released_at", "release_at"])


def downgrade() -> None:
    for table in ("releases", "reservations", "slots", "trucks", "accounts"):
        op.drop_table(table)

"""Status notices: phones, registered trucks, follows, events, deliveries, status cards.

The outbox is `deliveries`. Reservations learn when a hold's end was announced and a booking reminded.

Revision ID: 0004
Revises: 0003

Every account already follows the trucks it added.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registered_trucks",
        sa.Column("plate", sa.String(16), primary_key=True),
        sa.Column("phone", sa.String(20), primary_key=True),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_registered_trucks_phone", "registered_trucks", ["phone"])
    op.create_table(
        "account_phones",
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("shared_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_account_phones_phone", "account_phones", ["phone"])
    op.create_table(
        "follows",
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("plate", sa.String(16), primary_key=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_follows_plate", "follows", ["plate"])
    op.execute(
        "INSERT INTO follows (account_id, plate, source, created_at)"
        " SELECT account_id, plate, 'own', MIN(created_at) FROM trucks WHERE removed_at IS NULL"
        " GROUP BY account_id, plate"
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("plate", sa.String(16)),
        sa.Column("booking_ref", sa.String(12)),
        sa.Column("reservation_id", sa.Integer(), sa.ForeignKey("reservations.id")),
        sa.Column("checkpoint", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("details", sa.Text(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
    )
    op.create_index("ix_events_plate", "events", ["plate"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id"), nullable=False),
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ring", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime()),
        sa.Column("sent_at", sa.DateTime()),
        sa.Column("message_id", sa.BigInteger()),
        sa.Column("error", sa.Text()),
        sa.UniqueConstraint("event_id", "account_id", name="uq_deliveries_event_account"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_event_id", "deliveries", ["event_id"])
    op.create_table(
        "status_cards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("message_id", sa.BigInteger()),
        sa.Column("timeline", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "key", name="uq_status_cards_account_key"),
    )
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("warned_at", sa.DateTime()))
        batch.add_column(sa.Column("reminded_at", sa.DateTime()))


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("reminded_at")
        batch.drop_column("warned_at")
    op.drop_table("status_cards")
    op.drop_index("ix_deliveries_event_id", table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_events_plate", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_follows_plate", table_name="follows")
    op.drop_table("follows")
    op.drop_index("ix_account_phones_phone", table_name="account_phones")
    op.drop_table("account_phones")
    op.drop_index("ix_registered_trucks_phone", table_name="registered_trucks")
    op.drop_table("registered_trucks")

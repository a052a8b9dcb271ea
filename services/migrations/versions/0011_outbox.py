"""One outbox for everything the bot says on its own, in place of each feature's queue.

The notices' deliveries and the support messages' own queue become one table. The queued deliveries become rows of kind "notice" in their chat's stream, with their tries and
leases; the support messages still to be copied become rows of their ticket's side, ordered by
their message ids on that side. A ticket records its context card's message, so a sender that
failed after posting it does not post a second one.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("chat_id", sa.BigInteger()),
        sa.Column("account_id", sa.BigInteger()),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id")),
        sa.Column("payload", sa.Text(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime()),
        sa.Column("message_id", sa.BigInteger()),
        sa.Column("sent_at", sa.DateTime()),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("event_id", "chat_id", name="uq_outbox_event_chat"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at", "id"])
    op.create_index("ix_outbox_stream", "outbox", ["stream", "status", "seq", "id"])
    op.create_index("ix_outbox_chat", "outbox", ["chat_id", "status"])
    op.create_index("ix_outbox_event", "outbox", ["event_id"])
    op.execute(
        "INSERT INTO outbox (kind, stream, seq, chat_id, account_id, event_id, payload, status, attempts,"
        " next_attempt_at, claimed_until, message_id, sent_at, error, created_at)"
        " SELECT 'notice', 'chat:' || account_id, 0, account_id, account_id, event_id, '{}', status, attempts,"
        " next_attempt_at, claimed_until, message_id, sent_at, error, next_attempt_at"
        " FROM deliveries ORDER BY id")
    for author, kind, side, seq, chat in (("driver", "support.to_agents", "driver", "driver_message_id", "NULL"),
                                          ("agent", "support.to_driver", "agent", "topic_message_id", "t.account_id")):
        op.execute(
            "INSERT INTO outbox (kind, stream, seq, chat_id, account_id, payload, status, attempts, next_attempt_at,"
            " created_at)"
            f" SELECT '{kind}', 'ticket:' || m.ticket_id || '\\:{side}', m.{seq}, {chat}, t.account_id,"  # \\: not a parameter
            " '{\"message\": ' || m.id || '}', 'queued', m.attempts, COALESCE(m.next_attempt_at, m.created_at),"
            " m.created_at"
            " FROM support_messages m JOIN support_tickets t ON t.id = m.ticket_id"
            f" WHERE m.copy = 'queued' AND m.author = '{author}' ORDER BY m.id")
    op.drop_index("ix_deliveries_chat", table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_index("ix_deliveries_event_id", table_name="deliveries")
    op.drop_table("deliveries")
    # The table as it is now is given, not read from the database, so `alembic upgrade --sql` prints it.
    with op.batch_alter_table("support_messages", copy_from=_support_messages()) as table:
        table.drop_column("claimed_until")
        table.drop_column("next_attempt_at")
        table.drop_column("attempts")
    with op.batch_alter_table("support_tickets") as table:
        table.add_column(sa.Column("card_message_id", sa.BigInteger()))


def downgrade() -> None:
    with op.batch_alter_table("support_tickets") as table:
        table.drop_column("card_message_id")
    with op.batch_alter_table("support_messages") as table:
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("next_attempt_at", sa.DateTime()))
        table.add_column(sa.Column("claimed_until", sa.DateTime()))
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
    op.create_index("ix_deliveries_chat", "deliveries", ["account_id", "status"])
    # A delivery rings when its event is one the driver must act on (services.notices.types.RINGING).
    op.execute(
        "INSERT INTO deliveries (event_id, account_id, status, ring, attempts, next_attempt_at, claimed_until,"
        " sent_at, message_id, error)"
        " SELECT o.event_id, o.chat_id, CASE WHEN o.status IN ('sent', 'settled') THEN 'sent'"
        " WHEN o.status = 'queued' THEN 'queued' ELSE 'undeliverable' END,"
        " e.type IN ('called', 'documents_required', 'released', 'booking_moved', 'booking_cancelled'),"
        " o.attempts, o.next_attempt_at, o.claimed_until, o.sent_at, o.message_id, o.error"
        " FROM outbox o JOIN events e ON e.id = o.event_id WHERE o.kind = 'notice' ORDER BY o.id")
    op.drop_index("ix_outbox_event", table_name="outbox")
    op.drop_index("ix_outbox_chat", table_name="outbox")
    op.drop_index("ix_outbox_stream", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")


def _support_messages() -> sa.Table:
    """The table as 0008 and 0009 made it."""
    return sa.Table(
        "support_messages", sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("support_tickets.id"), nullable=False),
        sa.Column("author", sa.String(8), nullable=False),
        sa.Column("agent_id", sa.BigInteger()),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("driver_message_id", sa.BigInteger()),
        sa.Column("topic_message_id", sa.BigInteger()),
        sa.Column("copy", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("copied_at", sa.DateTime()),
        sa.Column("reply_to_id", sa.BigInteger()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime()),
        sa.Column("claimed_until", sa.DateTime()),
        sa.Column("edited_text", sa.Text()),
        sa.Index("ux_support_messages_topic", "topic_message_id", unique=True),
        sa.Index("ix_support_messages_queued", "copy", "id"),
        sa.Index("ix_support_messages_ticket_copy", "ticket_id", "copy", "id"),
        sa.Index("ux_support_messages_driver", "ticket_id", "author", "driver_message_id", unique=True),
    )

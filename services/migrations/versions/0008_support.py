"""Support: tickets, and the messages between a driver's chat and the agents' topic.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "support_tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("thread_id", sa.BigInteger()),
        sa.Column("assignee_id", sa.BigInteger()),
        sa.Column("assignee_name", sa.String(128)),
        sa.Column("rating", sa.Integer()),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime()),
        sa.Column("closed_at", sa.DateTime()),
    )
    op.create_index("ix_support_tickets_account_id", "support_tickets", ["account_id"])
    op.create_index("ux_support_tickets_open", "support_tickets", ["account_id"], unique=True,
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    op.create_index("ux_support_tickets_thread", "support_tickets", ["thread_id"], unique=True)
    op.create_table(
        "support_messages",
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
    )
    op.create_index("ix_support_messages_ticket_driver", "support_messages", ["ticket_id", "driver_message_id"])
    op.create_index("ux_support_messages_topic", "support_messages", ["topic_message_id"], unique=True)
    op.create_index("ix_support_messages_queued", "support_messages", ["copy", "id"])


def downgrade() -> None:
    op.drop_table("support_messages")
    op.drop_table("support_tickets")

"""Support messages copied by a sender that claims them, with their replies and edits.

Tries, when due again and whose until when (the sender's lease); the message each one answers; its
writer's latest edit; and a driver's message stored once however often its update is handled.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("support_messages") as table:
        table.add_column(sa.Column("reply_to_id", sa.BigInteger()))
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("next_attempt_at", sa.DateTime()))
        table.add_column(sa.Column("claimed_until", sa.DateTime()))
        table.add_column(sa.Column("edited_text", sa.Text()))
    op.create_index("ix_support_messages_ticket_copy", "support_messages", ["ticket_id", "copy", "id"])
    op.drop_index("ix_support_messages_ticket_driver", "support_messages")
    op.create_index("ux_support_messages_driver", "support_messages", ["ticket_id", "author", "driver_message_id"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ux_support_messages_driver", "support_messages")
    op.create_index("ix_support_messages_ticket_driver", "support_messages", ["ticket_id", "driver_message_id"])
    op.drop_index("ix_support_messages_ticket_copy", "support_messages")
    with op.batch_alter_table("support_messages") as table:
        table.drop_column("edited_text")
        table.drop_column("claimed_until")
        table.drop_column("next_attempt_at")
        table.drop_column("attempts")
        table.drop_column("reply_to_id")

"""The audit trail's ids are SQLite's own row ids: one B-tree a record fewer at every append.

On SQLite a BIGINT primary key is an index of its own beside the table's row ids, which every
append writes too; an INTEGER primary key is the row id itself. The booking engine appends a record
for every tap of a rush. PostgreSQL keeps BIGINT: its primary key is one index either way.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _id_type(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _id_type(sa.Integer(), sa.BigInteger())


def _id_type(existing: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # SQLite cannot change a column's type: the table is copied into a new one, indexes and all. The
    # table as it is now is given, not read from the database, so `alembic upgrade --sql` prints it.
    with op.batch_alter_table("audit_records", recreate="always", copy_from=_audit_records(existing)) as table:
        table.alter_column("id", existing_type=existing, type_=new, existing_nullable=False, autoincrement=False)


def _audit_records(id_type: sa.types.TypeEngine) -> sa.Table:
    """The table as 0007 made it, with ids of `id_type`."""
    return sa.Table(
        "audit_records", sa.MetaData(),
        sa.Column("id", id_type, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("account_id", sa.BigInteger()),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Index("ix_audit_records_at", "at"),
        sa.Index("ix_audit_records_account_at", "account_id", "at"),
    )

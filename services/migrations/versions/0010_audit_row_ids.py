"""The audit trail costs an append less: row ids as its ids on SQLite, a BRIN index of its times on PostgreSQL.

The booking engine appends a record for every tap of a rush. On SQLite a BIGINT primary key is an
index of its own beside the table's row ids, which every append wrote too; an INTEGER primary key
is the row id itself. On PostgreSQL (whose primary key is one index either way) the records' times
are indexed by block ranges instead of a B-tree: they are appended in nearly the order of their
times, and a range per block is all that an export from one moment to another needs.

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
    _times_index("brin")


def downgrade() -> None:
    _id_type(sa.Integer(), sa.BigInteger())
    _times_index("btree")


def _times_index(method: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_audit_records_at", table_name="audit_records")
    op.create_index("ix_audit_records_at", "audit_records", ["at"], postgresql_using=method)


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

"""Alembic environment, for the two ways migrations run.

`Database.migrate()` (`nobat migrate`, and every start of the bot) hands over a connection of the
app's own engine in `config.attributes["connection"]`. The `alembic` command line (`alembic check`,
`alembic revision --autogenerate`, `alembic upgrade head [--sql]`) hands over nothing, so this file
finds the database itself: `-x url=...`, else DATABASE_URL, else the bot's default (`DEFAULT_URL`).
The bot's settings are not read here: the domain does not import the bot.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from services.migrations import COMPARE_OPTIONS
from services.storage.database import DEFAULT_URL, Database, normalize_url
from services.storage.models import Base

config = context.config

# Shared by both ways, so `alembic check` compares exactly what `nobat migrate` builds.
OPTIONS = {
    "target_metadata": Base.metadata,
    # SQLite cannot ALTER most of a table; batch mode copies the table instead.
    "render_as_batch": True,
    **COMPARE_OPTIONS,
}


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    return normalize_url(url)


def number_the_revision(_context, _revision, directives) -> None:
    """Number a new revision after the newest (0002, 0003, ...), unless --rev-id names it, so the
    files sort in the order they run, as 0001_initial.py does."""
    if getattr(config.cmd_opts, "rev_id", None):
        return
    numbers = [int(s.revision) for s in context.script.walk_revisions() if s.revision.isdigit()]
    for script in directives:
        script.rev_id = f"{max(numbers, default=0) + 1:04d}"


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, process_revision_directives=number_the_revision, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


async def run_on_own_engine(url: str) -> None:
    # The app's connection for migrations, as in Database.migrate(): SQLite gets the same pragmas
    # (foreign keys, WAL, BEGIN IMMEDIATE) and its directory created, no statement times out, and
    # everything is one transaction.
    db = Database(url)
    try:
        async with db.migrating() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await db.close()


if config.attributes.get("connection") is not None:
    # Inside the app: its logging is configured already, so the ini's is not applied.
    run_migrations(config.attributes["connection"])
else:
    if config.config_file_name is not None:
        # Keep loggers created before this (the app's, pytest's) working.
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    if context.is_offline_mode():
        # `alembic upgrade head --sql`: the SQL for a DBA to run; only the dialect matters.
        context.configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"},
                          **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_on_own_engine(database_url()))

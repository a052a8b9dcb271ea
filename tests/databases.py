"""Fresh databases for tests: a SQLite file always, a throw-away PostgreSQL database when
DATABASE_URL is set (CI sets it; a newcomer's plain `pytest` runs on SQLite alone); and a database
frozen by another connection."""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from services.storage.database import Database, DatabaseTimeouts


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("DATABASE_URL") else ["sqlite"]


def admin_dsn() -> str:
    """The PostgreSQL server of DATABASE_URL, as asyncpg takes it, for creating and dropping databases."""
    return make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def blank_database(backend: str, tmp_path: Path):
    """The URL of a database with nothing in it, not even the schema; dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'nobat.db'}"
        return
    name = f"nobat_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(os.environ["DATABASE_URL"]).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(admin_dsn())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def fresh_database(backend: str, tmp_path: Path, timeouts: DatabaseTimeouts | None = None):
    """A migrated, empty database of the given backend; dropped afterwards."""
    async with blank_database(backend, tmp_path) as url:
        db = Database(url, timeouts=timeouts)
        try:
            await db.migrate()
            yield db
        finally:
            await db.close()


@asynccontextmanager
async def frozen(db: Database, tables: tuple[str, ...] = ("reservations", "accounts")):
    """The database frozen: on PostgreSQL another connection holds `tables` in ACCESS EXCLUSIVE mode
    (not even a read of them gets through), on SQLite another connection holds the write lock."""
    url = make_url(db.url)
    if db.is_sqlite:
        holder = sqlite3.connect(url.database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    holder = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    freeze = holder.transaction()
    await freeze.start()
    await holder.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        await freeze.rollback()
        await holder.close()

"""Fresh databases for tests: a SQLite file always, a throw-away PostgreSQL database when
DATABASE_URL is set (CI sets it; a newcomer's plain `pytest` runs on SQLite alone); and a database
frozen by another connection.

A fresh database is a copy of a template migrated once per test process (a file copy; PostgreSQL's
`CREATE DATABASE ... TEMPLATE`): the same schema the migrations make, without running eleven
migrations before each of a thousand tests. A PostgreSQL copy is emptied after its test and given to
the next one, rather than dropped. `tests/integration/test_migrations.py` runs them from a
blank database.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
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
    async with _throwaway_database() as url:
        yield url


@asynccontextmanager
async def fresh_database(backend: str, tmp_path: Path, timeouts: DatabaseTimeouts | None = None):
    """A migrated, empty database of the given backend; dropped afterwards."""
    async with _copy_of_template(backend, tmp_path) as url:
        db = Database(url, timeouts=timeouts)
        try:
            yield db
        finally:
            await db.close()


_templates: dict[str, str] = {}  # backend -> this process's migrated template: a file, or a database's name


async def _template(backend: str) -> str:
    if backend not in _templates:
        if backend == "sqlite":
            folder = tempfile.mkdtemp(prefix="nobat-template-")
            atexit.register(shutil.rmtree, folder, True)
            url, template = f"sqlite:///{folder}/nobat.db", f"{folder}/nobat.db"
        else:
            template = f"nobat_template_{uuid.uuid4().hex[:12]}"
            await _admin(f'CREATE DATABASE "{template}"')
            atexit.register(_drop_at_exit, template)
            url = _url_of(template)
        db = Database(url)
        try:
            await db.migrate()
        finally:
            await db.close()  # a template must have no connection when it is copied
        _templates[backend] = template
    return _templates[backend]


@asynccontextmanager
async def _copy_of_template(backend: str, tmp_path: Path):
    template = await _template(backend)
    if backend == "sqlite":
        path = tmp_path / "nobat.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    name = _clean.pop() if _clean else await _copy(template)
    try:
        yield _url_of(name)
    finally:
        if await _emptied(name):
            _clean.append(name)
        else:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# PostgreSQL databases of this process, migrated and emptied, for the next test to take: emptying
# one (its connections ended, its tables truncated) takes a tenth of copying the template and
# dropping the copy, which a thousand tests did.
_clean: list[str] = []


async def _copy(template: str) -> str:
    name = f"nobat_test_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    atexit.register(_drop_at_exit, name)
    return name


async def _emptied(name: str) -> bool:
    """The database as the template left it: whoever is still connected (a killed process's
    sessions, a test's leaked engine) cut off, every table but the migrations' version emptied
    and its ids begun again. False when that could not be done: the database is then dropped."""
    try:
        connection = await asyncpg.connect(make_url(_url_of(name)).set(drivername="postgresql")
                                           .render_as_string(hide_password=False))
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        await connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        await connection.execute("SET lock_timeout = '5s'")
        tables = [row["tablename"] for row in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
        if tables:
            quoted = ", ".join(f'"{table}"' for table in tables)
            await connection.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        return True
    except (OSError, asyncpg.PostgresError):
        return False
    finally:
        await connection.close()


@asynccontextmanager
async def _throwaway_database():
    """The URL of a new, empty PostgreSQL database; dropped afterwards."""
    name = f"nobat_test_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield _url_of(name)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _url_of(name: str) -> str:
    """DATABASE_URL's server and user, that database."""
    return make_url(os.environ["DATABASE_URL"]).set(database=name).render_as_string(hide_password=False)


async def _admin(statement: str) -> None:
    admin = await asyncpg.connect(admin_dsn())
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


def _drop_at_exit(name: str) -> None:
    import asyncio

    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@asynccontextmanager
async def frozen(db: Database, tables: tuple[str, ...] = ("reservations", "accounts")):
    """The database frozen: on PostgreSQL another connection holds `tables` in ACCESS EXCLUSIVE mode
    (not even a read of them gets through), on SQLite another connection holds the write lock."""
    url = make_url(db.url)
    if db.is_sqlite:
        holder = sqlite3.connect(url.database, isolation_level=None, timeout=30)
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

"""The database: the engine and its sessions, the few places where SQLite and PostgreSQL differ,
and migrations.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is chosen by DATABASE_URL. The
schema is created by Alembic migrations in `services/migrations`, never by `create_all`, so that an
operator's database and a test's are built the same way.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Text, any_, bindparam, event, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from services.kernel.batching import oldest_wait
from services.storage.unavailable import DatabaseUnavailable, only_locked, unavailable_as_error

# The execution option naming when a transaction's waits end (time.monotonic()). What is left then
# is its timeout for locks, but never less than the floor: a transaction that begins just past its
# deadline still gets through a database that is free.
DEADLINE = "nobat_deadline"
DEADLINE_FLOOR_SECONDS = 0.1

# Work nobody is waiting for (the outbox's sender) runs `in_background()`: its sessions hold at most
# half the pool at once, so a burst of deliveries never leaves a driver's tap without a connection.
_background: ContextVar[bool] = ContextVar("nobat_background", default=False)
_holding_turn: ContextVar[bool] = ContextVar("nobat_holding_turn", default=False)


@contextmanager
def in_background() -> Iterator[None]:
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


# services/migrations: beside this package, not in it, for it reads the tables of every domain package.
MIGRATIONS = Path(__file__).parents[1] / "migrations"
# Where the bot keeps its database when DATABASE_URL names none (relative to the working directory).
DEFAULT_URL = "sqlite:///data/nobat.db"


class DatabaseTimeouts(BaseModel):
    """How long a request waits for the database before it gives up, so that a driver whose tap
    finds the database frozen (a long lock, a stuck server) hears "try again shortly" within
    seconds instead of waiting in silence."""

    model_config = ConfigDict(frozen=True)

    connect_timeout_seconds: float = Field(5, gt=0, le=300)
    # Also how long a statement may wait for a lock, and a request for its turn to write.
    statement_timeout_seconds: float = Field(5, gt=0, le=3600)


# Migrations: another process's migration of a big table may take minutes, and a process starting
# meanwhile waits for it (instead of failing) this long at most.
MIGRATION_WAIT_SECONDS = 600
MIGRATION_LOCK = 0x6E6F626174  # the PostgreSQL advisory lock ("nobat") held by the process migrating


def normalize_url(url: str) -> str:
    """Accept the URLs operators write (postgresql://, sqlite:///) and pick the async drivers."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("not a database URL: use sqlite:///path.db or postgresql://user@host/db") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    else:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:///path.db or postgresql://user@host/db")
    return parsed.render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """A database URL fit for a log or an error message: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r":[^:@/]*@", ":***@", url)


class Database:
    """The engine and session factory, plus the few places where SQLite and PostgreSQL differ."""

    def __init__(self, url: str, *, timeouts: DatabaseTimeouts | None = None, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.timeouts = timeouts or DatabaseTimeouts()
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        wait, size = self.timeouts.statement_timeout_seconds, 5 if self.is_sqlite else 10
        self.engine = self._engine(wait, echo=echo, pool_size=size, max_overflow=size, pool_timeout=wait)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._background_turns = asyncio.Semaphore(size)  # of the pool's 2 * size connections
        # SQLite has one writer at a time anyway; queueing our own writers in the process keeps
        # them from spinning on SQLITE_BUSY against each other.
        self._sqlite_writer = asyncio.Lock() if self.is_sqlite else None

    def _engine(self, wait: float | None, **options) -> AsyncEngine:
        """An engine whose statements wait at most `wait` seconds, for locks included, or, with
        None, as long as a migration may take."""
        # A failed statement's error leaves out its parameters: they are names, phone numbers and
        # texts of drivers, and the error goes to the log.
        options["hide_parameters"] = True
        if self.is_sqlite:
            busy = wait or MIGRATION_WAIT_SECONDS
            engine = create_async_engine(self.url, connect_args={"timeout": busy}, **options)
            _sqlite_transactions(engine, busy)
            return engine
        connect_args: dict = {"timeout": self.timeouts.connect_timeout_seconds}
        if wait is not None:
            milliseconds = str(round(wait * 1000))
            connect_args["server_settings"] = {"statement_timeout": milliseconds, "lock_timeout": milliseconds}
            # The server's timeouts come first and leave the connection clean; the client's is
            # for a server that stopped answering altogether.
            connect_args["command_timeout"] = wait + 1
        engine = create_async_engine(self.url, connect_args=connect_args, **options)
        if wait is not None:
            _postgresql_deadlines(engine, wait)
        return engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on any error. Its waits (for
        this process's turn to write, then for locks) end together by `_deadline()`."""
        async with self._turn():
            async with self._transaction() as session:
                yield session

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        deadline = self._deadline()
        with unavailable_as_error():
            if self._sqlite_writer is not None:
                async with self._sqlite_turn(deadline), self.sessions() as session, session.begin():
                    await session.connection(execution_options={DEADLINE: deadline})
                    yield session
            else:
                async with self.sessions() as session, session.begin():
                    await session.connection(execution_options={DEADLINE: deadline})
                    yield session

    def _deadline(self) -> float:
        """When the waits of a transaction beginning now must end (time.monotonic()): a statement
        timeout after now, or after the oldest request of the batch it writes began to wait
        (`services.batching`), whichever is sooner. Each wait bounded alone, a tap that waited for
        the batch in front of it, then for its turn, then for a lock, would hear "try again
        shortly" after two or three timeouts."""
        now = time.monotonic()
        since = oldest_wait()
        return (now if since is None else min(now, since)) + self.timeouts.statement_timeout_seconds

    @asynccontextmanager
    async def _sqlite_turn(self, deadline: float) -> AsyncIterator[None]:
        """This process's turn to write, waited for until `deadline` at most: behind a writer that
        waits out the busy timeout, a queue of requests would otherwise wait in turn."""
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await self._sqlite_writer.acquire()
        except TimeoutError:
            raise DatabaseUnavailable("no turn to write within the statement timeout") from None
        try:
            yield
        finally:
            self._sqlite_writer.release()

    @asynccontextmanager
    async def reading(self, joined: AsyncSession | None = None) -> AsyncIterator[AsyncSession]:
        """A read-only session: on SQLite it does not take the write lock. With `joined`, that
        session of the caller's instead, so that one screen's reads cost one session."""
        if joined is not None:
            yield joined
            return
        async with self._turn():
            deadline = self._deadline()
            with unavailable_as_error():
                async with self.sessions() as session:
                    await session.connection(execution_options={"nobat_read_only": True, DEADLINE: deadline})
                    yield session

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """In the background, one of its turns (a session within a session takes none more: it
        would wait for itself); a request's waits begin once it has its turn."""
        if not _background.get() or _holding_turn.get():
            yield
            return
        async with self._background_turns:
            token = _holding_turn.set(True)
            try:
                yield
            finally:
                _holding_turn.reset(token)

    def insert(self, model):
        """The dialect's INSERT, which knows ON CONFLICT DO NOTHING on both databases."""
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        return insert(model)

    def among(self, column, values):
        """`column IN values` for a batch, with one parameter whatever its size. On PostgreSQL an
        array (`= ANY(:ids)`), so a batch of any size is one cached prepared statement, not a new
        statement per list length. On SQLite a JSON array that `json_each` reads: a parameter per
        value cost SQLAlchemy more than SQLite's search (docs/benchmarks.md)."""
        values = list(values)
        if self.is_sqlite:
            try:
                listed = json.dumps(values)
            except TypeError:  # not ids, codes or plates: one parameter each after all
                return column.in_(values)
            return column.in_(select(func.json_each(bindparam(None, listed, type_=Text)).table_valued("value").c.value))
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))

    @staticmethod
    async def copy(connection: AsyncConnection, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        """`rows` into `table` by a binary COPY on the transaction's own connection, below
        SQLAlchemy (PostgreSQL): for a rush's batches it costs the client and the server less than
        any INSERT. A row the constraints refuse fails it, and the transaction, as an INSERT would."""
        driver = (await connection.get_raw_connection()).driver_connection
        await driver.copy_records_to_table(table, records=rows, columns=columns)

    def for_update(self, stmt):
        """Row locks where the database has them; SQLite's BEGIN IMMEDIATE already serializes."""
        return stmt if self.is_sqlite else stmt.with_for_update()

    def skip_locked(self, stmt, of=None):
        """Claim rows no other worker holds (PostgreSQL); SQLite has one writer at a time anyway."""
        return stmt if self.is_sqlite else stmt.with_for_update(skip_locked=True, of=of)

    @asynccontextmanager
    async def migrating(self) -> AsyncIterator[AsyncConnection]:
        """A connection for migrations, all in one transaction, with no statement timeout (a
        migration may take minutes). Processes starting at once on a fresh database migrate one
        after another, and the later ones find the schema at head (instead of failing on tables
        the first one is creating): on PostgreSQL they queue on an advisory lock held until the
        commit, on SQLite on the write lock that BEGIN IMMEDIATE takes."""
        engine = self._engine(None, poolclass=NullPool)
        try:
            with unavailable_as_error():
                async with engine.begin() as connection:
                    if not self.is_sqlite:
                        await connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{MIGRATION_WAIT_SECONDS}s'")
                        await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                    yield connection
        finally:
            await engine.dispose()

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent, safe at every start).

        SQLite may answer "busy" at once, without waiting, to a process that connects while
        another one is migrating a fresh file; that process tries again, a little later, for as
        long as it would have waited for the lock. Any other unavailability ends the start.
        """
        deadline = time.monotonic() + MIGRATION_WAIT_SECONDS
        while True:
            try:
                async with self.migrating() as connection:
                    await connection.run_sync(_upgrade)
                return
            except DatabaseUnavailable as exc:
                if not only_locked(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(random.uniform(0.05, 0.5))

    async def close(self) -> None:
        await self.engine.dispose()


def _upgrade(sync_conn) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")


def _sqlite_transactions(engine: AsyncEngine, busy_seconds: float) -> None:
    """Make SQLite take its write lock at BEGIN, so two processes cannot both read then write; and
    wait for another's write lock at most `busy_seconds`."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, record) -> None:
        dbapi_conn.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_seconds * 1000)}")
        cursor.close()
        record.info["nobat_busy_ms"] = round(busy_seconds * 1000)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:
        options = conn.get_execution_options()
        # The lock is waited for until the transaction's deadline only: its turn to write took the rest.
        left = _wait_left(options.get(DEADLINE), busy_seconds)
        milliseconds = max(1, round((busy_seconds if left is None else left) * 1000))
        if conn.connection.info.get("nobat_busy_ms") != milliseconds:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={milliseconds}")
            conn.connection.info["nobat_busy_ms"] = milliseconds
        if options.get("nobat_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _postgresql_deadlines(engine: AsyncEngine, wait: float) -> None:
    """A transaction that began late (it waited for a connection, or for the batch in front of it)
    gets what is left of its deadline as its statement and lock timeouts, for this transaction
    only; one that began at once keeps the connection's own, at no cost."""

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:
        left = _wait_left(conn.get_execution_options().get(DEADLINE), wait)
        if left is not None:
            milliseconds = max(1, round(left * 1000))
            conn.exec_driver_sql(f"SELECT set_config('statement_timeout', '{milliseconds}', true), "
                                 f"set_config('lock_timeout', '{milliseconds}', true)")


def _wait_left(deadline: float | None, full: float) -> float | None:
    """Seconds a transaction may still wait for locks by its `deadline`, or None when that is about
    the full timeout anyway (what a transaction that begins at once has)."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    return None if left >= full - DEADLINE_FLOOR_SECONDS else max(DEADLINE_FLOOR_SECONDS, left)

"""Storage: the SQL schema (SQLAlchemy 2 models), the engine, and migrations.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is chosen by DATABASE_URL. The
schema is created by Alembic migrations in `services/migrations`, never by `create_all`, so that an
operator's database and a test's are built the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    any_,
    bindparam,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from services.batching import oldest_wait

MIGRATIONS = Path(__file__).parent / "migrations"
# The execution option naming when a transaction's waits end (time.monotonic()). What is left then
# is its timeout for locks, but never less than the floor: a transaction that begins just past its
# deadline still gets through a database that is free.
DEADLINE = "nobat_deadline"
DEADLINE_FLOOR_SECONDS = 0.1

# The largest id a row can have: `Integer` keys are 32-bit on PostgreSQL (SQLite would take more, but
# one schema serves both), while account ids are Telegram's user ids, kept in a 64-bit `BigInteger`.
# An id beyond these names no row; PostgreSQL refuses even to compare a column with it.
ROW_ID_MAX = 2**31 - 1
ACCOUNT_ID_MAX = 2**63 - 1


def naive_utc(moment: datetime) -> datetime:
    """A moment as the database keeps it: naive UTC (for rows written below SQLAlchemy too)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, and mixing the two bites."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class ReservationStatus(StrEnum):
    HELD = "held"
    BOOKED = "booked"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    ANNULLED = "annulled"  # by an operator: the account was banned, or this booking annulled


ACTIVE_STATUSES = (ReservationStatus.HELD.value, ReservationStatus.BOOKED.value)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The server default is the one migration 0001 created (`alembic check` compares them); written
    # as SQL because Alembic's SQLite comparison cannot unquote an empty string. The Python default
    # stays, so a new object has its value without a refresh (async code cannot lazy-load).
    first_name: Mapped[str] = mapped_column(String(128), default="", server_default=text("''"))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Fair access (services.fairness, migration 0006): no new holds until then, by an operator's
    # ban (with its reason) or by the account's own rating.
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ban_reason: Mapped[str | None] = mapped_column(Text)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Truck(Base):
    __tablename__ = "trucks"
    __table_args__ = (
        Index("uq_trucks_account_plate_active", "account_id", "plate", unique=True,
              sqlite_where=text("removed_at IS NULL"), postgresql_where=text("removed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    plate: Mapped[str] = mapped_column(String(16))
    trailer_plate: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("checkpoint", "starts_at", name="uq_slots_checkpoint_start"),
        # The last line of defence of rule 2: whatever a process believes, the database refuses
        # to store more holds and bookings than places.
        CheckConstraint("taken >= 0 AND taken <= capacity", name="ck_slots_taken_within_capacity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkpoint: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # as in 0001, see Account


class Reservation(Base):
    """A hold and, once confirmed, the booking it became: one row, one history."""

    __tablename__ = "reservations"
    __table_args__ = (
        # Rule 4, enforced by the database too: one active hold or booking per truck per
        # checkpoint per local day.
        Index("uq_reservations_truck_day_active", "truck_id", "checkpoint", "day", unique=True,
              sqlite_where=text("status IN ('held', 'booked')"),
              postgresql_where=text("status IN ('held', 'booked')")),
        # ... and per plate, whichever account's truck carries it: a driver and a dispatcher who
        # both follow one truck cannot book it twice.
        Index("uq_reservations_plate_day_active", "plate", "checkpoint", "day", unique=True,
              sqlite_where=text("status IN ('held', 'booked')"),
              postgresql_where=text("status IN ('held', 'booked')")),
        Index("ix_reservations_account_status", "account_id", "status"),
        Index("ix_reservations_status_expires", "status", "expires_at"),
        Index("ix_reservations_status_countdown", "status", "countdown_at"),
        Index("ix_reservations_account_created", "account_id", "created_at"),  # a rating's window (0006)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    truck_id: Mapped[int] = mapped_column(ForeignKey("trucks.id"))
    # The truck's canonical plate when the hold was made. None only on rows from before migration
    # 0003 that shared an active plate with an earlier row (see there).
    plate: Mapped[str | None] = mapped_column(String(16))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    checkpoint: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ref: Mapped[str | None] = mapped_column(String(12), unique=True)
    # Where the hold is shown, so the countdown worker can edit that message.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # When the driver is to be told that the hold is about to end (services.booking.warnings).
    countdown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the driver was told, in a new message that rings, that the hold is about to end; and
    # for a booking, reminded before its time.
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Release(Base):
    """A unit of capacity waiting for its random release time (rule 5)."""

    __tablename__ = "releases"
    __table_args__ = (Index("ix_releases_due", "released_at", "release_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"), unique=True)
    release_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboxUpdate(Base):
    """An update fetched from Telegram by polling and not yet handled to the end.

    Kept here before getUpdates is told to forget it, so a process killed mid-burst leaves its
    unfinished updates to the next one (at-least-once), without holding back Telegram's queue for
    the updates behind a slow one.
    """

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[str] = mapped_column(Text)  # the update's JSON, as Telegram sent it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DatabaseTimeouts(BaseModel):
    """How long a request waits for the database before it gives up, so that a driver whose tap
    finds the database frozen (a long lock, a stuck server) hears "try again shortly" within
    seconds instead of waiting in silence."""

    model_config = ConfigDict(frozen=True)

    connect_timeout_seconds: float = Field(5, gt=0, le=300)
    # Also how long a statement may wait for a lock, and a request for its turn to write.
    statement_timeout_seconds: float = Field(5, gt=0, le=3600)


class DatabaseUnavailable(Exception):
    """The database cannot be reached or did not answer in time: a condition to wait out (or, at
    start, to fix in the configuration), not a fault of the code. The message says why."""


# Migrations: another process's migration of a big table may take minutes, and a process starting
# meanwhile waits for it (instead of failing) this long at most.
MIGRATION_WAIT_SECONDS = 600
MIGRATION_LOCK = 0x6E6F626174  # the PostgreSQL advisory lock ("nobat") held by the process migrating

# PostgreSQL's answers that mean "unavailable, try again", by SQLSTATE.
_UNAVAILABLE_STATES = {
    "57014": "a statement ran past the statement timeout",  # query_canceled
    "55P03": "a table it needs is locked by another connection",  # lock_not_available
    "57P01": "the server is shutting down",
    "57P02": "the server is restarting",
    "57P03": "the server is not accepting connections yet",
    "53300": "the server has no free connection",
}
# ... and those that name what is wrong with the address or the login: said as the server says it.
_REFUSED_STATES = {"3D000", "28000", "28P01"}
_UNAVAILABLE_SQLITE = {
    "SQLITE_BUSY": "it is locked by another connection",
    "SQLITE_LOCKED": "it is locked by another connection",
    "SQLITE_CANTOPEN": "the database file cannot be opened",
    "SQLITE_IOERR": "the disk failed",
    "SQLITE_FULL": "the disk is full",
}


def why_unavailable(error: BaseException) -> str | None:
    """Why the database is unavailable, if that is what `error` says; None for any other fault."""
    if isinstance(error, DatabaseUnavailable):
        return str(error)
    if isinstance(error, (TimeoutError, PoolTimeout)):
        return "it did not answer in time"
    if isinstance(error, OSError):
        # asyncio words every failed connect alike ("Connect call failed"); the errno says which.
        return f"cannot connect ({os.strerror(error.errno) if (error.errno or 0) > 0 else error.strerror or error})"
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return "the connection was lost"
        orig = error.orig
    elif getattr(error, "sqlstate", None):  # the driver's own, from a COPY run below SQLAlchemy (services.audit)
        orig = error
    else:
        return None
    state = getattr(orig, "sqlstate", None)
    if state in _UNAVAILABLE_STATES:
        return _UNAVAILABLE_STATES[state]
    if state in _REFUSED_STATES:
        return str(orig)
    if state and state.startswith("08"):  # connection_exception
        return f"the connection failed ({orig})"
    name = getattr(orig, "sqlite_errorname", None) or ""
    return _UNAVAILABLE_SQLITE.get("_".join(name.split("_")[:2]))  # SQLITE_IOERR_READ is an SQLITE_IOERR


def _locked(error: DatabaseUnavailable) -> bool:
    """Whether the database was unavailable only because another connection held a lock."""
    return error.__cause__ is not None and why_unavailable(error.__cause__) in (
        _UNAVAILABLE_SQLITE["SQLITE_BUSY"], _UNAVAILABLE_STATES["55P03"])


@contextmanager
def _unavailable_as_error() -> Iterator[None]:
    """Faults that mean "the database is unavailable" become `DatabaseUnavailable`, which the
    batcher does not retry one request at a time and the error handler answers with "try again
    shortly"; any other fault passes unchanged."""
    try:
        yield
    except Exception as error:
        reason = why_unavailable(error)
        if reason is None or isinstance(error, DatabaseUnavailable):
            raise
        raise DatabaseUnavailable(reason) from error


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
        # SQLite has one writer at a time anyway; queueing our own writers in the process keeps
        # them from spinning on SQLITE_BUSY against each other.
        self._sqlite_writer = asyncio.Lock() if self.is_sqlite else None

    def _engine(self, wait: float | None, **options) -> AsyncEngine:
        """An engine whose statements wait at most `wait` seconds, for locks included, or, with
        None, as long as a migration may take."""
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
        deadline = self._deadline()
        with _unavailable_as_error():
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
        deadline = self._deadline()
        with _unavailable_as_error():
            async with self.sessions() as session:
                await session.connection(execution_options={"nobat_read_only": True, DEADLINE: deadline})
                yield session

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
        value cost SQLAlchemy more than SQLite's search (about 2 ms a statement for 1,500 ids)."""
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
            with _unavailable_as_error():
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
                if not _locked(exc) or time.monotonic() > deadline:
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

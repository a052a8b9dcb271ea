"""The migrations build exactly the schema the models describe, on both databases, and the `alembic`
command line can check that, generate a revision and upgrade on its own."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, select, text
from sqlalchemy.exc import OperationalError

from services.audit.trail import AuditTrail, Entry
from services.migrations import COMPARE_OPTIONS
from services.storage.database import MIGRATIONS, Database
from services.storage.models import Account, Base, Reservation
from services.storage.unavailable import DatabaseUnavailable
from tests.databases import backends, blank_database

REPO = Path(__file__).resolve().parents[2]
TABLES = {"accounts", "trucks", "slots", "reservations", "releases", "alembic_version"}


async def differences(db, metadata: MetaData) -> list:
    """What autogenerate would write into a new revision to turn the database into `metadata`."""

    def compare(connection):
        context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
        return compare_metadata(context, metadata)

    async with db.engine.connect() as connection:
        return await connection.run_sync(compare)


async def test_the_migrations_build_exactly_the_schema_of_the_models(db):
    assert await differences(db, Base.metadata) == []


async def test_a_model_that_drifts_from_the_migrations_is_reported(db):
    drifted = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["accounts"].append_column(Column("nickname", String(32)))
    drifted.tables["trucks"].c.plate.type = String(32)
    drifted.tables["slots"].c.taken.server_default = None

    # Column changes come grouped in lists, table-level ones alone.
    found = {(d[0], d[2], d[3]) for entry in await differences(db, drifted)
             for d in (entry if isinstance(entry, list) else [entry])}

    assert ("add_column", "accounts", drifted.tables["accounts"].c.nickname) in found
    assert ("modify_type", "trucks", "plate") in found
    assert ("modify_default", "slots", "taken") in found


async def test_migrating_an_up_to_date_database_again_changes_nothing(db, caplog):
    async with db.transaction() as session:
        session.add(Account(id=7, first_name="Ali", created_at=datetime.now(UTC)))

    with caplog.at_level(logging.INFO, logger="alembic"):
        await db.migrate()

    assert not [r for r in caplog.records if "Running upgrade" in r.getMessage()]
    async with db.reading() as session:
        assert (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars().all() == [
            ScriptDirectory(str(MIGRATIONS)).get_current_head()]
        assert (await session.execute(select(Account.first_name))).scalars().all() == ["Ali"]
    assert await differences(db, Base.metadata) == []


def alembic(*args: str, database: Path) -> subprocess.CompletedProcess:
    # A subprocess, as a developer runs it: the ini's logging and the asyncio loop stay out of pytest.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    return subprocess.run([sys.executable, "-m", "alembic", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


def test_alembic_upgrade_then_check_from_the_repository_root(tmp_path):
    database = tmp_path / "nobat.db"

    upgrade = alembic("upgrade", "head", database=database)
    assert upgrade.returncode == 0, upgrade.stderr
    check = alembic("check", database=database)
    assert check.returncode == 0, check.stderr + check.stdout

    assert "No new upgrade operations detected" in check.stdout
    with sqlite3.connect(database) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert TABLES <= tables


def test_alembic_upgrade_sql_prints_the_schema_without_a_database(tmp_path):
    offline = alembic("upgrade", "head", "--sql", database=tmp_path / "never.db")

    assert offline.returncode == 0, offline.stderr
    assert "CREATE TABLE reservations" in offline.stdout
    assert not (tmp_path / "never.db").exists()


def test_autogenerate_on_an_up_to_date_database_writes_an_empty_numbered_revision(tmp_path):
    # A copy of the ini and the migrations, so the probe revision is never written into the repo.
    # Without a copied services/__init__.py, the copy's env.py still imports this checkout's models.
    copy = tmp_path / "checkout"
    shutil.copytree(MIGRATIONS, copy / "services" / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "alembic.ini", copy / "alembic.ini")
    database = tmp_path / "nobat.db"
    assert alembic("upgrade", "head", database=database).returncode == 0

    made = alembic("-c", str(copy / "alembic.ini"), "revision", "--autogenerate", "-m", "probe", database=database)

    assert made.returncode == 0, made.stderr
    [revision] = (copy / "services" / "migrations" / "versions").glob("*probe*.py")
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert revision.name == f"{int(head) + 1:04d}_probe.py", "numbered after the newest"
    source = revision.read_text()
    assert f"down_revision = '{head}'" in source
    upgrade = source.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert [line.strip() for line in upgrade.splitlines() if line.strip() and not line.strip().startswith("#")] == [
        "pass"]
    assert not list((REPO / "services" / "migrations" / "versions").glob("*probe*"))


# A driver and a dispatcher who both added 123ABC02 and both booked it for Monday (as the bot let
# them before), a cancelled booking of it that same day, and a hold of another truck.
BEFORE_THE_PLATE_RULE = [
    "INSERT INTO accounts (id, first_name, created_at) VALUES (1, '', '2026-11-20'), (2, '', '2026-11-20')",
    "INSERT INTO trucks (id, account_id, plate, created_at) VALUES (1, 1, '123ABC02', '2026-11-20'),"
    " (2, 2, '123ABC02', '2026-11-20'), (3, 2, '777KZ02', '2026-11-20')",
    "INSERT INTO slots (id, checkpoint, starts_at, capacity, taken) VALUES (1, 'khorgos', '2026-11-23 03:00', 5, 3)",
    "INSERT INTO reservations (id, account_id, truck_id, slot_id, checkpoint, day, status, created_at, expires_at)"
    " VALUES (1, 2, 2, 1, 'khorgos', '2026-11-23', 'cancelled', '2026-11-20', '2026-11-20'),"
    " (2, 1, 1, 1, 'khorgos', '2026-11-23', 'booked', '2026-11-20', '2026-11-20'),"
    " (3, 2, 2, 1, 'khorgos', '2026-11-23', 'booked', '2026-11-20', '2026-11-20'),"
    " (4, 2, 3, 1, 'khorgos', '2026-11-23', 'held', '2026-11-20', '2026-11-20')",
]


def _upgrade_to(revision: str):
    def upgrade(sync_conn) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    return upgrade


@pytest.mark.parametrize("backend", backends())
async def test_reservations_made_before_the_plate_rule_get_their_plates_and_double_bookings_are_kept(
        backend, tmp_path):
    async with blank_database(backend, tmp_path) as url:
        db = Database(url)
        try:
            async with db.migrating() as connection:
                await connection.run_sync(_upgrade_to("0002"))
                for statement in BEFORE_THE_PLATE_RULE:
                    await connection.execute(text(statement))
            await db.migrate()
            async with db.reading() as session:
                rows = (await session.execute(select(Reservation.id, Reservation.status, Reservation.plate)
                                              .order_by(Reservation.id))).all()
            assert [tuple(row) for row in rows] == [
                (1, "cancelled", "123ABC02"), (2, "booked", "123ABC02"),
                (3, "booked", None),  # kept as booked, outside the plate rule, not cancelled by a migration
                (4, "held", "777KZ02"),
            ]
            assert await differences(db, Base.metadata) == []
        finally:
            await db.close()


@pytest.mark.parametrize("backend", backends())
async def test_the_audit_trail_kept_before_its_ids_became_sqlites_row_ids_still_verifies_and_grows(
        backend, tmp_path):
    """0010 copies the SQLite table into one whose id is the row id, and indexes the times by block
    ranges on PostgreSQL; the chain, the head it reaches and the appends after it do not notice."""
    at = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    async with blank_database(backend, tmp_path) as url:
        db = Database(url)
        try:
            async with db.migrating() as connection:
                await connection.run_sync(_upgrade_to("0009"))
            trail = AuditTrail(db)
            async with db.transaction() as session:
                await trail.append(session, [Entry(at, f"account:{n}", "hold.take", f"reservation:{n}", "held", n,
                                                   {"plate": "ایران ۱۲"}) for n in range(1, 4)])
            before = await trail.verify()
            await db.migrate()
            assert await trail.verify() == before and before.count == 3
            async with db.transaction() as session:
                await trail.append(session, [Entry(at, "worker:expiry", "hold.expire", "reservation:1", "expired", 1)])
            after = await trail.verify()
            assert (after.intact, after.count, after.head_id) == (True, 4, 4)
            async with db.reading() as session:
                if db.is_sqlite:
                    indexes = {row[1] for row in await session.execute(text("PRAGMA index_list(audit_records)"))}
                    assert indexes == {"ix_audit_records_at", "ix_audit_records_account_at"}, "no index for the ids"
                else:
                    times = await session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                                                 {"name": "ix_audit_records_at"})
                    assert "USING brin (at)" in times
            assert await differences(db, Base.metadata) == []
        finally:
            await db.close()


async def test_a_start_answered_busy_at_once_by_another_migration_tries_again(tmp_path, monkeypatch):
    """SQLite may refuse a connection "busy" without waiting while another process migrates a fresh
    file; the start waits its turn instead of failing. A database that cannot be reached at all
    still ends the start at once."""
    db = Database(f"sqlite:///{tmp_path / 'nobat.db'}")
    migrating, refusals = db.migrating, []

    def busy() -> DatabaseUnavailable:
        orig = sqlite3.OperationalError("database is locked")
        orig.sqlite_errorname = "SQLITE_BUSY"
        error = DatabaseUnavailable("it is locked by another connection")
        error.__cause__ = OperationalError("PRAGMA journal_mode=WAL", {}, orig)
        return error

    @asynccontextmanager
    async def busy_twice():
        if len(refusals) < 2:
            refusals.append("busy")
            raise busy()
        async with migrating() as connection:
            yield connection

    monkeypatch.setattr(db, "migrating", busy_twice)
    try:
        await db.migrate()
        assert refusals == ["busy", "busy"]
        async with db.reading() as session:
            assert await session.scalar(text("SELECT version_num FROM alembic_version")) == \
                ScriptDirectory(str(MIGRATIONS)).get_current_head()

        @asynccontextmanager
        async def unreachable():
            raise DatabaseUnavailable("cannot connect (Connection refused)") from ConnectionRefusedError(111, "refused")
            yield

        monkeypatch.setattr(db, "migrating", unreachable)
        with pytest.raises(DatabaseUnavailable, match="cannot connect"):
            await asyncio.wait_for(db.migrate(), 5)
    finally:
        await db.close()


BEFORE_ONE_OUTBOX = [
    "INSERT INTO accounts (id, first_name, language, created_at) VALUES (7001, 'A', 'ru', '2026-11-23 01:00:00')",
    "INSERT INTO events (id, event_id, type, plate, checkpoint, occurred_at, details, received_at, answer)"
    " VALUES (1, 'kh-1', 'called', '123ABC02', 'khorgos', '2026-11-23 01:00:00', '{}', '2026-11-23 01:00:00', '{}')",
    "INSERT INTO events (id, event_id, type, plate, checkpoint, occurred_at, details, received_at, answer)"
    " VALUES (2, 'kh-2', 'arrived', '123ABC02', 'khorgos', '2026-11-23 01:05:00', '{}', '2026-11-23 01:05:00', '{}')",
    "INSERT INTO deliveries (event_id, account_id, status, ring, attempts, next_attempt_at, sent_at, message_id)"
    " VALUES (1, 7001, 'sent', true, 0, '2026-11-23 01:00:00', '2026-11-23 01:00:01', 55)",
    "INSERT INTO deliveries (event_id, account_id, status, ring, attempts, next_attempt_at)"
    " VALUES (2, 7001, 'queued', false, 2, '2026-11-23 01:06:00')",
    "INSERT INTO support_tickets (id, account_id, status, thread_id, opened_at)"
    " VALUES (3, 7001, 'open', 900, '2026-11-23 01:00:00')",
    # Stored out of order (a burst): the driver's message 41 was stored after 42.
    "INSERT INTO support_messages (ticket_id, author, kind, driver_message_id, copy, created_at, attempts)"
    " VALUES (3, 'driver', 'text', 42, 'queued', '2026-11-23 01:00:00', 1)",
    "INSERT INTO support_messages (ticket_id, author, kind, driver_message_id, copy, created_at, attempts)"
    " VALUES (3, 'driver', 'text', 41, 'queued', '2026-11-23 01:00:00', 0)",
    "INSERT INTO support_messages (ticket_id, author, agent_id, kind, topic_message_id, copy, created_at)"
    " VALUES (3, 'agent', 99, 'text', 901, 'queued', '2026-11-23 01:00:00')",
    "INSERT INTO support_messages (ticket_id, author, kind, driver_message_id, topic_message_id, copy, created_at)"
    " VALUES (3, 'driver', 'text', 40, 899, 'sent', '2026-11-23 01:00:00')",
]


@pytest.mark.parametrize("backend", backends())
async def test_the_queued_deliveries_and_support_copies_move_into_the_one_outbox_in_their_order(backend, tmp_path):
    from services.kernel.clock import FrozenClock
    from services.outbox.outbox import Outbox
    from services.outbox.tables import OutboxRow

    async with blank_database(backend, tmp_path) as url:
        db = Database(url)
        try:
            async with db.migrating() as connection:
                await connection.run_sync(_upgrade_to("0010"))
                for statement in BEFORE_ONE_OUTBOX:
                    await connection.execute(text(statement))
            await db.migrate()
            async with db.reading() as session:
                rows = (await session.execute(
                    select(OutboxRow.kind, OutboxRow.stream, OutboxRow.seq, OutboxRow.chat_id, OutboxRow.event_id,
                           OutboxRow.status, OutboxRow.attempts, OutboxRow.message_id)
                    .order_by(OutboxRow.id))).all()
            assert [tuple(row) for row in rows] == [
                ("notice", "chat:7001", 0, 7001, 1, "sent", 0, 55),
                ("notice", "chat:7001", 0, 7001, 2, "queued", 2, None),
                ("support.to_agents", "ticket:3:driver", 42, None, None, "queued", 1, None),
                ("support.to_agents", "ticket:3:driver", 41, None, None, "queued", 0, None),
                ("support.to_driver", "ticket:3:agent", 901, 7001, None, "queued", 0, None),
            ]
            later = FrozenClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
            to_agents = await Outbox(db, later).claim(10, to_group=True)
            assert [due.payload for due in to_agents] == [{"message": 2}], "the earlier message of the ticket first"
            to_chats = await Outbox(db, later).claim(10, to_group=False)
            assert {(due.kind, due.event_id) for due in to_chats} == {("notice", 2), ("support.to_driver", None)}
            assert await differences(db, Base.metadata) == []
        finally:
            await db.close()

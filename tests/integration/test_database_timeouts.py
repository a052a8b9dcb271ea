"""A frozen database: a request's waits for it (for the batch in front, for this process's turn to
write, for a pooled connection, for the locks) end together, one statement timeout after the
request began to wait, not one timeout each. The timeout is what a driver is promised before
"try again shortly", so these tests measure it on the wall clock, with room for a loaded machine."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from services.kernel.batching import Batcher
from services.storage.database import Database, DatabaseTimeouts
from services.storage.models import Account
from services.storage.unavailable import DatabaseUnavailable
from tests.databases import backends, fresh_database, frozen

TIMEOUT = 3.0
SLACK = 1.0  # a loaded machine: twenty connections failing at once, their rollbacks, the event loop
AHEAD = 0.5  # seconds the crowd in front has already waited when the measured request comes


@pytest.fixture(params=backends())
async def db(request, tmp_path):
    timeouts = DatabaseTimeouts(connect_timeout_seconds=TIMEOUT, statement_timeout_seconds=TIMEOUT)
    async with fresh_database(request.param, tmp_path, timeouts) as database:
        yield database


async def write(db: Database, requests: list[int] = ()) -> list[None]:
    """A write transaction that needs the frozen tables (SQLite: any write; PostgreSQL: accounts)."""
    async with db.transaction() as session:
        await session.execute(select(Account.id).limit(1))
    return [None] * len(requests)


async def seconds_to_fail(waiting) -> float:
    began = time.monotonic()
    with pytest.raises(DatabaseUnavailable):
        await waiting
    return time.monotonic() - began


def crowd_size(db: Database) -> int:
    """Transactions that take this process's every turn: SQLite's one writer, PostgreSQL's pool."""
    return 1 if db.is_sqlite else db.engine.pool.size() + db.engine.pool._max_overflow


async def test_a_transaction_behind_others_waits_for_the_lock_only_what_its_turn_left(db):
    async with frozen(db):
        ahead = [asyncio.ensure_future(write(db)) for _ in range(crowd_size(db))]
        await asyncio.sleep(AHEAD)
        waited = await seconds_to_fail(write(db))
        assert all(isinstance(r, DatabaseUnavailable) for r in await asyncio.gather(*ahead, return_exceptions=True))
    assert waited <= TIMEOUT + SLACK, f"{waited:.1f} s: its turn or connection, then a whole timeout for the lock"


async def test_a_request_behind_a_batch_fails_one_timeout_after_it_came_not_after_its_batch_began(db):
    batches = Batcher(lambda requests: write(db, requests))
    async with frozen(db):
        ahead = asyncio.ensure_future(batches(1))
        await asyncio.sleep(AHEAD)
        waited = await seconds_to_fail(batches(2))
        with pytest.raises(DatabaseUnavailable):
            await ahead
    assert waited <= TIMEOUT + SLACK, f"{waited:.1f} s: the batch in front, then a whole timeout for its own"

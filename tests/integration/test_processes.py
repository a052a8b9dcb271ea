"""Several bot processes on one database behave as one: they start at once on a fresh database and
each finds the schema built once; each has its own engine, connection pool and batch of takes, and
still no slot is overbooked and no account exceeds its hold limit."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from services.container import Services
from services.kernel.clock import FrozenClock
from services.kernel.rules import BookingRules, Checkpoint
from services.storage.database import MIGRATIONS, Database
from services.storage.models import Reservation, Slot
from tests.databases import backends, blank_database

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
POST = Checkpoint(
    code="khorgos", names={"kk": "Қорғас", "ru": "Хоргос", "fa": "خورگوس"}, timezone="Asia/Almaty",
    slot_minutes=30, trucks_per_slot=20, opens=clock_time(8), closes=clock_time(12), horizon_days=2, lead_minutes=60,
)
RULES = BookingRules(max_active_holds=2)


def _services(db: Database) -> Services:
    return Services.build(db, [POST], RULES, FrozenClock(NOW))


def _tap_next(url: str, slot_id: int, taps: list[tuple[int, int]], start_at: float) -> list[str]:
    """One bot process: its own engine and batcher, tapping Next for (account, truck) pairs at once,
    at the same moment as the other processes."""

    async def main() -> list[str]:
        db = Database(url)
        services = _services(db)
        try:
            async with db.reading() as session:  # connect before the start line, not after it
                await session.execute(select(1))
            await asyncio.sleep(max(0.0, start_at - time.time()))
            results = await asyncio.gather(*(services.booking.take(a, t, slot_id) for a, t in taps))
        finally:
            await db.close()
        return [r.outcome.value for r in results]

    return asyncio.run(main())


async def _in_processes(url: str, slot_id: int, groups: list[list[tuple[int, int]]]) -> list[str]:
    loop = asyncio.get_running_loop()
    start_at = time.time() + 4  # enough for every process to start and import
    with ProcessPoolExecutor(len(groups), mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = await asyncio.gather(*(
            loop.run_in_executor(pool, _tap_next, url, slot_id, group, start_at) for group in groups
        ))
    return [outcome for part in parts for outcome in part]


def _migrate(url: str, start_at: float) -> str:
    """One bot process starting: its own engine, migrating at the same moment as the others."""

    async def main() -> str:
        db = Database(url)
        try:
            await asyncio.sleep(max(0.0, start_at - time.time()))
            await db.migrate()
        finally:
            await db.close()
        return "migrated"

    return asyncio.run(main())


@pytest.mark.parametrize("backend", backends())
async def test_five_processes_starting_at_once_on_a_fresh_database_all_start(backend, tmp_path):
    async with blank_database(backend, tmp_path) as url:
        loop = asyncio.get_running_loop()
        start_at = time.time() + 4  # enough for every process to start and import
        with ProcessPoolExecutor(5, mp_context=multiprocessing.get_context("spawn")) as pool:
            started = await asyncio.gather(*(loop.run_in_executor(pool, _migrate, url, start_at) for _ in range(5)),
                                           return_exceptions=True)
        assert started == ["migrated"] * 5
        db = Database(url)
        try:
            async with db.reading() as session:
                versions = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
                assert await session.scalar(select(func.count()).select_from(Slot)) == 0
        finally:
            await db.close()
    assert versions == [ScriptDirectory(str(MIGRATIONS)).get_current_head()], "at head, once"


async def test_three_processes_rushing_one_slot_hold_exactly_its_places(db):
    services = _services(db)
    taps = []
    for account in range(1, 301):
        await services.accounts.ensure(account, "", "ru")
        taps.append((account, (await services.trucks.add(account, f"{account:03d}KZ01")).truck.id))
    slot = await services.calendar.first_free(POST)

    outcomes = await _in_processes(db.url, slot.slot_id, [taps[0::3], taps[1::3], taps[2::3]])

    assert outcomes.count("held") == 20
    assert outcomes.count("slot_full") == 280
    async with db.reading() as session:
        held = await session.scalar(select(func.count()).select_from(Reservation))
        taken = await session.scalar(select(Slot.taken).where(Slot.id == slot.slot_id))
    assert held == taken == 20


async def test_one_account_in_three_processes_stays_within_its_hold_limit(db):
    services = _services(db)
    await services.accounts.ensure(7, "Dispatcher", "ru")
    trucks = [(await services.trucks.add(7, f"{i:03d}TR07")).truck.id for i in range(50)]
    slot = await services.calendar.first_free(POST)

    taps = [(7, truck) for truck in trucks]
    outcomes = await _in_processes(db.url, slot.slot_id, [taps[0::3], taps[1::3], taps[2::3]])

    assert outcomes.count("held") == RULES.max_active_holds
    assert outcomes.count("hold_limit") == 50 - RULES.max_active_holds


async def test_two_workers_expire_and_release_each_hold_once(db):
    services = _services(db)
    slot = await services.calendar.first_free(POST)
    for account in range(1, 21):
        await services.accounts.ensure(account, "", "ru")
        truck = (await services.trucks.add(account, f"{account:03d}KZ02")).truck
        assert (await services.booking.take(account, truck.id, slot.slot_id)).hold is not None

    # A second worker process: its own engine and connection pool on the same database.
    other_db = Database(db.url)
    try:
        workers = [_services(db), _services(other_db)]
        for worker in workers:
            worker.clock.advance(timedelta(hours=30))  # holds expired, release times all passed
        expired = await asyncio.gather(*(w.releases.expire_due(limit=7) for w in workers for _ in range(3)))
        released = await asyncio.gather(*(w.releases.release_due(limit=7) for w in workers for _ in range(3)))
    finally:
        await other_db.close()

    assert sorted(h for batch in expired for h in batch) == list(range(1, 21)), "each hold expired once"
    assert sum(released) == 20, "each place released once"
    async with db.reading() as session:
        assert await session.scalar(select(Slot.taken).where(Slot.id == slot.slot_id)) == 0

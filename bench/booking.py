"""The midnight rush: thousands of accounts tap Next at once, through services/ (no Telegram).

Each account taps Next on a slot it picked; when refused because the slot filled, it taps Next on
the slot it is shown instead, as a driver would, until it holds a place or nothing is free.
Printed per backend: attempts (accounts), capacity, holds, overbooked (must be 0), lost (accounts
left without a hold while places remained: must be 0), holds_per_s, p50_ms / p95_ms of one tap,
and bare_txn_per_s: one-statement write transactions per second through the same engine, measured
in the same run, the ceiling of one-transaction-per-hold.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from sqlalchemy import func, insert, select, text, update

from services.booking.takes import TakeOutcome
from services.container import Services
from services.kernel.clock import FrozenClock
from services.kernel.rules import BookingRules, Checkpoint
from services.storage.database import Database
from services.storage.models import Account, Reservation, Slot, Truck

START = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 00:00 in Almaty: the midnight rush


WARMUP_ACCOUNTS = 300


def _checkpoint(slots: int, code: str = "bench") -> Checkpoint:
    minutes = 5
    closes = (datetime(2000, 1, 1) + timedelta(minutes=minutes * slots)).time()
    if slots * minutes >= 24 * 60:
        raise SystemExit("at most 287 five-minute slots fit in a day")
    return Checkpoint(code=code, names={"kk": code, "ru": code, "fa": code}, timezone="Asia/Almaty",
                      slot_minutes=minutes, trucks_per_slot=20, opens=clock_time(0, 0), closes=closes,
                      horizon_days=1, lead_minutes=0)


async def _warm_up(services: Services, warmup: Checkpoint, first_account: int) -> None:
    """A small rush at another checkpoint first, so connections, prepared statements and caches
    are warm when the measured rush starts, as they are in a bot that has been running."""
    await services.calendar.ensure(warmup)
    slot = await services.calendar.first_free(warmup)
    accounts = range(first_account, first_account + WARMUP_ACCOUNTS)
    await asyncio.gather(*(services.booking.take(a, a, slot.slot_id) for a in accounts))


async def _prepare(db: Database, services: Services, checkpoint: Checkpoint, accounts: int,
                   rng: random.Random) -> tuple[list[int], list[int], int]:
    await services.calendar.ensure(checkpoint)
    async with db.transaction() as session:
        slot_ids = list(await session.scalars(select(Slot.id).where(Slot.checkpoint == "bench").order_by(Slot.id)))
        capacities = {slot_id: rng.randint(1, 20) for slot_id in slot_ids}
        for slot_id, capacity in capacities.items():
            await session.execute(update(Slot).where(Slot.id == slot_id).values(capacity=capacity))
        now = services.clock.now()
        ids = list(range(1, accounts + 1))
        await session.execute(insert(Account), [{"id": i, "first_name": "", "created_at": now} for i in ids])
        await session.execute(insert(Truck), [{"id": i, "account_id": i, "plate": f"B{i:06d}", "created_at": now}
                                             for i in ids])
    # Accounts and trucks registered long before the rush, as in production: the database has
    # statistics for them (a fresh table without any would mislead the planner).
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE" if db.is_sqlite else "VACUUM ANALYZE"))
    return ids, slot_ids, sum(capacities.values())


async def _bare_txn_per_s(db: Database, transactions: int, concurrency: int) -> float:
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE IF NOT EXISTS bench_counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        for i in range(concurrency):
            await session.execute(text("INSERT INTO bench_counter (id, n) VALUES (:i, 0)"), {"i": i})
    queue = list(range(transactions))

    async def worker(i: int) -> None:
        while queue:
            queue.pop()
            async with db.transaction() as session:
                await session.execute(text("UPDATE bench_counter SET n = n + 1 WHERE id = :i"), {"i": i})

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return transactions / (time.perf_counter() - started)


async def run(backend: str, url: str, *, accounts: int, slots: int, seed: int) -> dict:
    rng = random.Random(seed)
    db = Database(url)
    await db.migrate()
    clock = FrozenClock(START)
    checkpoint, warmup = _checkpoint(slots), _checkpoint(20, "warmup")
    services = Services.build(db, [checkpoint, warmup], BookingRules(), clock, rng=random.Random(seed))
    ids, slot_ids, capacity = await _prepare(db, services, checkpoint, accounts + WARMUP_ACCOUNTS, rng)
    ids, warmup_ids = ids[:accounts], ids[accounts:]
    await _warm_up(services, warmup, warmup_ids[0])
    # As `nobat run` does once started (bot.cli.settle_heap): what the set-up made is set aside from
    # the garbage collector. Without it, whether one full collection of the whole heap falls
    # inside the rush or two do (docs/benchmarks.md) depends on what the set-up allocated, not on the
    # engine, and alternated runs of two commits compared their set-ups as much as their engines.
    gc.collect()
    gc.freeze()
    latencies: list[float] = []
    taps = 0

    async def driver(account_id: int) -> bool:
        nonlocal taps
        slot_id = rng.choice(slot_ids)
        while True:
            started = time.perf_counter()
            result = await services.booking.take(account_id, account_id, slot_id)
            latencies.append(time.perf_counter() - started)
            taps += 1
            if result.outcome is TakeOutcome.HELD:
                return True
            if result.outcome is not TakeOutcome.SLOT_FULL or result.offer is None:
                return False
            slot_id = result.offer.slot_id

    started = time.perf_counter()
    held = await asyncio.gather(*(driver(i) for i in ids))
    elapsed = time.perf_counter() - started

    async with db.reading() as session:
        per_slot = dict((await session.execute(
            select(Reservation.slot_id, func.count()).where(Reservation.checkpoint == "bench")
            .group_by(Reservation.slot_id))).all())
        capacities = dict((await session.execute(select(Slot.id, Slot.capacity).where(Slot.checkpoint == "bench"))).all())
    holds = sum(per_slot.values())
    overbooked = sum(max(0, n - capacities[slot_id]) for slot_id, n in per_slot.items())
    free_left = capacity - holds
    lost = min(sum(1 for ok in held if not ok), max(0, free_left))
    bare = await _bare_txn_per_s(db, transactions=3000, concurrency=50)
    await db.close()
    latencies.sort()
    return {
        "bench": "booking", "backend": backend, "attempts": accounts, "taps": taps, "slots": len(slot_ids),
        "capacity": capacity, "holds": holds, "overbooked": overbooked, "lost": lost,
        "holds_per_s": round(holds / elapsed, 1), "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
        "bare_txn_per_s": round(bare, 1), "speedup_vs_bare": round(holds / elapsed / bare, 2),
        "elapsed_s": round(elapsed, 3),
    }


async def _postgres_database(admin_url: str):
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    name = f"nobat_bench_{uuid.uuid4().hex[:8]}"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    return url.set(database=name).render_as_string(hide_password=False), drop


async def main(*, accounts: int, slots: int, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="nobat-bench-") as tmp:
        result = await run("sqlite", f"sqlite:///{tmp}/bench.db", accounts=accounts, slots=slots, seed=seed)
        print(json.dumps(result), flush=True)
    if os.environ.get("DATABASE_URL"):
        url, drop = await _postgres_database(os.environ["DATABASE_URL"])
        try:
            result = await run("postgresql", url, accounts=accounts, slots=slots, seed=seed)
            print(json.dumps(result), flush=True)
        finally:
            await drop()

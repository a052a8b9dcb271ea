"""The scalpers' day, end to end: `python -m bench fairness` and `tests/e2e/test_scalpers.py`.

The whole bot polls the local Bot API server; simulated people act on it through the wire while a
frozen clock walks through one day in rounds (5 minutes each by default). Honest drivers arrive at
random times, register a truck and book the first free time of tomorrow at Khorgos in the chat
(checkpoint, "Other time", tomorrow, the first time listed, Next, Confirm); one who finds tomorrow
full tries again three hours later, and once more at the end of the day. Scalper accounts register a
few trucks, open many booking windows each (`sessions`) and, every round, tap Next in every window
on one of tomorrow's first free times (a script forging the button, as a modified client can), never
confirming. The flood limit counts in the simulated clock, so a scalper's windows tapping at one
moment are what it sees; Telegram's own limits are per second of wall time, which a simulated day
compresses, so they are lifted here (they are tested elsewhere).

At the end of the day nobody taps; the last holds run out, an operator asks `/abusers 24` and the
audit chain is verified. `Day` holds what was seen; `Day.figures()` is the bench's JSON line:
`honest_booked_share` (bookings by honest drivers over the places available to them: what they
booked plus what was still free at the end, at most one per driver; target 1.0),
`scalper_max_concurrent_holds`, `scalper_bookings`, `blocked_scalpers` (paused by the rating at the
end), `audit_records`, `audit_verify_s` (the whole chain), and besides them what explains them.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import random
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.fairness_people import WAIT, Honest, Window, button, plate, tap
from handlers.booking.callbacks import OfferAction, OfferCb
from local_bot_api import BotAPIServer, Limits, SimUser
from services.audit.trail import AuditRecord
from services.kernel.clock import FrozenClock
from services.storage.models import Account, Reservation, ReservationStatus, Slot

HONEST_IDS = 6_000_000  # user ids of the honest drivers start here
SCALPER_IDS = 7_000_000
OPERATOR_ID = 7_900_000
LANGUAGES = ("kk", "ru", "fa")
RETRY = timedelta(hours=3)  # an honest driver who found tomorrow full looks again this much later
# The Telegram limits of a bot whose day is simulated (see the module's docstring): lifted.
LIFTED_LIMITS = {"messages_per_second": 10_000, "per_chat_per_second": 100, "per_group_per_minute": 10_000}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sizes:
    honest: int = 500
    scalpers: int = 20
    sessions: int = 50  # booking windows each scalper account keeps open and taps in
    trucks: int = 3  # trucks each scalper registers: one hold per truck and day, so more than one
    hours: float = 24
    round_minutes: int = 5
    checkpoint: str = "khorgos"


@dataclass
class Day:
    sizes: Sizes
    capacity: int  # tomorrow's places
    honest_booked: int
    honest_free_left: int  # tomorrow's places still free at the end, when honest drivers looked last
    honest_unbooked: int
    scalper_ids: list[int]
    scalper_holds: int
    scalper_max_concurrent_holds: int
    scalper_bookings: int
    blocked_scalpers: int
    abusers: list[int]  # the accounts /abusers lists, in its order
    holds: int  # every hold taken, by anyone
    holds_audited: int  # of those, how many the audit chain records the taking of
    expired: int
    expiries_audited: int
    audit_records: int
    audit_intact: bool
    audit_verify_s: float
    locked_places: int  # tomorrow's places held, or waiting for their random release, at the end
    taps: int  # the scalpers' taps
    taps_refused: dict[str, int] = field(default_factory=dict)  # the takes refused, by why (the audit's)
    taps_unanswered: int = 0  # dropped by the flood limit
    elapsed_s: float = 0.0

    @property
    def honest_places(self) -> int:
        """The places honest drivers could have had: those they booked and those left free, at
        most one per driver."""
        return min(self.sizes.honest, self.honest_booked + self.honest_free_left)

    @property
    def honest_booked_share(self) -> float:
        return self.honest_booked / self.honest_places if self.honest_places else 1.0

    def figures(self) -> dict:
        return {
            "bench": "fairness", **asdict(self.sizes),
            "honest_booked_share": round(self.honest_booked_share, 3),
            "scalper_max_concurrent_holds": self.scalper_max_concurrent_holds,
            "scalper_bookings": self.scalper_bookings, "blocked_scalpers": self.blocked_scalpers,
            "audit_records": self.audit_records, "audit_verify_s": round(self.audit_verify_s, 3),
            "audit_intact": self.audit_intact, "capacity": self.capacity, "honest_booked": self.honest_booked,
            "honest_unbooked": self.honest_unbooked, "locked_places": self.locked_places,
            "scalper_holds": self.scalper_holds, "scalper_taps": self.taps, "scalper_taps_unanswered": self.taps_unanswered,
            "scalper_refusals": self.taps_refused, "holds": self.holds,
            "holds_audited": self.holds_audited, "elapsed_s": round(self.elapsed_s, 1),
        }


class ScalpersDay:
    def __init__(self, tg: BotAPIServer, app, clock: FrozenClock, sizes: Sizes, *, seed: int = 2026,
                 operator_id: int = OPERATOR_ID) -> None:
        self.tg, self.app, self.clock, self.sizes = tg, app, clock, sizes
        self.rng = random.Random(seed)
        self.operator_id = operator_id
        self.checkpoint = app.services.checkpoints[sizes.checkpoint]
        self.start = clock.now()
        self.end = self.start + timedelta(hours=sizes.hours)
        self.tomorrow = self.checkpoint.local_day(self.start) + timedelta(days=1)
        self.tomorrow_starts, self.tomorrow_ends = self.checkpoint.day_bounds(self.tomorrow)
        self.scalpers = [tg.user(SCALPER_IDS + a, first_name=f"Scalper {a}", language_code="ru")
                         for a in range(sizes.scalpers)]
        self.honest = []
        for n in range(sizes.honest):
            arrives = self.start + timedelta(minutes=self.rng.uniform(0, sizes.hours * 60))
            user = tg.user(HONEST_IDS + n, first_name=f"Driver {n}", language_code=LANGUAGES[n % len(LANGUAGES)])
            self.honest.append(Honest(user, n, arrives))
        self.windows: list[Window] = []
        self.max_concurrent = 0
        self.holding: set[int] = set()
        self.taps = 0

    async def run(self) -> Day:
        began = time.perf_counter()
        try:
            await self._open_windows()
            step = timedelta(minutes=self.sizes.round_minutes)
            while self.clock.now() < self.end:
                await self._round(last=False)
                self.clock.advance(step)
                # The server keeps every message and tap of the day: the collector is told to
                # look at new objects only, or its passes over them all take much of the run.
                gc.freeze()
            await self._round(last=True)
        finally:
            gc.unfreeze()
        free_left, taken = await self._tomorrow()
        paused, holding = await self._paused(), self.holding
        # The day is over: nobody taps, and the last holds run out. A scalper ends the day
        # paused by the rating if it was at the end, or if the holds it still had, running out,
        # paused it.
        self.clock.advance(self.app.services.rules.hold + timedelta(minutes=1))
        await self.app.workers.tick()
        blocked = paused | (holding & await self._paused())
        day = await self._day(free_left, taken, len(blocked))
        day.elapsed_s = time.perf_counter() - began
        return day

    async def _open_windows(self) -> None:
        """Each scalper registers its trucks, then opens its windows (/book, the checkpoint, a
        truck) as fast as the flood limit lets it: a few every ten seconds, before the day starts."""
        code = self.checkpoint.code
        flood = self.app.settings.flood
        per_wave = max(1, (flood.updates - 1) // 3)  # three updates a window

        async def register(a: int, user: SimUser) -> None:
            await user.send("/start")
            await user.send("/book")
            await user.send(plate(a * self.sizes.trucks, "SC"))
            await tap(user, "tr:s:")
            for k in range(1, self.sizes.trucks):
                await user.send("/trucks")
                await tap(user, "tr:a:")
                await user.send(plate(a * self.sizes.trucks + k, "SC"))
                await tap(user, "tr:s:")

        async def wave(user: SimUser, sessions: range) -> None:
            for s in sessions:
                opened = await user.send("/book", timeout=WAIT)
                await user.tap(callback_data=f"cp:{code}", message=opened, timeout=WAIT)
                picked = user.find(opened.message_id)
                trucks = [d for row in picked.buttons for _t, d in row if d and d.startswith("tk:")]
                await user.tap(callback_data=trucks[s % len(trucks)], message=picked, timeout=WAIT)
                offer = user.find(opened.message_id)
                data = button(offer, "of:n:")
                if data is None:
                    raise LookupError(f"scalper {user.user_id}: no offer in window {s}:\n{user.transcript()[-2000:]}")
                self.windows.append(Window(user, opened.message_id, OfferCb.unpack(data).truck_id))

        await asyncio.gather(*(register(a, u) for a, u in enumerate(self.scalpers)))
        self.clock.advance(timedelta(seconds=flood.per_seconds + 1))
        for first in range(0, self.sizes.sessions, per_wave):
            sessions = range(first, min(self.sizes.sessions, first + per_wave))
            await asyncio.gather(*(wave(u, sessions) for u in self.scalpers))
            self.clock.advance(timedelta(seconds=flood.per_seconds + 1))
        self.clock.set(self.start)

    async def _round(self, *, last: bool) -> None:
        now = self.clock.now()
        await self.app.workers.tick()
        targets = await self._targets()
        if targets:
            for n, window in enumerate(self.windows):
                data = OfferCb(action=OfferAction.NEXT, checkpoint=self.checkpoint.code, truck_id=window.truck_id,
                               slot_id=targets[n % len(targets)]).pack()
                await window.user.tap_data(data, window.message_id, wait=False)
                self.taps += 1
        due = [h for h in self.honest if not h.booked and (last and h.tries or h.due <= now)]
        for driver in due:
            driver.due = now + RETRY
        results = await asyncio.gather(*(d.book(self.checkpoint.code, self.tomorrow) for d in due),
                                       return_exceptions=True)
        for driver, result in zip(due, results, strict=True):
            if isinstance(result, Exception):
                log.warning("honest driver %s: %r", driver.user.user_id, result)
        if due:
            booked = await self._booked_tomorrow([d.user.user_id for d in due])
            for driver in due:
                driver.booked = driver.user.user_id in booked
        await self.app.poller.handled(self.tg.last_update_id)
        await self.app.outbox.drain()
        self.holding = await self._count_holds()

    async def _booked_tomorrow(self, account_ids: list[int]) -> set[int]:
        """Those of these drivers whose /mybookings shows a booking for tomorrow."""
        async with self.app.db.reading() as session:
            return set(await session.scalars(
                select(Reservation.account_id).where(Reservation.account_id.in_(account_ids),
                                                     Reservation.status == ReservationStatus.BOOKED.value,
                                                     Reservation.day == self.tomorrow)))

    async def _targets(self) -> list[int]:
        """What the scalpers' script taps Next on: tomorrow's first free times (then the next
        day's), each window on one of them, so that one time filling up stops none of them."""
        now = self.clock.now()
        async with self.app.db.reading() as session:
            return list(await session.scalars(
                select(Slot.id).where(Slot.checkpoint == self.checkpoint.code, Slot.taken < Slot.capacity,
                                      Slot.starts_at >= max(self.tomorrow_starts, now + self.checkpoint.lead))
                .order_by(Slot.starts_at).limit(self.sizes.sessions)))

    async def _paused(self) -> set[int]:
        """The scalpers the rating pauses now."""
        async with self.app.db.reading() as session:
            return set(await session.scalars(select(Account.id).where(
                Account.id.in_([u.user_id for u in self.scalpers]), Account.blocked_until > self.clock.now())))

    async def _count_holds(self) -> set[int]:
        """The scalpers holding places now; the most any of them holds is kept."""
        now = self.clock.now()
        ids = [u.user_id for u in self.scalpers]
        async with self.app.db.reading() as session:
            held = (await session.execute(
                select(Reservation.account_id, func.count())
                .where(Reservation.account_id.in_(ids), Reservation.status == ReservationStatus.HELD.value,
                       Reservation.expires_at > now)
                .group_by(Reservation.account_id))).all()
        self.max_concurrent = max([self.max_concurrent, *(n for _, n in held)])
        return {account_id for account_id, _ in held}

    async def _tomorrow(self) -> tuple[int, int]:
        """Tomorrow's places still bookable now, and those taken (held, booked or waiting for
        their release)."""
        async with self.app.db.reading() as session:
            free, taken = (await session.execute(
                select(func.coalesce(func.sum(Slot.capacity - Slot.taken), 0), func.coalesce(func.sum(Slot.taken), 0))
                .where(Slot.checkpoint == self.checkpoint.code, Slot.starts_at >= self.tomorrow_starts,
                       Slot.starts_at < self.tomorrow_ends,
                       Slot.starts_at >= self.clock.now() + self.checkpoint.lead))).one()
        return int(free), int(taken)

    async def _day(self, free_left: int, places_taken: int, blocked: int) -> Day:
        scalper_ids = [u.user_id for u in self.scalpers]
        honest_ids = [h.user.user_id for h in self.honest]
        code = self.checkpoint.code
        async with self.app.db.reading() as session:
            capacity = int(await session.scalar(
                select(func.coalesce(func.sum(Slot.capacity), 0))
                .where(Slot.checkpoint == code, Slot.starts_at >= self.tomorrow_starts,
                       Slot.starts_at < self.tomorrow_ends)))
            rows = (await session.execute(select(Reservation.id, Reservation.account_id, Reservation.status,
                                                 Reservation.day))).all()
            taken = set(await session.scalars(select(AuditRecord.subject).where(AuditRecord.action == "hold.take")))
            expired = set(await session.scalars(select(AuditRecord.subject).where(AuditRecord.action == "hold.expire")))
            records = int(await session.scalar(select(func.count()).select_from(AuditRecord)))
            refused = dict((await session.execute(
                select(AuditRecord.result, func.count())
                .where(AuditRecord.action == "hold.refused", AuditRecord.account_id.in_(scalper_ids))
                .group_by(AuditRecord.result))).all())
        scalpers, honest = set(scalper_ids), set(honest_ids)
        booked = ReservationStatus.BOOKED.value
        honest_booked = sum(1 for _, a, s, d in rows if a in honest and s == booked and d == self.tomorrow)
        tomorrow_bookings = sum(1 for _, _a, s, d in rows if s == booked and d == self.tomorrow)
        expired_ids = {r for r, _, s, _d in rows if s == ReservationStatus.EXPIRED.value}
        verifying = time.perf_counter()
        verdict = await self.app.services.audit.verify()
        verify_s = time.perf_counter() - verifying
        unanswered = sum(1 for q in self.tg.callback_queries if q.user.user_id in scalpers and not q.answered)
        return Day(
            sizes=self.sizes, capacity=capacity, honest_booked=honest_booked, honest_free_left=free_left,
            honest_unbooked=sum(1 for h in self.honest if not h.booked), scalper_ids=scalper_ids,
            scalper_holds=sum(1 for _, a, _s, _d in rows if a in scalpers),
            scalper_max_concurrent_holds=self.max_concurrent,
            scalper_bookings=sum(1 for _, a, s, _d in rows if a in scalpers and s == booked),
            blocked_scalpers=blocked, abusers=await self._abusers(), holds=len(rows),
            holds_audited=sum(1 for r, *_ in rows if f"reservation:{r}" in taken),
            expired=len(expired_ids), expiries_audited=sum(1 for r in expired_ids if f"reservation:{r}" in expired),
            audit_records=records, audit_intact=verdict.intact and verdict.count == records,
            audit_verify_s=verify_s, locked_places=places_taken - tomorrow_bookings, taps=self.taps,
            taps_refused=refused, taps_unanswered=unanswered)

    async def _abusers(self) -> list[int]:
        """What an operator reads in `/abusers 24`: the accounts listed, in order."""
        boss = self.tg.user(self.operator_id, first_name="Operator", language_code="ru")
        await boss.send("/start")
        report = await boss.send("/abusers 24", timeout=WAIT)
        ids = []
        for line in (report.text if report else "").splitlines()[1:]:
            opened, closed = line.find("("), line.find(")")
            if 0 <= opened < closed and line[opened + 1:closed].isdigit():
                ids.append(int(line[opened + 1:closed]))
        return ids


async def simulate(tg: BotAPIServer, app, clock: FrozenClock, sizes: Sizes, *, seed: int = 2026,
                   operator_id: int = OPERATOR_ID) -> Day:
    return await ScalpersDay(tg, app, clock, sizes, seed=seed, operator_id=operator_id).run()


def settings_for(tg: BotAPIServer, *, operator_id: int = OPERATOR_ID, **overrides):
    """The bot's settings for a simulated day: config.yaml's, Telegram's limits lifted, an operator."""
    from bot.config import load_settings

    return load_settings(bot_token=TOKEN, telegram_api_url=tg.base_url, operators=[operator_id],
                         telegram_limits=LIFTED_LIMITS, **overrides)


TOKEN = "123456:FAIRNESS-TOKEN"
# A Monday, 06:00 in Almaty: the day simulated, and tomorrow's places booked during it.
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


async def run(backend: str, url: str, sizes: Sizes, seed: int) -> dict:
    from bot.app import App
    from services.storage.database import Database

    tg = BotAPIServer(TOKEN, limits=Limits(enabled=False))
    await tg.start()
    clock = FrozenClock(START)
    redis = os.environ.get("REDIS_URL") if backend == "postgresql" else None
    settings = settings_for(tg, database_url=url, redis_url=redis or "",
                            redis_prefix=f"nobat-bench-fairness-{os.getpid()}")
    db = Database(url)
    app = None
    try:
        await db.migrate()
        app = await App.create(settings, clock=clock, rng=random.Random(seed), db=db, manual_workers=True,
                               flood_clock=lambda: clock.now().timestamp())
        await app.start(polling_timeout=1)
        day = await simulate(tg, app, clock, sizes, seed=seed)
    finally:
        if app is not None:
            await app.stop()
        else:
            await db.close()
        await tg.stop()
    return {**day.figures(), "backend": backend, "redis": bool(redis)}


async def main(*, honest: int, scalpers: int, sessions: int, hours: float, round_minutes: int, seed: int) -> None:
    from bench.booking import _postgres_database

    logging.basicConfig(level=logging.WARNING)
    sizes = Sizes(honest=honest, scalpers=scalpers, sessions=sessions, hours=hours, round_minutes=round_minutes)
    with tempfile.TemporaryDirectory(prefix="nobat-bench-fairness-") as tmp:
        print(json.dumps(await run("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", sizes, seed)), flush=True)
    if os.environ.get("DATABASE_URL"):
        url, drop = await _postgres_database(os.environ["DATABASE_URL"])
        try:
            print(json.dumps(await run("postgresql", url, sizes, seed)), flush=True)
        finally:
            await drop()

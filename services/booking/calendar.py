"""The slot calendar: which slots exist, and which have free places to show.

Showing reserves nothing (rule 1): every function here only reads, except `ensure`, which creates
the slots of the booking horizon idempotently.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.clock import Clock
from services.kernel.rules import Checkpoint
from services.storage.database import Database
from services.storage.models import Slot

# How long a place shown to a refused driver is passed over for the next refused ones: a driver
# in a rush taps Next on it within seconds, or not at all.
SHOWN_SECONDS = 10.0


@dataclass(frozen=True)
class Offer:
    """A slot shown to a driver: nothing is held until Next."""

    slot_id: int
    checkpoint: str
    starts_at: datetime
    free: int


@dataclass(frozen=True)
class DayFree:
    day: date
    free: int


class ShownPlaces:
    """The places lately shown to drivers refused in a rush, counted by slot. Showing reserves
    nothing (rule 1): anyone may take them. But a refused driver taps Next on what is shown within
    seconds, so the drivers refused by the next batch are sent past these places while later ones
    are free, instead of all batches sending their drivers to the same few places."""

    def __init__(self, seconds: float = SHOWN_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._shown: deque[tuple[float, int]] = deque()
        self._counts: Counter[int] = Counter()

    def add(self, slot_ids: Iterable[int]) -> None:
        now = self.clock()
        for slot_id in slot_ids:
            self._shown.append((now, slot_id))
            self._counts[slot_id] += 1

    def counts(self) -> Mapping[int, int]:
        horizon = self.clock() - self.seconds
        while self._shown and self._shown[0][0] < horizon:
            _, slot_id = self._shown.popleft()
            self._counts[slot_id] -= 1
            if not self._counts[slot_id]:
                del self._counts[slot_id]
        return dict(self._counts)


class Calendar:
    def __init__(self, db: Database, checkpoints: dict[str, Checkpoint], clock: Clock) -> None:
        self.db = db
        self.checkpoints = checkpoints
        self.clock = clock
        self._ensured: dict[str, date] = {}

    def checkpoint(self, code: str) -> Checkpoint | None:
        return self.checkpoints.get(code)

    def horizon_days(self, checkpoint: Checkpoint) -> list[date]:
        today = checkpoint.local_day(self.clock.now())
        return [today + timedelta(days=i) for i in range(checkpoint.horizon_days)]

    async def ensure(self, checkpoint: Checkpoint) -> None:
        """Create the slots of the horizon; cheap when already done today by this process."""
        today = checkpoint.local_day(self.clock.now())
        if self._ensured.get(checkpoint.code) == today:
            return
        rows = [
            {"checkpoint": checkpoint.code, "starts_at": start, "capacity": checkpoint.trucks_per_slot, "taken": 0}
            for day in self.horizon_days(checkpoint)
            for start in checkpoint.slot_starts(day)
        ]
        if rows:
            async with self.db.transaction() as session:
                stmt = self.db.insert(Slot).on_conflict_do_nothing(index_elements=["checkpoint", "starts_at"])
                await session.execute(stmt, rows)
        self._ensured[checkpoint.code] = today

    def _bookable(self, checkpoint: Checkpoint):
        earliest = self.clock.now() + checkpoint.lead
        last_day = self.horizon_days(checkpoint)[-1]
        latest = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), checkpoint.tz)
        return (
            Slot.checkpoint == checkpoint.code,
            Slot.starts_at >= earliest,
            Slot.starts_at < latest,
            Slot.taken < Slot.capacity,
        )

    async def first_free(self, checkpoint: Checkpoint, *, after: datetime | None = None,
                         skip_days: Collection[date] = (), joined: AsyncSession | None = None) -> Offer | None:
        """The earliest slot at or after now + lead time with a free place (rule 1), on none of the
        local days in `skip_days`; read in the caller's session if it names one (`joined`)."""
        await self.ensure(checkpoint)
        conditions = list(self._bookable(checkpoint))
        if after is not None:
            conditions.append(Slot.starts_at > after)
        for day in skip_days:
            start, end = checkpoint.day_bounds(day)
            conditions.append(or_(Slot.starts_at < start, Slot.starts_at >= end))
        async with self.db.reading(joined) as session:
            row = await session.scalar(select(Slot).where(*conditions).order_by(Slot.starts_at).limit(1))
        return None if row is None else _offer(row)

    async def first_free_places(self, checkpoint: Checkpoint, count: int,
                                shown: Mapping[int, int] | None = None) -> list[Offer]:
        """The first free times for `count` drivers in a row: each place offered to one driver
        before the next slot is offered. Drivers refused together are not all sent to the same
        last places, where all but a few would be refused again. The places `shown` lately to
        other refused drivers (by slot) are passed over while later ones are free."""
        shown = shown or {}
        await self.ensure(checkpoint)
        async with self.db.reading() as session:
            rows = await session.scalars(
                select(Slot).where(*self._bookable(checkpoint)).order_by(Slot.starts_at)
                .limit(max(1, count + len(shown)))
            )
            slots = [_offer(row) for row in rows]
        unshown = {slot.slot_id: max(0, slot.free - shown.get(slot.slot_id, 0)) for slot in slots}
        places: list[Offer] = []
        for slot in slots:
            places.extend([slot] * min(unshown[slot.slot_id], count - len(places)))
        for slot in slots:  # more drivers than places not shown yet: the shown ones, earliest first
            places.extend([slot] * min(slot.free - unshown[slot.slot_id], count - len(places)))
        if slots and len(places) < count:  # more drivers than places: the rest see the first free one
            places.extend([slots[0]] * (count - len(places)))
        return places

    async def free_days(self, checkpoint: Checkpoint) -> list[DayFree]:
        """Each day of the horizon with its number of free places (days with none included)."""
        await self.ensure(checkpoint)
        async with self.db.reading() as session:
            rows = (await session.execute(
                select(Slot.starts_at, Slot.capacity - Slot.taken).where(*self._bookable(checkpoint))
            )).all()
        totals = {day: 0 for day in self.horizon_days(checkpoint)}
        for starts_at, free in rows:
            day = checkpoint.local_day(starts_at)
            if day in totals:
                totals[day] += free
        return [DayFree(day, free) for day, free in totals.items()]

    async def day_slots(self, checkpoint: Checkpoint, day: date) -> list[Offer]:
        """The slots of one local day that still have places, earliest first."""
        await self.ensure(checkpoint)
        start, end = checkpoint.day_bounds(day)
        async with self.db.reading() as session:
            rows = await session.scalars(
                select(Slot)
                .where(*self._bookable(checkpoint), Slot.starts_at >= start, Slot.starts_at < end)
                .order_by(Slot.starts_at)
            )
            return [_offer(row) for row in rows]

    async def offer_for(self, checkpoint: Checkpoint, slot_id: int,
                        joined: AsyncSession | None = None) -> Offer | None:
        """A slot the driver picked, if it is still bookable."""
        async with self.db.reading(joined) as session:
            row = await session.scalar(select(Slot).where(Slot.id == slot_id, *self._bookable(checkpoint)))
        return None if row is None else _offer(row)

    async def capacity_of(self, checkpoint: Checkpoint) -> tuple[int, int]:
        """(capacity, taken) over the bookable horizon: for tests, benchmarks and operators."""
        async with self.db.reading() as session:
            capacity, taken = (await session.execute(
                select(func.coalesce(func.sum(Slot.capacity), 0), func.coalesce(func.sum(Slot.taken), 0))
                .where(Slot.checkpoint == checkpoint.code)
            )).one()
        return int(capacity), int(taken)


def _offer(row: Slot) -> Offer:
    return Offer(slot_id=row.id, checkpoint=row.checkpoint, starts_at=row.starts_at, free=row.capacity - row.taken)

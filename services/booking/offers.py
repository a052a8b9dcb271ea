"""Showing a driver a time: the first free one, other days and their times (rule 1: showing
reserves nothing).

Never a time that Next would refuse: the days on which the truck already has a hold or booking at
the checkpoint (rule 4), or another account's truck with the same plate has one, are skipped, here
as in the take itself. The list of days shows the truck's own such day, not bookable, with its time
(whose and when another account's is, is that account's to know: that day is left out).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select

from services.accounts.trucks import TruckService, TruckView
from services.booking.calendar import Calendar, DayFree, Offer
from services.booking.outcomes import DayShown, DaySlots, HoldView, OfferOutcome, OfferResult
from services.booking.reservations import still_active, view, with_truck_and_slot
from services.kernel.batching import Batcher
from services.kernel.clock import Clock
from services.kernel.rules import Checkpoint
from services.storage.database import Database
from services.storage.models import Reservation, Slot, Truck


@dataclass(frozen=True)
class _Shown:
    account_id: int
    truck: TruckView
    checkpoint: Checkpoint
    slot_id: int | None


class OfferService:
    def __init__(self, db: Database, calendar: Calendar, trucks: TruckService, clock: Clock) -> None:
        self.db = db
        self.calendar = calendar
        self.trucks = trucks
        self.clock = clock
        self._offers = Batcher(self._offer_batch)

    async def offer(self, account_id: int, truck_id: int, checkpoint_code: str,
                    slot_id: int | None = None) -> OfferResult:
        """What to show this truck: the picked slot if still free, else the first free one.

        It is the screen after every checkpoint tap, so the offers asked for at the same moment
        are made together (`services.kernel.batching`): one session, one read of the trucks' busy days,
        and one search for the first free time per checkpoint and set of days to skip.
        """
        checkpoint = self.calendar.checkpoint(checkpoint_code)
        truck = await self.trucks.get(account_id, truck_id)
        if checkpoint is None or truck is None:
            return OfferResult(OfferOutcome.NOT_YOURS)
        await self.calendar.ensure(checkpoint)
        return await self._offers(_Shown(account_id, truck, checkpoint, slot_id))

    async def _offer_batch(self, requests: list[_Shown]) -> list[OfferResult]:
        async with self.db.reading() as session:
            rows = await self._active(session, [r.truck for r in requests], {r.checkpoint.code for r in requests})
            by_truck: dict[int, list] = defaultdict(list)
            by_plate: dict[str, list] = defaultdict(list)
            for row in rows:
                by_truck[row[0].truck_id].append(row)
                by_plate[row[0].plate].append(row)
            firsts: dict[tuple[str, frozenset[date]], Offer | None] = {}
            results = []
            for request in requests:
                truck = request.truck
                theirs = {id(row): row for row in (*by_truck[truck.id], *by_plate[truck.plate])}.values()
                busy = _busy(list(theirs), request.account_id, truck, request.checkpoint.code)
                results.append(await self._offer_one(request, busy, session, firsts))
        return results

    async def _offer_one(self, request: _Shown, busy: dict[date, HoldView | None], session,
                         firsts: dict[tuple[str, frozenset[date]], Offer | None]) -> OfferResult:
        checkpoint, truck = request.checkpoint, request.truck
        if request.slot_id is not None:
            picked = await self.calendar.offer_for(checkpoint, request.slot_id, session)
            if picked is not None:
                day = checkpoint.local_day(picked.starts_at)
                if day in busy and busy[day] is None:
                    return OfferResult(OfferOutcome.PLATE_BUSY, truck=truck)
                if day in busy:
                    return OfferResult(OfferOutcome.TRUCK_BUSY, truck=truck, busy=busy[day])
                return OfferResult(OfferOutcome.OFFER, picked, truck, picked=True)
        key = (checkpoint.code, frozenset(busy))
        if key not in firsts:
            firsts[key] = await self.calendar.first_free(checkpoint, skip_days=busy, joined=session)
        first = firsts[key]
        if first is None:
            return OfferResult(OfferOutcome.NO_SLOTS, truck=truck)
        outcome = OfferOutcome.SLOT_GONE if request.slot_id is not None else OfferOutcome.OFFER
        return OfferResult(outcome, first, truck)

    async def free_days(self, account_id: int, truck_id: int, checkpoint_code: str, *,
                        moving: int | None = None) -> list[DayFree]:
        """The days of the horizon with their free places, for "Other time", without the days on
        which the truck has a time at this checkpoint already (but for the booking it is `moving`)."""
        checkpoint = self.calendar.checkpoint(checkpoint_code)
        truck = await self.trucks.get(account_id, truck_id)
        if checkpoint is None or truck is None:
            return []
        busy = await self._busy_days(account_id, truck, checkpoint_code, moving)
        return [d for d in await self.calendar.free_days(checkpoint) if d.day not in busy]

    async def days(self, account_id: int, truck_id: int, checkpoint_code: str) -> list[DayShown]:
        """The days of the horizon for "Other time" of the booking: each with its free places, and
        the truck's own day at this checkpoint with its hold or booking (`busy`: shown, not
        bookable); the days of another account's truck with its plate are left out."""
        checkpoint = self.calendar.checkpoint(checkpoint_code)
        truck = await self.trucks.get(account_id, truck_id)
        if checkpoint is None or truck is None:
            return []
        busy = await self._busy_days(account_id, truck, checkpoint_code)
        return [DayShown(d.day, d.free, busy.get(d.day)) for d in await self.calendar.free_days(checkpoint)
                if d.day not in busy or busy[d.day] is not None]

    async def day_slots(self, account_id: int, truck_id: int, checkpoint_code: str, day: date, *,
                        moving: int | None = None) -> DaySlots:
        """The free times of one day for this truck, or its hold or booking that day (but for the
        booking it is `moving`, whose own time is not among them)."""
        checkpoint = self.calendar.checkpoint(checkpoint_code)
        truck = await self.trucks.get(account_id, truck_id)
        if checkpoint is None or truck is None:
            return DaySlots([])
        busy = await self._busy_days(account_id, truck, checkpoint_code, moving)
        if day in busy:
            return DaySlots([], busy[day], plate_busy=busy[day] is None)
        return DaySlots(await self.calendar.day_slots(checkpoint, day))

    async def _busy_days(self, account_id: int, truck: TruckView, checkpoint_code: str,
                         moving: int | None = None) -> dict[date, HoldView | None]:
        async with self.db.reading() as session:
            rows = [row for row in await self._active(session, [truck], {checkpoint_code}) if row[0].id != moving]
            return _busy(rows, account_id, truck, checkpoint_code)

    async def _active(self, session, trucks: list[TruckView], checkpoints: set[str]) -> list:
        """The active holds and bookings at these checkpoints of these trucks, or of their plates."""
        return (await session.execute(
            with_truck_and_slot(select(Reservation, Truck.plate, Slot.starts_at))
            .where(or_(self.db.among(Reservation.truck_id, sorted({t.id for t in trucks})),
                       self.db.among(Reservation.plate, sorted({t.plate for t in trucks}))),
                   self.db.among(Reservation.checkpoint, sorted(checkpoints)), still_active(self.clock.now()))
        )).all()


def _busy(rows: list, account_id: int, truck: TruckView, checkpoint_code: str) -> dict[date, HoldView | None]:
    """The days at the checkpoint on which this truck has an active hold or booking (its view),
    or another account's truck with its plate has one (None: whose and when is theirs to know)."""
    mine = [(row, plate, starts_at) for row, plate, starts_at in rows
            if row.checkpoint == checkpoint_code and (row.truck_id == truck.id or row.plate == truck.plate)]
    busy: dict[date, HoldView | None] = {row.day: None for row, _plate, _starts_at in mine}
    for row, plate, starts_at in mine:
        if row.truck_id == truck.id and row.account_id == account_id:
            busy[row.day] = view(row, plate, starts_at)
    return busy

"""Showing a driver a time: the first free one, other days and their times (rule 1: showing
reserves nothing).

Never a time that Next would refuse: the days on which the truck already has a hold or booking at
the checkpoint (rule 4), or another account's truck with the same plate has one, are skipped, here
as in the take itself.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from services.calendar import Calendar, DayFree
from services.clock import Clock
from services.outcomes import DaySlots, HoldView, OfferOutcome, OfferResult
from services.reservations import still_active, view, with_truck_and_slot
from services.storage import Database, Reservation, Slot, Truck
from services.trucks import TruckService, TruckView


class OfferService:
    def __init__(self, db: Database, calendar: Calendar, trucks: TruckService, clock: Clock) -> None:
        self.db = db
        self.calendar = calendar
        self.trucks = trucks
        self.clock = clock

    async def offer(self, account_id: int, truck_id: int, checkpoint_code: str,
                    slot_id: int | None = None) -> OfferResult:
        """What to show this truck: the picked slot if still free, else the first free one."""
        checkpoint = self.calendar.checkpoint(checkpoint_code)
        truck = await self.trucks.get(account_id, truck_id)
        if checkpoint is None or truck is None:
            return OfferResult(OfferOutcome.NOT_YOURS)
        busy = await self._busy_days(account_id, truck, checkpoint_code)
        if slot_id is not None:
            picked = await self.calendar.offer_for(checkpoint, slot_id)
            if picked is not None:
                day = checkpoint.local_day(picked.starts_at)
                if day in busy and busy[day] is None:
                    return OfferResult(OfferOutcome.PLATE_BUSY, truck=truck)
                if day in busy:
                    return OfferResult(OfferOutcome.TRUCK_BUSY, truck=truck, busy=busy[day])
                return OfferResult(OfferOutcome.OFFER, picked, truck, picked=True)
        first = await self.calendar.first_free(checkpoint, skip_days=busy)
        if first is None:
            return OfferResult(OfferOutcome.NO_SLOTS, truck=truck)
        return OfferResult(OfferOutcome.SLOT_GONE if slot_id is not None else OfferOutcome.OFFER, first, truck)

    async def free_days(self, account_id: int, truck_id: int, checkpoint_code: str) -> list[DayFree]:
        """The days of the horizon with their free places, for "Other time", without the days on
        which the truck has a time at this checkpoint already."""
        checkpoint = self.calendar.checkpoint(checkpoint_code)
        truck = await self.trucks.get(account_id, truck_id)
        if checkpoint is None or truck is None:
            return []
        busy = await self._busy_days(account_id, truck, checkpoint_code)
        return [d for d in await self.calendar.free_days(checkpoint) if d.day not in busy]

    async def day_slots(self, account_id: int, truck_id: int, checkpoint_code: str, day: date) -> DaySlots:
        """The free times of one day for this truck, or its hold or booking that day."""
        checkpoint = self.calendar.checkpoint(checkpoint_code)
        truck = await self.trucks.get(account_id, truck_id)
        if checkpoint is None or truck is None:
            return DaySlots([])
        busy = await self._busy_days(account_id, truck, checkpoint_code)
        if day in busy:
            return DaySlots([], busy[day], plate_busy=busy[day] is None)
        return DaySlots(await self.calendar.day_slots(checkpoint, day))

    async def _busy_days(self, account_id: int, truck: TruckView, checkpoint_code: str) -> dict[date, HoldView | None]:
        """The days at the checkpoint on which this truck has an active hold or booking (its view),
        or another account's truck with its plate has one (None: whose and when is theirs to know)."""
        async with self.db.reading() as session:
            rows = (await session.execute(
                with_truck_and_slot(select(Reservation, Truck.plate, Slot.starts_at))
                .where(or_(Reservation.truck_id == truck.id, Reservation.plate == truck.plate),
                       Reservation.checkpoint == checkpoint_code, still_active(self.clock.now()))
            )).all()
        busy: dict[date, HoldView | None] = {row.day: None for row, _plate, _starts_at in rows}
        for row, plate, starts_at in rows:
            if row.truck_id == truck.id and row.account_id == account_id:
                busy[row.day] = view(row, plate, starts_at)
        return busy

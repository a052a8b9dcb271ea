"""The border operator moves a booking to another time, or its plate's booking is looked up for a
border event that names only the plate.

A move is one step of the caller's transaction (the event that tells of it and its notices commit
with it, `services.notices`): the new time must be a start of the checkpoint's schedule and still
to come; a place of its slot is taken as Next takes one, never past the slot's capacity (the border
sets the capacity; it cannot overfill a time through a move); the old place comes back through the
release window like a cancelled booking's (rule 5); the reminder is armed again for the new time;
and the audit trail records the move, or why it was refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from services.audit.trail import BORDER, Entry, utc_iso
from services.booking.release import ReleaseScheduler
from services.kernel.rules import Checkpoint
from services.storage.database import Database
from services.storage.models import ACTIVE_STATUSES, Reservation, ReservationStatus, Slot


class MoveOutcome(StrEnum):
    MOVED = "moved"
    UNCHANGED = "unchanged"  # the booking is at that time already: nothing to do, nobody to tell
    BOOKING_ENDED = "booking_ended"  # cancelled, annulled or expired: there is nothing to move
    OUTSIDE_SCHEDULE = "outside_schedule"  # not a slot start of the checkpoint, or past
    SLOT_FULL = "slot_full"  # every place of the new time is taken
    TRUCK_BUSY = "truck_busy"  # the truck (or its plate) has another hold or booking that day


@dataclass(frozen=True)
class MoveResult:
    outcome: MoveOutcome
    previous: datetime | None = None  # the booking's time before (UTC)
    starts_at: datetime | None = None  # its time now: the new one once moved


class _Refused(Exception):
    """Rolls the move's savepoint back: a write found the booking changed under it."""


class Moves:
    def __init__(self, db: Database, checkpoints: dict[str, Checkpoint], releases: ReleaseScheduler) -> None:
        self.db = db
        self.checkpoints = checkpoints
        self.releases = releases

    async def by_operator(self, session, reservation_id: int, new_time: datetime, now: datetime, *,
                          entries: list[Entry], by: str = BORDER, details: dict[str, Any] | None = None) -> MoveResult:
        """Move the booking to `new_time` in the caller's transaction; the audit entry joins `entries`."""
        row = (await session.execute(
            select(Reservation.account_id, Reservation.status, Reservation.checkpoint, Reservation.truck_id,
                   Reservation.plate, Reservation.slot_id, Slot.starts_at)
            .join(Slot, Slot.id == Reservation.slot_id).where(Reservation.id == reservation_id)
            .execution_options(populate_existing=True))).one()
        result = await self._move(session, reservation_id, row, new_time.astimezone(UTC), now)
        details = {**(details or {}), "from": utc_iso(row.starts_at), "to": utc_iso(new_time)}
        entries.append(Entry(now, by, "booking.move_by_operator", f"reservation:{reservation_id}",
                             result[0].outcome.value, row.account_id, {**details, **result[1]}))
        return result[0]

    async def _move(self, session, reservation_id: int, row, new_time: datetime,
                    now: datetime) -> tuple[MoveResult, dict[str, Any]]:
        """The result, and what the audit entry says besides it."""
        previous = row.starts_at
        if row.status != ReservationStatus.BOOKED.value:
            return MoveResult(MoveOutcome.BOOKING_ENDED, previous), {"was": row.status}
        checkpoint = self.checkpoints.get(row.checkpoint)
        if checkpoint is None or not in_schedule(checkpoint, new_time, now):
            return MoveResult(MoveOutcome.OUTSIDE_SCHEDULE, previous), {}
        if new_time == previous:
            return MoveResult(MoveOutcome.UNCHANGED, previous, previous), {}
        day = checkpoint.local_day(new_time)
        if await self._busy(session, reservation_id, row, day):
            return MoveResult(MoveOutcome.TRUCK_BUSY, previous), {}
        try:
            async with session.begin_nested():  # a refusal found by a write undoes the move's writes alone
                slot_id = await self._take_place(session, checkpoint, new_time)
                if slot_id is None:
                    return MoveResult(MoveOutcome.SLOT_FULL, previous), {}
                # Drawn for the old place while the booking is still in it (its start bounds the time).
                release_at = await self.releases.schedule(session, now, [reservation_id])
                moved = await session.execute(
                    update(Reservation)
                    .where(Reservation.id == reservation_id, Reservation.slot_id == row.slot_id,
                           Reservation.status == ReservationStatus.BOOKED.value)
                    # The reminder is armed again: the worker reminds of the new time when it is due.
                    .values(slot_id=slot_id, day=day, reminded_at=None)
                    .execution_options(synchronize_session=False))
                if not moved.rowcount:
                    raise _Refused
        except _Refused:
            return MoveResult(MoveOutcome.BOOKING_ENDED, previous), {}
        except IntegrityError:  # the plate's hold or booking that day, taken by another transaction meanwhile
            return MoveResult(MoveOutcome.TRUCK_BUSY, previous), {}
        return (MoveResult(MoveOutcome.MOVED, previous, new_time),
                {"slot_id": slot_id, "release_at": utc_iso(release_at[reservation_id])})

    async def _busy(self, session, reservation_id: int, row, day) -> bool:
        """Whether the truck, or another truck of its plate, has another hold or booking that day
        at the checkpoint (rule 4; the unique indexes are the backstop)."""
        same = Reservation.truck_id == row.truck_id
        if row.plate is not None:
            same = same | (Reservation.plate == row.plate)
        found = await session.scalar(
            select(func.count()).select_from(Reservation)
            .where(same, Reservation.id != reservation_id, Reservation.checkpoint == row.checkpoint,
                   Reservation.day == day, Reservation.status.in_(ACTIVE_STATUSES)))
        return bool(found)

    async def _take_place(self, session, checkpoint: Checkpoint, starts_at: datetime) -> int | None:
        """One place of the slot at that time (created with the checkpoint's capacity if the
        calendar has not made it yet); None if it is full. The update is conditional, so
        concurrent takes never pass the capacity."""
        await session.execute(
            self.db.insert(Slot).on_conflict_do_nothing(index_elements=["checkpoint", "starts_at"]),
            [{"checkpoint": checkpoint.code, "starts_at": starts_at, "capacity": checkpoint.trucks_per_slot,
              "taken": 0}])
        return await session.scalar(
            update(Slot)
            .where(Slot.checkpoint == checkpoint.code, Slot.starts_at == starts_at, Slot.taken < Slot.capacity)
            .values(taken=Slot.taken + 1).returning(Slot.id)
            .execution_options(synchronize_session=False))


def in_schedule(checkpoint: Checkpoint, moment: datetime, now: datetime) -> bool:
    """Whether `moment` is still to come and a start of one of the checkpoint's slots."""
    return moment > now and moment in checkpoint.slot_starts(checkpoint.local_day(moment))


async def bookings_of_plate(session, plate: str, checkpoint: Checkpoint, now: datetime) -> list[int]:
    """The plate's bookings at the checkpoint from today (its local day) on, earliest first: what a
    border event that names only the plate is about."""
    return list(await session.scalars(
        select(Reservation.id).join(Slot, Slot.id == Reservation.slot_id)
        .where(Reservation.plate == plate, Reservation.checkpoint == checkpoint.code,
               Reservation.status == ReservationStatus.BOOKED.value,
               Reservation.day >= checkpoint.local_day(now))
        .order_by(Slot.starts_at, Reservation.id)))

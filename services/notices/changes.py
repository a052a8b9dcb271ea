"""What an event of the border system changes besides the status card: `booking_cancelled` cancels the
booking, `booking_moved` moves it (`services.booking.moves`), in the transaction that records the
event, so a driver is told of a change only when it was made, and told nothing when it changed nothing.

An event that names a booking's reference is about that booking. One that names only a plate is
about the plate's booking at the checkpoint from today on: if it has several, the event is refused
(the border system names the reference); if it has none, a cancellation changes nothing (recorded,
nobody told) and a move is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from services.audit.trail import Entry
from services.booking.engine import BookingService
from services.booking.moves import MoveOutcome, bookings_of_plate
from services.notices.types import EventType
from services.storage.database import Database
from services.storage.models import Reservation


class Refusal(StrEnum):
    UNKNOWN_TRUCK = "unknown_truck"
    UNKNOWN_BOOKING = "unknown_booking"
    MISMATCH = "mismatch"  # the booking is of another plate or checkpoint than the event says
    AMBIGUOUS_BOOKING = "ambiguous_booking"  # a plate alone names several bookings: name the reference
    BOOKING_ENDED = "booking_ended"  # a move of a booking cancelled, annulled or never confirmed
    OUTSIDE_SCHEDULE = "outside_schedule"  # a new time that is no slot start of the checkpoint, or past
    SLOT_FULL = "slot_full"  # every place of the new time is taken: the border cannot overfill a time
    TRUCK_BUSY = "truck_busy"  # the truck (or its plate) has another booking at the checkpoint that day


@dataclass(frozen=True)
class BookingSeen:
    id: int
    account_id: int
    plate: str | None
    checkpoint: str
    ref: str | None


@dataclass(frozen=True)
class Change:
    """What an event did to its booking, for its answer and its notices."""

    booking: BookingSeen | None = None  # the booking it is about (found by its plate if it named none)
    refusal: Refusal | None = None
    message: str = ""
    cancelled: bool | None = None  # booking_cancelled: whether a booking was active and is cancelled now
    moved: bool | None = None  # booking_moved: whether the booking is at the new time now
    new_time: datetime | None = None
    previous_time: datetime | None = None
    tell: bool = True  # False: it changed nothing, so no chat hears of it


_MOVE_REFUSALS = {
    MoveOutcome.BOOKING_ENDED: Refusal.BOOKING_ENDED, MoveOutcome.OUTSIDE_SCHEDULE: Refusal.OUTSIDE_SCHEDULE,
    MoveOutcome.SLOT_FULL: Refusal.SLOT_FULL, MoveOutcome.TRUCK_BUSY: Refusal.TRUCK_BUSY,
}


class BookingChanges:
    def __init__(self, db: Database, booking: BookingService) -> None:
        self.db = db
        self.booking = booking

    async def bookings(self, session, refs: set[str]) -> dict[str, BookingSeen]:
        if not refs:
            return {}
        return {row.ref: row for row in await self._seen(session, self.db.among(Reservation.ref, sorted(refs)))}

    async def _seen(self, session, where) -> list[BookingSeen]:
        found = await session.execute(select(Reservation.id, Reservation.account_id, Reservation.plate,
                                             Reservation.checkpoint, Reservation.ref).where(where))
        return [BookingSeen(*row) for row in found]

    async def apply(self, session, event, booking: BookingSeen | None, now: datetime,
                    entries: list[Entry]) -> Change:
        """Cancel or move the event's booking (the audit entries join `entries`); other events
        change no booking."""
        if event.type not in (EventType.BOOKING_CANCELLED, EventType.BOOKING_MOVED):
            return Change(booking)
        checkpoint = self.booking.calendar.checkpoints[event.checkpoint]
        if booking is None:  # a plate alone
            ids = await bookings_of_plate(session, event.plate, checkpoint, now)
            if len(ids) > 1:
                return Change(refusal=Refusal.AMBIGUOUS_BOOKING, message=(
                    f"plate {event.plate} has {len(ids)} bookings at {event.checkpoint}: name the booking_ref"))
            if not ids:
                if event.type is EventType.BOOKING_MOVED:
                    return Change(refusal=Refusal.UNKNOWN_BOOKING,
                                  message=f"plate {event.plate} has no booking at {event.checkpoint} to move")
                return Change(cancelled=False, tell=False)
            [booking] = await self._seen(session, Reservation.id == ids[0])
        details = {"event_id": event.event_id, "booking_ref": booking.ref}
        if event.type is EventType.BOOKING_CANCELLED:
            cancelled = await self.booking.cancel_by_operator(session, booking.id, now, entries=entries,
                                                              details=details)
            return Change(booking, cancelled=cancelled, tell=cancelled)
        new_time = event.details.new_time
        moved = await self.booking.move_by_operator(session, booking.id, new_time, now, entries=entries,
                                                    details=details)
        if moved.outcome in (MoveOutcome.MOVED, MoveOutcome.UNCHANGED):
            changed = moved.outcome is MoveOutcome.MOVED  # a move to the time it has is not told again
            return Change(booking, moved=changed, new_time=moved.starts_at.astimezone(checkpoint.tz),
                          previous_time=moved.previous.astimezone(checkpoint.tz), tell=changed)
        refusal = _MOVE_REFUSALS[moved.outcome]
        return Change(booking, refusal=refusal, message=_why(refusal, booking, new_time, checkpoint))


def _why(refusal: Refusal, booking: BookingSeen, new_time: datetime, checkpoint) -> str:
    """The refusal's message, for the border system's log."""
    when = new_time.isoformat()
    if refusal is Refusal.BOOKING_ENDED:
        return f"booking {booking.ref} is not booked now (cancelled, annulled or ended): nothing to move"
    if refusal is Refusal.OUTSIDE_SCHEDULE:
        return (f"new_time {when} is no start of a slot of {checkpoint.code} still to come (every "
                f"{checkpoint.slot_minutes} min from {checkpoint.opens:%H:%M} to {checkpoint.closes:%H:%M}, "
                f"{checkpoint.timezone})")
    if refusal is Refusal.SLOT_FULL:
        return f"the time {when} at {checkpoint.code} is full: booking {booking.ref} stays where it is"
    return (f"the truck of booking {booking.ref} has another booking at {checkpoint.code} on "
            f"{checkpoint.local_day(new_time).isoformat()}")

"""Reschedule: a driver moves a booking to another time of its checkpoint in one step (/mybookings).

One transaction takes a place of the new time and gives up the old one, so the driver is never
left with neither: the new place is taken first (a conditional update, never past the slot's
capacity), then the booking moves into it, keeping its id and its reference (the driver may have
told it to the border post or a dispatcher; the border's own moves keep it too,
`services.booking.moves`). It is a booking at once: the driver confirmed this crossing already.
The old place comes back through the release window, as a cancelled booking's does (rule 5); the
reminder is armed again for the new time; one audit entry records the reschedule, or why it was
refused.

The limits of a new hold apply (rule 4 and fair access, `services.booking.fairness`): an account
banned or paused by its rating reschedules nothing; a truck, and its plate, keep one time per
checkpoint and day; and a reschedule counts as one hold taken against `max_holds_per_hour`, once
(not as a cancel plus a new hold), for the next reschedules and the next Next taps alike: its audit
entry is what is counted (`rescheduled_since`). It leaves no hold pending, so `max_active_holds`
does not refuse it; and the booking stays one confirmed booking for the rating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.audit.trail import AuditRecord, AuditTrail, Entry, account, utc_iso
from services.booking.outcomes import HoldView
from services.booking.release import ReleaseScheduler
from services.booking.reservations import load
from services.booking.takes import HOUR, TakeOutcome
from services.kernel.clock import Clock
from services.kernel.rules import BookingRules, Checkpoint
from services.storage.database import Database
from services.storage.models import ACCOUNT_ID_MAX, ACTIVE_STATUSES, ROW_ID_MAX, Reservation, ReservationStatus, Slot

ACTION = "booking.reschedule"


class RescheduleOutcome(StrEnum):
    MOVED = "moved"
    UNCHANGED = "unchanged"  # the booking is at that time already (a double tap): the same answer
    NOT_FOUND = "not_found"  # unknown, or another account's (a forged button)
    ENDED = "ended"  # cancelled, annulled or begun meanwhile: nothing to move
    SLOT_GONE = "slot_gone"  # not a time of its checkpoint that can still be booked
    SLOT_FULL = "slot_full"  # every place of the new time is taken
    TRUCK_BUSY = "truck_busy"  # the truck has another hold or booking at the checkpoint that day
    PLATE_BUSY = "plate_busy"  # ... or another account's truck with its plate has one
    BANNED = "banned"  # by an operator, `until` then
    RATING_BLOCKED = "rating_blocked"  # paused by the rating `until` then
    HOURLY_LIMIT = "hourly_limit"  # max_holds_per_hour taken within the last hour: again from `until`


_PAUSED = {TakeOutcome.BANNED: RescheduleOutcome.BANNED, TakeOutcome.RATING_BLOCKED: RescheduleOutcome.RATING_BLOCKED}


@dataclass(frozen=True)
class RescheduleResult:
    outcome: RescheduleOutcome
    booking: HoldView | None = None  # as it is now: at its new time once moved, else where it stays
    previous: datetime | None = None  # MOVED: the time it had
    until: datetime | None = None  # BANNED, RATING_BLOCKED, HOURLY_LIMIT


class _Refused(Exception):
    """Rolls the reschedule's writes back: a write found the booking or the plate changed under it."""

    def __init__(self, outcome: RescheduleOutcome) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome


class Reschedules:
    def __init__(self, db: Database, checkpoints: dict[str, Checkpoint], rules: BookingRules, clock: Clock,
                 releases: ReleaseScheduler, audit: AuditTrail) -> None:
        self.db = db
        self.checkpoints = checkpoints
        self.rules = rules
        self.clock = clock
        self.releases = releases
        self.audit = audit

    async def reschedule(self, account_id: int, booking_id: int, slot_id: int) -> RescheduleResult:
        """Move this account's booking into a place of the slot, or say why not; nothing changes then."""
        if not (0 < account_id <= ACCOUNT_ID_MAX and 0 < booking_id <= ROW_ID_MAX and 0 < slot_id <= ROW_ID_MAX):
            return RescheduleResult(RescheduleOutcome.NOT_FOUND)
        now = self.clock.now()
        entries: list[Entry] = []
        async with self.db.transaction() as session:
            # The lock order of the engine: the account first (a take of the same account waits
            # here, so the hourly count is the same for both), then the slot.
            paused = await self.releases.fairness.paused(session, [account_id], now, lock=True)
            booking = await load(session, booking_id, account_id)
            if booking is None:
                result, details = RescheduleResult(RescheduleOutcome.NOT_FOUND), {}
            else:
                # Holds past their time no longer hold the truck's or the plate's day (nor count).
                expired = await self.releases.expire(session, now, entries=entries, account_ids=[account_id])
                expired += await self.releases.expire(session, now, entries=entries, plates=[booking.plate])
                if expired:  # the rating counts an expiry: it may have paused the account just now
                    paused = await self.releases.fairness.paused(session, [account_id], now)
                result, details = await self._decide_and_move(session, booking, slot_id, paused, now)
            details = {"slot_id": slot_id, **details}
            entries.insert(0, Entry(now, account(account_id), ACTION, f"reservation:{booking_id}",
                                    result.outcome.value, account_id, details))
            await self.audit.append(session, entries)
        return result

    async def _decide_and_move(self, session, booking: HoldView, slot_id: int, paused: dict,
                               now: datetime) -> tuple[RescheduleResult, dict[str, Any]]:
        """The result, and what the audit entry says besides it."""
        checkpoint = self.checkpoints.get(booking.checkpoint)
        if booking.status is not ReservationStatus.BOOKED or booking.starts_at <= now or checkpoint is None:
            return RescheduleResult(RescheduleOutcome.ENDED, booking), {"was": booking.status.value}
        if booking.slot_id == slot_id:  # a double tap finds the booking moved by the first
            return RescheduleResult(RescheduleOutcome.UNCHANGED, booking), {}
        slot = (await session.execute(self.db.for_update(
            select(Slot.id, Slot.checkpoint, Slot.starts_at).where(Slot.id == slot_id)))).first()
        if slot is None or slot.checkpoint != checkpoint.code or slot.starts_at < now + checkpoint.lead:
            return RescheduleResult(RescheduleOutcome.SLOT_GONE, booking), {}
        day = checkpoint.local_day(slot.starts_at)
        busy = await self._busy(session, booking, day)
        if busy is not None:
            return RescheduleResult(busy, booking), {}
        if booking.account_id in paused:
            standing = paused[booking.account_id]
            return RescheduleResult(_PAUSED[standing.outcome], booking, until=standing.until), {}
        times = await hourly_times(self.db, session, [booking.account_id], now - HOUR)
        taken = times.get(booking.account_id, [])
        limit = self.rules.max_holds_per_hour
        if len(taken) >= limit:  # again once the oldest that counts is an hour old
            return RescheduleResult(RescheduleOutcome.HOURLY_LIMIT, booking, until=taken[len(taken) - limit] + HOUR), {}
        try:
            async with session.begin_nested():  # a refusal found by a write undoes the writes alone
                release_at = await self._move(session, booking, slot.id, day, now)
        except _Refused as refused:
            return RescheduleResult(refused.outcome, await load(session, booking.id)), {}
        except IntegrityError:  # the plate's day, taken by another account's transaction meanwhile
            return RescheduleResult(RescheduleOutcome.PLATE_BUSY, booking), {}
        return (RescheduleResult(RescheduleOutcome.MOVED, await load(session, booking.id), previous=booking.starts_at),
                {"from": utc_iso(booking.starts_at), "to": utc_iso(slot.starts_at), "ref": booking.ref,
                 "release_at": utc_iso(release_at)})

    async def _move(self, session, booking: HoldView, slot_id: int, day, now: datetime) -> datetime:
        """Take the new place, schedule the old one's release, move the booking; the release time."""
        took = await session.execute(
            update(Slot).where(Slot.id == slot_id, Slot.taken < Slot.capacity).values(taken=Slot.taken + 1)
            .execution_options(synchronize_session=False))
        if not took.rowcount:
            raise _Refused(RescheduleOutcome.SLOT_FULL)
        # Drawn for the old place while the booking is still in it (its start bounds the time).
        release_at = await self.releases.schedule(session, now, [booking.id])
        moved = await session.execute(
            update(Reservation)
            .where(Reservation.id == booking.id, Reservation.slot_id == booking.slot_id,
                   Reservation.status == ReservationStatus.BOOKED.value)
            # The reminder is armed again: the worker reminds of the new time when it is due.
            .values(slot_id=slot_id, day=day, reminded_at=None)
            .execution_options(synchronize_session=False))
        if not moved.rowcount:  # cancelled by another transaction meanwhile
            raise _Refused(RescheduleOutcome.ENDED)
        return release_at[booking.id]

    async def _busy(self, session, booking: HoldView, day) -> RescheduleOutcome | None:
        """Whether the truck, or another truck of its plate, has another hold or booking that day at
        the checkpoint (rule 4; the unique indexes are the backstop)."""
        rows = (await session.execute(
            select(Reservation.truck_id, Reservation.account_id)
            .where((Reservation.truck_id == booking.truck_id) | (Reservation.plate == booking.plate),
                   Reservation.id != booking.id, Reservation.checkpoint == booking.checkpoint,
                   Reservation.day == day, Reservation.status.in_(ACTIVE_STATUSES)))).all()
        if any(truck_id == booking.truck_id and owner == booking.account_id for truck_id, owner in rows):
            return RescheduleOutcome.TRUCK_BUSY
        return RescheduleOutcome.PLATE_BUSY if rows else None


async def rescheduled_since(db: Database, session, account_ids: list[int],
                            since: datetime) -> dict[int, list[datetime]]:
    """When these accounts rescheduled a booking since then: each counts as a hold taken against
    `max_holds_per_hour`. Read from the audit trail, which records each reschedule in its own
    transaction (and is never changed)."""
    found: dict[int, list[datetime]] = {}
    for account_id, at in await session.execute(
        select(AuditRecord.account_id, AuditRecord.at)
        .where(db.among(AuditRecord.account_id, account_ids), AuditRecord.at > since,
               AuditRecord.action == ACTION, AuditRecord.result == RescheduleOutcome.MOVED.value)
    ):
        found.setdefault(account_id, []).append(at)
    return found


async def hourly_times(db: Database, session, account_ids: list[int], since: datetime) -> dict[int, list[datetime]]:
    """What counts against `max_holds_per_hour` since then, oldest first: the holds taken that are
    not bookings now (as `services.booking.take_reads` reads them), and the reschedules."""
    times = await rescheduled_since(db, session, account_ids, since)
    for account_id, at in await session.execute(
        select(Reservation.account_id, Reservation.created_at)
        .where(db.among(Reservation.account_id, account_ids), Reservation.created_at > since,
               Reservation.status != ReservationStatus.BOOKED.value)
    ):
        times.setdefault(account_id, []).append(at)
    for found in times.values():
        found.sort()
    return times


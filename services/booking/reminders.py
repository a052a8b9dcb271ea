"""Reminding a booked driver before the time: the bot's own notice, sent once per booking.

The worker claims due bookings in the database (SKIP LOCKED on PostgreSQL), marking each reminded
and queueing its message in the outbox in the same transaction, so any number of processes remind
each booking once, and a process killed after the claim loses no reminder. A booking made
closer to its time than the reminder would be is not reminded: the driver has just booked it. A
booking the border system moves is reminded again, of its new time (`services.booking.moves`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from services.audit.trail import AuditTrail, Entry
from services.booking.outcomes import HoldView
from services.booking.reservations import view, with_truck_and_slot
from services.kernel.clock import Clock
from services.outbox.kinds import Kind
from services.outbox.outbox import Outbox, Post
from services.storage.database import Database
from services.storage.models import Account, Reservation, ReservationStatus, Slot, Truck

REMINDER_WORKER = "worker:reminders"


@dataclass(frozen=True)
class Reminder:
    booking: HoldView
    language: str | None


class Reminders:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail | None = None,
                 outbox: Outbox | None = None) -> None:
        self.db = db
        self.outbox = outbox or Outbox(db, clock)
        self.clock = clock
        self.audit = audit or AuditTrail(db)

    async def due(self, before: timedelta, limit: int = 500) -> list[Reminder]:
        """Bookings whose time is within `before` from now and not yet reminded, claimed once each."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            rows = (await session.execute(
                self.db.skip_locked(
                    with_truck_and_slot(select(Reservation, Truck.plate, Slot.starts_at, Account.language))
                    .join(Account, Account.id == Reservation.account_id)
                    .where(Reservation.status == ReservationStatus.BOOKED.value, Reservation.reminded_at.is_(None),
                           Slot.starts_at > now, Slot.starts_at <= now + before)
                    .order_by(Slot.starts_at, Reservation.id)
                    .limit(limit),
                    of=Reservation,
                )
            )).all()
            if rows:  # claimed, reminded or not: each is looked at once
                await session.execute(
                    update(Reservation).where(Reservation.id.in_([row.id for row, *_ in rows]))
                    .values(reminded_at=now).execution_options(synchronize_session=False))
            due = [(Reminder(view(row, plate, starts_at), language), row.confirmed_at < starts_at - before)
                   for row, plate, starts_at, language in rows]  # booked within the window: just done
            # The slot names the time reminded of: a booking the border moves meanwhile is reminded
            # of its new time when that is due, and this message is not sent (bot.outbox.bookings).
            await self.outbox.add(session, (Post.to_chat(Kind.REMINDER, reminder.booking.account_id,
                                                         {"reservation": reminder.booking.id,
                                                          "slot": reminder.booking.slot_id})
                                            for reminder, reminded in due if reminded), now)
            await self.audit.append(session, [
                Entry(now, REMINDER_WORKER, "booking.remind", f"reservation:{reminder.booking.id}",
                      "reminded" if reminded else "booked_within_the_window", reminder.booking.account_id)
                for reminder, reminded in due])
        return [reminder for reminder, reminded in due if reminded]

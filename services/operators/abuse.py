"""What the queue's operators do about abuse: ban an account, annul a booking, and see who hoards.

A ban pauses the account (services.booking.fairness) and annuls its holds and its bookings still to come:
their places go back through the release window like any other (booking rule 5 in
docs/architecture.md), so the ban hands no scalper a moment to snipe them. Every chat that follows
an affected truck is told, with the operator's reason, through the outbox (services.notices) in the
same transaction: a ban that commits is a ban that is told, and one that fails tells nobody. Who may
do this is the bot's to check (handlers/operators); these methods trust their caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import case, func, select, update

from services.audit.trail import AuditTrail, Entry, utc_iso
from services.booking.release import ReleaseScheduler
from services.kernel.clock import Clock
from services.kernel.rules import Checkpoint
from services.notices.events import EventDetails, EventIn, EventService
from services.notices.types import EventType
from services.outbox.kinds import Kind
from services.outbox.outbox import Post
from services.storage.database import Database
from services.storage.models import ACTIVE_STATUSES, Account, Release, Reservation, ReservationStatus, Slot

MAX_REASON = 500


@dataclass(frozen=True)
class Annulled:
    reservation_id: int
    ref: str | None  # None: a hold
    plate: str | None
    checkpoint: str
    starts_at: datetime


@dataclass(frozen=True)
class Banned:
    account_id: int
    until: datetime
    annulled: list[Annulled]
    language: str | None  # the account's, to tell it


class AnnulOutcome(Enum):
    ANNULLED = "annulled"
    NOT_FOUND = "not_found"
    ENDED = "ended"  # cancelled, annulled or past already


@dataclass(frozen=True)
class AnnulResult:
    outcome: AnnulOutcome
    annulled: Annulled | None = None


@dataclass(frozen=True)
class Abuser:
    """One line of /abusers: an account's holds within the window, and what became of them."""

    account_id: int
    first_name: str
    taken: int
    confirmed: int  # became bookings
    cancelled: int  # holds let go by the driver
    expired: int
    banned: bool

    @property
    def ratio(self) -> float:
        return self.confirmed / self.taken if self.taken else 0.0


@dataclass(frozen=True)
class DayStats:
    checkpoint: str
    capacity: int
    taken: int  # places held or booked now, or freed and waiting for their release time
    held: int  # holds running now
    booked: int  # bookings of the day's times
    expired: int  # holds of the day's times that ended unconfirmed
    released: int  # places of the day's times given back (after their random release time)


def operator(operator_id: int) -> str:
    """The actor of what an operator did, for the audit trail."""
    return f"operator:{operator_id}"


class Operators:
    def __init__(self, db: Database, clock: Clock, releases: ReleaseScheduler, events: EventService,
                 checkpoints: dict[str, Checkpoint], audit: AuditTrail) -> None:
        self.db = db
        self.audit = audit
        self.clock = clock
        self.releases = releases
        self.events = events
        self.checkpoints = checkpoints

    async def ban(self, operator_id: int, account_id: int, days: float, reason: str) -> Banned | None:
        """Ban the account for `days` (None: no such account). A ban again replaces the first."""
        now = self.clock.now()
        until = now + timedelta(days=days)
        reason = reason.strip()[:MAX_REASON]
        async with self.db.transaction() as session:
            language = (await session.execute(
                self.db.for_update(select(Account.language).where(Account.id == account_id)))).first()
            if language is None:
                return None
            await session.execute(update(Account).where(Account.id == account_id)
                                  .values(banned_until=until, ban_reason=reason)
                                  .execution_options(synchronize_session=False))
            annulled = await self._annul(session, now, reason, Reservation.account_id == account_id)
            await self.events.outbox.add(session, [Post.to_chat(Kind.BANNED, account_id,
                                                                {"until": utc_iso(until), "reason": reason})], now)
            await self.audit.append(session, [Entry(
                now, operator(operator_id), "account.ban", f"account:{account_id}", "banned", account_id,
                {"until": utc_iso(until), "reason": reason, "annulled": [a.reservation_id for a in annulled]})])
        return Banned(account_id, until, annulled, language[0])

    async def unban(self, operator_id: int, account_id: int) -> bool:
        """Lift the ban (what it annulled stays annulled). False: the account was not banned."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Account).where(Account.id == account_id, Account.banned_until > now)
                .values(banned_until=None, ban_reason=None).execution_options(synchronize_session=False))
            await self.audit.append(session, [Entry(now, operator(operator_id), "account.unban",
                                                    f"account:{account_id}",
                                                    "unbanned" if result.rowcount else "not_banned", account_id)])
        return bool(result.rowcount)

    async def annul(self, operator_id: int, ref: str, reason: str) -> AnnulResult:
        """Annul one booking by its reference (a sold one, say)."""
        now = self.clock.now()
        ref, reason = ref.strip().upper(), reason.strip()[:MAX_REASON]
        async with self.db.transaction() as session:
            found = (await session.execute(select(Reservation.id, Reservation.account_id)
                                           .where(Reservation.ref == ref))).first()
            if found is None:
                return AnnulResult(AnnulOutcome.NOT_FOUND)
            annulled = await self._annul(session, now, reason, Reservation.ref == ref)
            result = AnnulResult(AnnulOutcome.ANNULLED, annulled[0]) if annulled else AnnulResult(AnnulOutcome.ENDED)
            await self.audit.append(session, [Entry(now, operator(operator_id), "booking.annul",
                                                    f"reservation:{found[0]}", result.outcome.value, found[1],
                                                    {"ref": ref, "reason": reason})])
        return result

    async def _annul(self, session, now: datetime, reason: str, which) -> list[Annulled]:
        """The matching holds and future bookings annulled, their places scheduled for release, and
        the chats that follow their trucks told, all in the caller's transaction."""
        active = Reservation.status.in_(ACTIVE_STATUSES)
        rows = (await session.execute(
            select(Reservation.id, Reservation.ref, Reservation.plate, Reservation.checkpoint, Slot.starts_at)
            .join(Slot, Slot.id == Reservation.slot_id)
            .where(which, active, Slot.starts_at > now).order_by(Reservation.id)
        )).all()
        if not rows:
            return []
        # Still active as the update finds them: one cancelled meanwhile stays cancelled.
        ids = set((await session.execute(
            update(Reservation).where(self.db.among(Reservation.id, [row[0] for row in rows]), active)
            .values(status=ReservationStatus.ANNULLED.value, ended_at=now)
            .returning(Reservation.id).execution_options(synchronize_session=False))).scalars())
        annulled = [Annulled(*row) for row in rows if row[0] in ids]
        await self.releases.schedule(session, now, sorted(ids))
        told = [EventIn(event_id=f"nobat-annulled-{a.reservation_id}", type=EventType.BOOKING_CANCELLED,
                        plate=a.plate, booking_ref=a.ref, checkpoint=a.checkpoint, occurred_at=now,
                        details=EventDetails(reason=reason or None))
                for a in annulled if a.checkpoint in self.checkpoints and (a.plate or a.ref)]
        if told:
            await self.events.insert_in(session, told, now, changes_done=True)
        return annulled

    async def abusers(self, operator_id: int, hours: float, limit: int = 20) -> list[Abuser]:
        """The accounts that took the most holds within the last `hours` and let the most of them
        lapse: the report that finds the scalpers (most unconfirmed first, then most taken). Who
        read it, and whom it named, goes into the audit trail."""
        now = self.clock.now()
        confirmed = func.sum(case((Reservation.ref.is_not(None), 1), else_=0))
        cancelled = func.sum(case(((Reservation.status == ReservationStatus.CANCELLED.value)
                                   & Reservation.ref.is_(None), 1), else_=0))
        expired = func.sum(case((Reservation.status == ReservationStatus.EXPIRED.value, 1), else_=0))
        taken = func.count()
        async with self.db.reading() as session:
            rows = (await session.execute(
                select(Reservation.account_id, Account.first_name, taken, confirmed, cancelled, expired,
                       Account.banned_until)
                .join(Account, Account.id == Reservation.account_id)
                .where(Reservation.created_at > now - timedelta(hours=hours))
                .group_by(Reservation.account_id, Account.first_name, Account.banned_until)
                .order_by((taken - confirmed).desc(), taken.desc(), Reservation.account_id)
                .limit(limit)
            )).all()
        found = [Abuser(account_id, name or "", n, c or 0, x or 0, e or 0, bool(banned and banned > now))
                 for account_id, name, n, c, x, e, banned in rows]
        await self._reported(operator_id, "abusers", {"hours": hours, "accounts": [a.account_id for a in found]})
        return found

    async def stats(self, operator_id: int, checkpoint: Checkpoint) -> DayStats:
        """Today's figures at the checkpoint (its local day): its times' places and what became of
        them. Read by an operator, as the audit trail records."""
        now = self.clock.now()
        day = checkpoint.local_day(now)
        start, end = checkpoint.day_bounds(day)
        async with self.db.reading() as session:
            capacity, taken = (await session.execute(
                select(func.coalesce(func.sum(Slot.capacity), 0), func.coalesce(func.sum(Slot.taken), 0))
                .where(Slot.checkpoint == checkpoint.code, Slot.starts_at >= start, Slot.starts_at < end))).one()
            by_status = dict((await session.execute(
                select(Reservation.status, func.count())
                .where(Reservation.checkpoint == checkpoint.code, Reservation.day == day)
                .group_by(Reservation.status))).all())
            released = await session.scalar(
                select(func.count()).select_from(Release).join(Slot, Slot.id == Release.slot_id)
                .where(Slot.checkpoint == checkpoint.code, Slot.starts_at >= start, Slot.starts_at < end,
                       Release.released_at.is_not(None)))
        held = by_status.get(ReservationStatus.HELD.value, 0)
        await self._reported(operator_id, "stats", {"checkpoint": checkpoint.code, "day": day.isoformat()})
        return DayStats(checkpoint.code, capacity, taken, held, by_status.get(ReservationStatus.BOOKED.value, 0),
                        by_status.get(ReservationStatus.EXPIRED.value, 0), released or 0)

    async def _reported(self, operator_id: int, report: str, details: dict) -> None:
        async with self.db.transaction() as session:
            await self.audit.append(session, [Entry(self.clock.now(), operator(operator_id), f"report.{report}",
                                                    f"report:{report}", "shown", None, details)])

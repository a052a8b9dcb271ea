"""Cancel: a driver lets a hold or a booking go, or the border operator cancels one; its place
returns through the release window (rule 5), and a hold let go counts against the rating
(`services.booking.fairness`). Each in one transaction with its audit record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from services.audit.trail import BORDER, AuditTrail, Entry, account, utc_iso
from services.booking.outcomes import CancelOutcome, CancelResult
from services.booking.release import ReleaseScheduler
from services.booking.reservations import load, still_active
from services.kernel.clock import Clock
from services.kernel.rules import BookingRules
from services.storage.database import Database
from services.storage.models import Reservation, ReservationStatus


class Cancellations:
    def __init__(self, db: Database, clock: Clock, rules: BookingRules, releases: ReleaseScheduler,
                 audit: AuditTrail) -> None:
        self.db = db
        self.clock = clock
        self.rules = rules
        self.releases = releases
        self.audit = audit

    async def by_operator(self, session, reservation_id: int, now: datetime, *, entries: list[Entry],
                                 by: str = BORDER, details: dict[str, Any] | None = None) -> bool:
        """The border operator cancelled this hold or booking (an event of services.notices), in the
        caller's transaction, so the event that says so and the cancellation commit together. Its
        place returns through the release window like any other (rule 5). False: it had ended already.
        The audit entry joins the caller's `entries`, for its one append."""
        cancelled = (await session.execute(
            update(Reservation)
            .where(Reservation.id == reservation_id, still_active(now))
            .values(status=ReservationStatus.CANCELLED.value, ended_at=now)
            .returning(Reservation.account_id)
            .execution_options(synchronize_session=False)
        )).first()
        details = dict(details or {})
        if cancelled is None:
            owner = await session.scalar(select(Reservation.account_id).where(Reservation.id == reservation_id))
            entries.append(Entry(now, by, "booking.cancel_by_operator", f"reservation:{reservation_id}",
                                 CancelOutcome.ALREADY_ENDED.value, owner, details))
            return False
        release_at = await self.releases.schedule(session, now, [reservation_id])
        details["release_at"] = utc_iso(release_at[reservation_id])
        entries.append(Entry(now, by, "booking.cancel_by_operator", f"reservation:{reservation_id}",
                             CancelOutcome.CANCELLED.value, cancelled.account_id, details))
        return True

    async def cancel(self, account_id: int, reservation_id: int, *, bookings: bool) -> CancelResult:
        """Cancel a hold of this account (and with `bookings`, a booking); its place returns through
        the release window."""
        now = self.clock.now()
        cancellable = (Reservation.status == ReservationStatus.HELD.value) & (Reservation.expires_at > now)
        if bookings:
            cancellable = or_(Reservation.status == ReservationStatus.BOOKED.value, cancellable)
        entries: list[Entry] = []
        async with self.db.transaction() as session:
            answer, details = await self._cancel_in(session, account_id, reservation_id, cancellable, now, entries)
            # Named by the button tapped: the hold message's Cancel, or /mybookings' (which may
            # cancel a hold still pending too: `was` says which it was).
            entries.insert(0, Entry(now, account(account_id), "booking.cancel" if bookings else "hold.cancel",
                                    f"reservation:{reservation_id}", answer.outcome.value, account_id, details))
            await self.audit.append(session, entries)
        return answer

    async def _cancel_in(self, session, account_id: int, reservation_id: int, cancellable, now: datetime,
                         entries: list[Entry]) -> tuple[CancelResult, dict[str, Any]]:
        """The cancellation, and what its audit entry says besides its outcome."""
        row = await load(session, reservation_id, account_id)
        if row is None:
            return CancelResult(CancelOutcome.NOT_FOUND), {}
        if row.starts_at <= now:
            return CancelResult(CancelOutcome.ALREADY_ENDED, row), {"was": row.status.value}
        result = await session.execute(
            update(Reservation)
            .where(Reservation.id == reservation_id, Reservation.account_id == account_id, cancellable)
            .values(status=ReservationStatus.CANCELLED.value, ended_at=now)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:
            if row.status == ReservationStatus.HELD:
                await self.releases.expire(session, now, entries=entries, reservation_ids=[reservation_id])
            ended = await load(session, reservation_id)
            return CancelResult(CancelOutcome.ALREADY_ENDED, ended), {"was": ended.status.value}
        release_at = await self.releases.schedule(session, now, [reservation_id])
        if row.status == ReservationStatus.HELD:  # a hold let go: the rating counts it (services.booking.fairness)
            for paused in await self.releases.fairness.ended_unconfirmed(session, [account_id], now):
                entries.append(Entry(now, account(account_id), "account.pause", f"account:{paused}", "rating",
                                     paused, {"until": utc_iso(now + self.rules.rating_block)}))
        return (CancelResult(CancelOutcome.CANCELLED, await load(session, reservation_id)),
                {"was": row.status.value, "ref": row.ref, "release_at": utc_iso(release_at[reservation_id])})

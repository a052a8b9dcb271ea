"""Fair access: what keeps one account from hoarding the queue (booking rules 4-6, docs/architecture.md).

A border queue is worth money: one account once opened more than a thousand booking windows in a
night, held them without booking and sold the places as they were released. The limits of the
booking engine (`max_active_holds`, one time per truck and plate a day) bound what an account holds
at once; these rules bound what it does over time, all inside the take's own transaction:

- at most `max_holds_per_hour` holds taken within any hour (those confirmed and still booked
  aside: a dispatcher booking a fleet is not hoarding);
- the rating: over the last `rating_window_days`, the share of the account's holds that became
  bookings. An account that has had `rating_min_holds` holds decided (booked, expired or
  cancelled) and confirmed under `min_confirm_ratio` of them is paused for `rating_block` each
  time another of its holds ends unconfirmed: a hoarder is paused again and again, a driver who
  let one hold lapse among bookings is not;
- an operator's ban (services.operators), which pauses the account until its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select, update

from services.booking.takes import Paused, TakeOutcome
from services.kernel.rules import BookingRules
from services.storage.database import Database
from services.storage.models import Account, Reservation, ReservationStatus

# A hold still running is not decided yet; one an operator annulled is not the account's doing.
DECIDED = (ReservationStatus.BOOKED.value, ReservationStatus.EXPIRED.value, ReservationStatus.CANCELLED.value)


@dataclass(frozen=True)
class Rating:
    """An account's figures over the rating's window, as /myrating shows them."""

    taken: int  # holds taken in the window, running ones included
    decided: int  # of them, booked, expired or cancelled
    confirmed: int  # of them, confirmed into a booking (even if cancelled later)
    blocked_until: datetime | None  # paused by the rating until then (None: not paused now)
    banned_until: datetime | None
    ban_reason: str | None

    @property
    def ratio(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None


class Fairness:
    def __init__(self, db: Database, rules: BookingRules) -> None:
        self.db = db
        self.rules = rules

    async def paused(self, session, account_ids: list[int], now: datetime, *, lock: bool = False) -> dict[int, Paused]:
        """The accounts of a batch that may not take a hold now: banned, or paused by the rating.

        With `lock`, the same statement locks every one of these accounts first, in id order (the
        booking engine's lock order), and reads them as last committed: PostgreSQL reads a row
        again after waiting for its lock, so a ban or a pause given meanwhile is seen. Only the
        paused come back, not a row per account of the batch. SQLite locks no rows: BEGIN
        IMMEDIATE has locked the whole database for the transaction already."""
        standing = select(Account.id, Account.banned_until, Account.blocked_until).where(
            self.db.among(Account.id, account_ids))
        if lock and not self.db.is_sqlite:
            # MATERIALIZED: read whole, so every row is locked whatever the query around it keeps.
            locked = standing.order_by(Account.id).with_for_update().cte("locked").prefix_with("MATERIALIZED")
            query = select(locked).where(or_(locked.c.banned_until > now, locked.c.blocked_until > now))
        else:
            query = standing.where(or_(Account.banned_until > now, Account.blocked_until > now))
        found: dict[int, Paused] = {}
        for account_id, banned_until, blocked_until in await session.execute(query):
            if banned_until is not None and banned_until > now:
                found[account_id] = Paused(TakeOutcome.BANNED, banned_until)
            else:
                found[account_id] = Paused(TakeOutcome.RATING_BLOCKED, blocked_until)
        return found

    async def ended_unconfirmed(self, session, account_ids: list[int], now: datetime) -> list[int]:
        """Holds of these accounts just ended without a booking (expired, cancelled), in the
        caller's transaction: those whose rating is now under the line are paused. Returns them."""
        if not account_ids:
            return []
        rules = self.rules
        figures = await session.execute(
            select(Reservation.account_id, func.count(), func.sum(case((Reservation.ref.is_not(None), 1), else_=0)))
            .where(self.db.among(Reservation.account_id, sorted(set(account_ids))),
                   Reservation.created_at > now - rules.rating_window, Reservation.status.in_(DECIDED))
            .group_by(Reservation.account_id))
        low = sorted(account_id for account_id, decided, confirmed in figures
                     if decided >= rules.rating_min_holds and (confirmed or 0) < rules.min_confirm_ratio * decided)
        if low:
            until = now + rules.rating_block
            await session.execute(
                update(Account).where(self.db.among(Account.id, low),
                                      or_(Account.blocked_until.is_(None), Account.blocked_until < until))
                .values(blocked_until=until).execution_options(synchronize_session=False))
        return low

    async def rating(self, account_id: int, now: datetime) -> Rating:
        async with self.db.reading() as session:
            taken, decided, confirmed = (await session.execute(
                select(func.count(), func.sum(case((Reservation.status.in_(DECIDED), 1), else_=0)),
                       func.sum(case((Reservation.ref.is_not(None), 1), else_=0)))
                .where(Reservation.account_id == account_id,
                       Reservation.created_at > now - self.rules.rating_window,
                       Reservation.status != ReservationStatus.ANNULLED.value))).one()
            standing = (await session.execute(
                select(Account.blocked_until, Account.banned_until, Account.ban_reason)
                .where(Account.id == account_id))).first()
        blocked_until, banned_until, reason = standing or (None, None, None)
        return Rating(taken or 0, decided or 0, confirmed or 0,
                      blocked_until if blocked_until and blocked_until > now else None,
                      banned_until if banned_until and banned_until > now else None,
                      reason if banned_until and banned_until > now else None)

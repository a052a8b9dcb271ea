"""Expiry of holds and the random release of freed capacity (booking rule 5, docs/architecture.md).

A place freed by an expired hold or a cancelled booking must not reappear at once, where a bot
watching the queue could snipe it: each unit gets a random release time within the release window,
never later than the slot start minus the lead time, and only then is `slots.taken` decremented.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.trail import ENGINE, EXPIRY_WORKER, RELEASE_WORKER, AuditTrail, Entry, utc_iso
from services.booking.fairness import Fairness
from services.kernel.clock import Clock
from services.kernel.rules import BookingRules, Checkpoint
from services.outbox.kinds import Kind
from services.outbox.outbox import Outbox, Post
from services.storage.database import Database
from services.storage.models import Release, Reservation, ReservationStatus, Slot


class ReleaseScheduler:
    def __init__(self, db: Database, checkpoints: dict[str, Checkpoint], rules: BookingRules, clock: Clock,
                 rng: random.Random | None = None, audit: AuditTrail | None = None,
                 outbox: Outbox | None = None) -> None:
        self.fairness = Fairness(db, rules)
        self.outbox = outbox or Outbox(db, clock)
        self.db = db
        self.audit = audit or AuditTrail(db)
        self.checkpoints = checkpoints
        self.rules = rules
        self.clock = clock
        # Unpredictable on purpose: a release time a scalper could compute is a release time he snipes.
        self.rng = rng or random.SystemRandom()

    def release_time(self, now: datetime, slot_start: datetime, checkpoint: str) -> datetime:
        lead = self.checkpoints[checkpoint].lead if checkpoint in self.checkpoints else timedelta(0)
        latest = min(now + self.rules.release_window, slot_start - lead)
        if latest <= now:
            return now
        return now + timedelta(seconds=self.rng.uniform(0, (latest - now).total_seconds()))

    async def expire(self, session: AsyncSession, now: datetime, *, entries: list[Entry], by: str = ENGINE,
                     account_ids: list[int] | None = None, reservation_ids: list[int] | None = None,
                     plates: list[str] | None = None) -> list[int]:
        """Mark the matching holds past their expiry as expired and schedule their places' release;
        an audit entry for each (`by` expired it) joins the caller's `entries`."""
        stmt = update(Reservation).where(
            Reservation.status == ReservationStatus.HELD.value, Reservation.expires_at <= now
        )
        if account_ids is not None:
            stmt = stmt.where(self.db.among(Reservation.account_id, account_ids))
        if reservation_ids is not None:
            stmt = stmt.where(self.db.among(Reservation.id, reservation_ids))
        if plates is not None:
            stmt = stmt.where(self.db.among(Reservation.plate, plates))
        result = await session.execute(
            stmt.values(status=ReservationStatus.EXPIRED.value, ended_at=now)
            .returning(Reservation.id, Reservation.account_id)
            .execution_options(synchronize_session=False)
        )
        expired = result.all()
        if not expired:
            return []
        release_at = await self.schedule(session, now, [row_id for row_id, _ in expired])
        entries.extend(Entry(now, by, "hold.expire", f"reservation:{row_id}", "expired", account_id,
                             {"release_at": utc_iso(release_at[row_id])}) for row_id, account_id in expired)
        paused = await self.fairness.ended_unconfirmed(session, [account_id for _, account_id in expired], now)
        entries.extend(Entry(now, by, "account.pause", f"account:{account_id}", "rating", account_id,
                             {"until": utc_iso(now + self.rules.rating_block)}) for account_id in paused)
        return [row_id for row_id, _ in expired]

    async def schedule(self, session: AsyncSession, now: datetime, reservation_ids: list[int]) -> dict[int, datetime]:
        """Give the place each reservation holds now its random release time; the times drawn, by
        reservation, for the audit trail. Called once per place freed: by the transition that frees
        it (an expiry, a cancellation, an annulment, a move), which only one transaction makes. A
        booking moved frees one place per move, so a reservation may have several (migration 0012)."""
        if not reservation_ids:
            return {}
        rows = (await session.execute(
            select(Reservation.id, Reservation.slot_id, Reservation.checkpoint, Slot.starts_at)
            .join(Slot, Slot.id == Reservation.slot_id)
            .where(Reservation.id.in_(reservation_ids))
        )).all()
        values = [
            {"slot_id": slot_id, "reservation_id": rid, "release_at": self.release_time(now, starts_at, checkpoint)}
            for rid, slot_id, checkpoint, starts_at in rows
        ]
        await session.execute(insert(Release), values)
        return {value["reservation_id"]: value["release_at"] for value in values}

    async def expire_due(self, limit: int = 500) -> list[int]:
        """Worker step: expire holds whose time is up, each claimed by exactly one worker, and tell
        each driver in the same transaction (the outbox): the hold's message loses its Confirm, a
        new message says it ended. Returns the holds expired."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            ids = list(await session.scalars(
                self.db.skip_locked(
                    select(Reservation.id)
                    .where(Reservation.status == ReservationStatus.HELD.value, Reservation.expires_at <= now)
                    .order_by(Reservation.expires_at)
                    .limit(limit)
                )
            ))
            if not ids:
                return []
            entries: list[Entry] = []
            expired = await self.expire(session, now, entries=entries, by=EXPIRY_WORKER, reservation_ids=ids)
            shown = (await session.execute(
                select(Reservation.id, Reservation.chat_id, Reservation.account_id)
                .where(self.db.among(Reservation.id, expired), Reservation.chat_id.is_not(None))
                .order_by(Reservation.id))).all()
            await self.outbox.add(session, (Post.to_chat(Kind.HOLD_EXPIRED, chat_id, {"reservation": row_id},
                                                         account_id=account_id)
                                            for row_id, chat_id, account_id in shown), now)
            await self.audit.append(session, entries)
        return expired

    async def release_due(self, limit: int = 1000) -> int:
        """Worker step: give back the places whose release time has come. Returns how many."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            due = (await session.execute(
                self.db.skip_locked(
                    select(Release.id, Release.slot_id, Release.reservation_id)
                    .where(Release.released_at.is_(None), Release.release_at <= now)
                    .order_by(Release.release_at)
                    .limit(limit)
                )
            )).all()
            if not due:
                return 0
            per_slot = Counter(slot_id for _id, slot_id, _reservation in due)
            await session.execute(
                update(Slot).where(Slot.id.in_(list(per_slot)))
                .values(taken=Slot.taken - case(dict(per_slot), value=Slot.id))
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(Release).where(Release.id.in_([release_id for release_id, _, _ in due])).values(released_at=now)
                .execution_options(synchronize_session=False)
            )
            await self.audit.append(session, [
                Entry(now, RELEASE_WORKER, "release", f"slot:{slot_id}", "released", None,
                      {"reservation_id": reservation_id}) for _id, slot_id, reservation_id in due])
        return len(due)

"""The booking engine: Next takes a place, Confirm makes a booking, nothing ever overbooks.

Rules ("Booking rules" in docs/architecture.md): showing reserves nothing; Next takes one unit of the slot's capacity
atomically and starts a hold; confirm works only before expiry; limits are checked in the same
transaction as the take; freed capacity comes back at a random time (`services.booking.release`);
every transition is keyed and idempotent.

Concurrent takes are batched into one transaction (group commit). A midnight rush of thousands of
drivers would otherwise wait on one commit each; one transaction for all of them that arrived while
the previous one ran costs a few statements instead. The batch keeps every guarantee of one-at-a-time
takes: account rows and slot rows are locked (PostgreSQL) or the database is write-locked (SQLite)
before anything is counted (`services.booking.take_reads`), requests are decided in arrival order
(by the pure `services.booking.takes`, on the rows read under those locks), what was decided is
written (`services.booking.take_writes`), and the CHECK constraint on `slots.taken` refuses any
overbooking whatever this code believes. This module orchestrates: the batch, its fallback to one
request at a time, and the answers, the plain values of `services.booking.outcomes`. Every take,
refusals included, and every confirm and cancel is recorded in the audit trail (`services.audit`) by
the transaction that does it: one chain segment per batch, its last statement.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import select, update

from services.accounts.trucks import TruckService, TruckView
from services.audit.trail import BORDER, COUNTDOWN_WORKER, AuditTrail, Entry
from services.booking.calendar import Calendar, ShownPlaces
from services.booking.cancellations import Cancellations
from services.booking.confirmations import Confirmations
from services.booking.moves import MoveResult, Moves
from services.booking.outcomes import CancelResult, ConfirmResult, Countdown, HoldView, TakeResult, minutes_left
from services.booking.release import ReleaseScheduler
from services.booking.reschedules import RescheduleResult, Reschedules
from services.booking.reservations import load, still_active, view, with_truck_and_slot
from services.booking.take_reads import read_batch
from services.booking.take_writes import take_entries, write_batch
from services.booking.takes import Decision, SlotSeen, TakeOutcome, TakeRequest, TruckSeen, assign_offers, decide_takes
from services.kernel.batching import Batcher
from services.kernel.clock import Clock
from services.kernel.rules import BookingRules
from services.outbox.kinds import Kind
from services.outbox.outbox import Post
from services.outbox.tables import OutboxRow, PostStatus
from services.storage.database import Database
from services.storage.models import ACCOUNT_ID_MAX, ROW_ID_MAX, Account, Reservation, ReservationStatus, Slot, Truck
from services.storage.unavailable import DatabaseUnavailable

log = logging.getLogger(__name__)

@dataclass(slots=True)
class _Written:
    """What a batch's transaction decided and wrote, to build the answers from after the commit:
    a decision per request (or the fault of a request decided alone), the trucks and the slot
    starts it read, and the ids of the holds it inserted."""

    decisions: list[Decision | Exception]
    trucks: dict[int, TruckSeen]
    starts: dict[int, datetime]
    hold_ids: dict[tuple[int, str, date], int]


# Refusals that show the driver another time, with the truck it is for.
_SHOWN_ANOTHER = (TakeOutcome.SLOT_FULL, TakeOutcome.SLOT_GONE)
# Refusals answered with the truck they are about.
_WITH_TRUCK = (*_SHOWN_ANOTHER, TakeOutcome.PLATE_BUSY)


class BookingService:
    def __init__(self, db: Database, calendar: Calendar, rules: BookingRules, clock: Clock,
                 releases: ReleaseScheduler, trucks: TruckService, audit: AuditTrail | None = None) -> None:
        self.db = db
        self.audit = audit or AuditTrail(db)
        self.trucks = trucks
        self.calendar = calendar
        self.rules = rules
        self.clock = clock
        self.releases = releases
        self.confirmations = Confirmations(db, clock, releases, self.audit)
        self.cancellations = Cancellations(db, clock, rules, releases, self.audit)
        self.moves = Moves(db, calendar.checkpoints, releases)
        self.reschedules = Reschedules(db, calendar.checkpoints, rules, clock, releases, self.audit)
        self.shown = ShownPlaces()
        # Looked up at each batch, not bound once: tests watch the batches the engine runs.
        self._takes = Batcher(lambda requests: self._take_batch(requests))

    # --- Next: take a place -------------------------------------------------------------------

    async def take(self, account_id: int, truck_id: int, slot_id: int, *, chat_id: int | None = None,
                   message_id: int | None = None) -> TakeResult:
        """Tap on Next: hold one place of the slot for this truck, or say why not.

        `chat_id` and `message_id` name the message that will show the hold (the tapped one, edited
        in place); they are stored in the take's own transaction.
        """
        if not (0 < account_id <= ACCOUNT_ID_MAX and 0 < truck_id <= ROW_ID_MAX and 0 < slot_id <= ROW_ID_MAX):
            # A forged tap: no row has such an id, and PostgreSQL would refuse the batch's statement
            # for the sake of this one request, so it stays out of the batch.
            return TakeResult(TakeOutcome.NOT_YOURS)
        return await self._takes(TakeRequest(account_id, truck_id, slot_id, chat_id, message_id))

    async def _take_batch(self, requests: list[TakeRequest]) -> list[TakeResult | Exception]:
        """Decide and write the batch in one transaction; then show the refused drivers the next
        free places. A request the database refuses fails alone, and changes nobody else's answer."""
        now = self.clock.now()
        try:
            written = await self._decide_and_write(requests, now)
        except DatabaseUnavailable:
            raise  # nobody's fault: one at a time, each would wait out the same timeout
        except Exception as exc:
            log.warning("a batch of %d takes failed (%r); deciding them one by one", len(requests), exc)
            written = await self._decide_one_by_one(requests, now)
        return await self._answers(requests, written)

    async def _decide_and_write(self, requests: list[TakeRequest], now: datetime) -> _Written:
        """Read under locks, decide (services.booking.takes), write, record every take in the audit trail
        (refusals too: a hoarder's tries are the evidence), commit."""
        entries: list[Entry] = []
        async with self.db.transaction() as session:
            read = await read_batch(self.db, self.releases, session, requests, now, entries)
            trucks, slots = read.trucks, read.slots
            decided = decide_takes(
                requests, trucks=trucks, active=read.active, max_active_holds=self.rules.max_active_holds,
                slots={slot.id: self._slot_seen(slot, now) for slot in slots}, hold_until=now + self.rules.hold,
                now=now, paused=read.paused, recent=read.recent, max_holds_per_hour=self.rules.max_holds_per_hour,
            )
            hold_ids = await write_batch(self.db, session, decided, now, self._warn_before)
            # The takes' records made as they are written (see AuditTrail.append).
            await self.audit.append(session, chain(entries, take_entries(requests, decided.decisions, hold_ids,
                                                                         trucks, now)))
        return _Written(list(decided.decisions), trucks, {slot.id: slot.starts_at for slot in slots}, hold_ids)

    async def _decide_one_by_one(self, requests: list[TakeRequest], now: datetime) -> _Written:
        """Each request in a transaction of its own, in arrival order: the one at fault fails alone,
        and the others are decided as the batch would have decided them (arrival order is the rule)."""
        written = _Written([], {}, {}, {})
        for position, request in enumerate(requests):
            try:
                alone = await self._decide_and_write([request], now)
            except DatabaseUnavailable as exc:  # gone meanwhile: the rest would wait for it in turn
                written.decisions += [exc] * (len(requests) - position)
                break
            except Exception as exc:  # a fault, not a refusal: the caller's error handler logs it
                written.decisions.append(exc)
                continue
            written.decisions += alone.decisions
            written.trucks.update(alone.trucks)
            written.starts.update(alone.starts)
            written.hold_ids.update(alone.hold_ids)
        return written

    async def _answers(self, requests: list[TakeRequest], written: _Written) -> list[TakeResult | Exception]:
        """Each driver's answer. The refused are shown the next free places of their checkpoint
        together, handed out in arrival order, so they are not all sent to the same few places; nor
        to the places shown a moment ago to the drivers refused by the batches before."""
        decided = [d for d in written.decisions if isinstance(d, Decision)]
        wanted = Counter(d.offer_at for d in decided if d.offer_at is not None)
        shown = self.shown.counts()
        places = {code: await self.calendar.first_free_places(self.calendar.checkpoint(code), count, shown)
                  for code, count in wanted.items()}
        assigned = assign_offers(decided, places)
        self.shown.add(offer.slot_id for offer in assigned if offer is not None)
        offers = iter(assigned)
        trucks, starts = written.trucks, written.starts
        results: list[TakeResult | Exception] = []
        for request, decision in zip(requests, written.decisions, strict=True):
            if isinstance(decision, Exception):
                results.append(decision)
                continue
            offer, hold = next(offers), decision.hold
            if decision.outcome in _WITH_TRUCK:
                truck = trucks[request.truck_id]
                results.append(TakeResult(decision.outcome, offer=offer,
                                          truck=TruckView(truck.id, truck.plate, truck.trailer_plate)))
            elif hold is None:
                results.append(TakeResult(decision.outcome, until=decision.until))
            else:
                results.append(TakeResult(decision.outcome, hold=HoldView(
                    id=written.hold_ids[hold.key] if hold.id is None else hold.id, account_id=hold.account_id,
                    truck_id=hold.truck_id, plate=trucks[hold.truck_id].plate, checkpoint=hold.checkpoint,
                    slot_id=hold.slot_id, starts_at=starts.get(hold.slot_id) or await self._slot_start(hold.slot_id),
                    status=ReservationStatus.BOOKED if hold.booked else ReservationStatus.HELD,
                    expires_at=hold.expires_at, ref=hold.ref,
                )))
        return results

    def _slot_seen(self, slot, now: datetime) -> SlotSeen:
        """A slot's free places, and its local day unless it can no longer be booked."""
        checkpoint = self.calendar.checkpoint(slot.checkpoint)
        bookable = checkpoint is not None and slot.starts_at >= now + checkpoint.lead
        return SlotSeen(slot.id, slot.checkpoint, slot.capacity - slot.taken,
                        checkpoint.local_day(slot.starts_at) if bookable else None)

    async def _slot_start(self, slot_id: int) -> datetime:
        async with self.db.reading() as session:
            return await session.scalar(select(Slot.starts_at).where(Slot.id == slot_id))

    # --- Confirm, cancel, look up -----------------------------------------------------------

    async def confirm(self, account_id: int, hold_id: int) -> ConfirmResult:
        """Make the hold a booking, if it is this account's and has not expired (rules 3 and 6);
        batched with the confirms arriving at the same time (`services.booking.confirmations`)."""
        return await self.confirmations.confirm(account_id, hold_id)

    async def cancel_hold(self, account_id: int, hold_id: int) -> CancelResult:
        """Cancel on the hold message: only ever a hold. A stale tap after Confirm leaves the booking be."""
        return await self.cancellations.cancel(account_id, hold_id, bookings=False)

    async def cancel_booking(self, account_id: int, booking_id: int) -> CancelResult:
        """Cancel a booking from /mybookings (or a hold still pending)."""
        return await self.cancellations.cancel(account_id, booking_id, bookings=True)

    async def reschedule(self, account_id: int, booking_id: int, slot_id: int) -> RescheduleResult:
        """Move a booking to another time from /mybookings, in one step (`services.booking.reschedules`)."""
        return await self.reschedules.reschedule(account_id, booking_id, slot_id)

    async def cancel_by_operator(self, session, reservation_id: int, now: datetime, *, entries: list[Entry],
                                 by: str = BORDER, details: dict[str, Any] | None = None) -> bool:
        """See `Cancellations.by_operator`."""
        return await self.cancellations.by_operator(session, reservation_id, now, entries=entries, by=by,
                                                    details=details)

    async def move_by_operator(self, session, reservation_id: int, new_time: datetime, now: datetime, *,
                               entries: list[Entry], by: str = BORDER,
                               details: dict[str, Any] | None = None) -> MoveResult:
        """See `Moves.by_operator`."""
        return await self.moves.by_operator(session, reservation_id, new_time, now, entries=entries, by=by,
                                            details=details)

    async def get(self, account_id: int, reservation_id: int) -> HoldView | None:
        async with self.db.reading() as session:
            return await load(session, reservation_id, account_id)

    async def upcoming(self, account_id: int) -> list[HoldView]:
        """This account's holds still running, by when they end, then its bookings whose slot has
        not started yet, earliest first: everything /mybookings shows."""
        now = self.clock.now()
        async with self.db.reading() as session:
            rows = (await session.execute(
                with_truck_and_slot(select(Reservation, Truck.plate, Slot.starts_at))
                .where(Reservation.account_id == account_id, still_active(now), Slot.starts_at > now)
            )).all()
        found = [view(row, plate, starts_at) for row, plate, starts_at in rows]
        holds = sorted((v for v in found if v.status is ReservationStatus.HELD), key=lambda v: (v.expires_at, v.id))
        bookings = sorted((v for v in found if v.status is ReservationStatus.BOOKED), key=lambda v: (v.starts_at, v.id))
        return holds + bookings

    async def show_hold_at(self, hold_id: int, chat_id: int, message_id: int) -> None:
        """Remember which message shows the hold, for the warning and the expiry."""
        async with self.db.transaction() as session:
            expires_at = await session.scalar(select(Reservation.expires_at).where(Reservation.id == hold_id))
            if expires_at is None:
                return
            await session.execute(
                update(Reservation).where(Reservation.id == hold_id)
                .values(chat_id=chat_id, message_id=message_id, countdown_at=self._warn_at(expires_at))
                .execution_options(synchronize_session=False)
            )

    async def warning_message(self, hold: HoldView) -> int | None:
        """The message that warned the driver of this hold's end (its Confirm goes when the hold
        ends), as the outbox recorded it once sent; None if none was sent, or not yet."""
        if not hold.warned or hold.chat_id is None:
            return None
        since = hold.expires_at - self.rules.hold
        async with self.db.reading() as session:
            rows = (await session.execute(
                select(OutboxRow.payload, OutboxRow.message_id)
                .where(OutboxRow.chat_id == hold.chat_id, OutboxRow.status == PostStatus.SENT.value,
                       OutboxRow.kind == Kind.HOLD_ENDING.value, OutboxRow.account_id == hold.account_id,
                       OutboxRow.created_at >= since, OutboxRow.message_id.is_not(None))
                .order_by(OutboxRow.id.desc())
            )).all()
        return next((message_id for payload, message_id in rows
                     if json.loads(payload or "{}").get("reservation") == hold.id), None)

    async def warnings(self, limit: int = 500) -> list[Countdown]:
        """Worker step: holds about to end whose driver has not been told yet, claimed once each.

        The hold's message says until when it is held and is not edited meanwhile (edits make no
        sound, and a rush of 5,000 holds edited every minute would be three times what Telegram lets
        a bot send). Instead, `rules.hold_warning_minutes` before the end, the driver gets one new
        message with Confirm. Picked by `countdown_at`, so only holds that are due come back; each
        is queued in the outbox (`services.outbox`) in the same transaction, and returned.
        """
        now = self.clock.now()
        async with self.db.transaction() as session:
            rows = (await session.execute(
                self.db.skip_locked(
                    select(Reservation, Truck.plate, Slot.starts_at, Account.language)
                    .join(Truck, Truck.id == Reservation.truck_id)
                    .join(Slot, Slot.id == Reservation.slot_id)
                    .join(Account, Account.id == Reservation.account_id)
                    .where(Reservation.status == ReservationStatus.HELD.value, Reservation.countdown_at <= now,
                           Reservation.expires_at > now, Reservation.message_id.is_not(None))
                    .order_by(Reservation.countdown_at)
                    .limit(limit),
                    of=Reservation,
                )
            )).all()
            due = [
                Countdown(view(row, plate, starts_at), row.chat_id, row.message_id,
                          minutes_left(row.expires_at, now), language)
                for row, plate, starts_at, language in rows
            ]
            if due:
                await session.execute(
                    update(Reservation)
                    .where(Reservation.id.in_([c.hold.id for c in due]))
                    .values(countdown_at=None, warned_at=now)
                    .execution_options(synchronize_session=False)
                )
                # Told in the same transaction: a warning claimed is a warning sent, whatever happens next.
                await self.releases.outbox.add(session, (
                    Post.to_chat(Kind.HOLD_ENDING, c.chat_id, {"reservation": c.hold.id}, account_id=c.hold.account_id)
                    for c in due), now)
                await self.audit.append(session, [
                    Entry(now, COUNTDOWN_WORKER, "hold.warn", f"reservation:{c.hold.id}", "warned", c.hold.account_id,
                          {"minutes_left": c.minutes_left}) for c in due])
        return due

    @property
    def _warn_before(self) -> timedelta:
        return timedelta(minutes=self.rules.hold_warning_minutes)

    def _warn_at(self, expires_at: datetime) -> datetime:
        return expires_at - self._warn_before

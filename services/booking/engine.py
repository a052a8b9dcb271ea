"""The booking engine: Next takes a place, Confirm makes a booking, nothing ever overbooks.

Rules (see DESIGN.md): showing reserves nothing; Next takes one unit of the slot's capacity
atomically and starts a hold; confirm works only before expiry; limits are checked in the same
transaction as the take; freed capacity comes back at a random time (services.booking.release); every
transition is keyed and idempotent.

Concurrent takes are batched into one transaction (group commit). A midnight rush of thousands of
drivers would otherwise wait on one commit each; one transaction for all of them that arrived while
the previous one ran costs a few statements instead. The batch keeps every guarantee of one-at-a-time
takes: account rows and slot rows are locked (PostgreSQL) or the database is write-locked (SQLite)
before anything is counted, requests are decided in arrival order (by the pure `services.booking.takes`,
on the rows read under those locks), and the CHECK constraint on `slots.taken` refuses any
overbooking whatever this code believes. The answers are the plain values of `services.booking.outcomes`,
which handlers import from here. Every take, refusals included, and every confirm and cancel is
recorded in the audit trail (`services.audit`) by the transaction that does it: one chain segment
per batch, its last statement.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import and_, or_, select, text, update

from services.audit.trail import BORDER, COUNTDOWN_WORKER, AuditTrail, Entry, account, json_text, utc_iso
from services.kernel.batching import Batcher
from services.booking.calendar import Calendar, ShownPlaces
from services.booking.cancellations import Cancellations
from services.booking.confirmations import Confirmations
from services.kernel.clock import Clock
from services.booking.outcomes import (
    CancelOutcome,
    CancelResult,
    ConfirmOutcome,
    ConfirmResult,
    Countdown,
    HoldView,
    TakeResult,
)
from services.booking.release import ReleaseScheduler
from services.booking.reservations import load, still_active, view, with_truck_and_slot
from services.kernel.rules import BookingRules
from services.storage.database import (
    ACCOUNT_ID_MAX,
    ACTIVE_STATUSES,
    ROW_ID_MAX,
    Account,
    Database,
    DatabaseUnavailable,
    Reservation,
    ReservationStatus,
    Slot,
    Truck,
    naive_utc,
)
from services.booking.takes import (
    HOUR,
    BatchDecision,
    Decision,
    Hold,
    Paused,
    SlotSeen,
    TakeOutcome,
    TakeRequest,
    TruckSeen,
    assign_offers,
    decide_takes,
)
from services.accounts.trucks import TruckService, TruckView

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


@dataclass(slots=True)
class _Read:
    """What a batch's decision depends on, read under its locks (see `_read_batch`)."""

    trucks: dict[int, TruckSeen]
    active: list[Hold]  # the active holds and bookings of its accounts and of its trucks' plates
    slots: list[Any]
    paused: dict[int, Paused]  # its accounts banned or paused by their rating
    recent: dict[int, list[datetime]]  # when its accounts took the holds that count for the hourly cap


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
            read = await self._read_batch(session, requests, now, entries)
            trucks, slots = read.trucks, read.slots
            decided = decide_takes(
                requests, trucks=trucks, active=read.active, max_active_holds=self.rules.max_active_holds,
                slots={slot.id: self._slot_seen(slot, now) for slot in slots}, hold_until=now + self.rules.hold,
                now=now, paused=read.paused, recent=read.recent, max_holds_per_hour=self.rules.max_holds_per_hour,
            )
            hold_ids = await self._write_batch(session, decided, now)
            # The takes' records made as they are written (see AuditTrail.append).
            await self.audit.append(session, chain(entries, _take_entries(requests, decided.decisions, hold_ids,
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

    async def _read_batch(self, session, requests: list[TakeRequest], now: datetime, entries: list[Entry]) -> _Read:
        """What the batch's decision depends on, read under locks: its trucks, the active holds and
        bookings of its accounts and of its trucks' plates, and its slots; and for fair access
        (services.booking.fairness) which of its accounts are banned or paused, and when they took the
        holds of the last hour. Plain rows, not ORM objects: a batch may hold thousands, and this
        is the hot path. Fair access costs no statement of its own: the accounts' standing is read
        by the statement that locks them, their last hour by the one that reads their active holds.

        Another account's hold on the same plate is read, not locked: if a batch in another process
        takes that plate's place meanwhile, the unique index refuses the second insert, and the
        batch is decided again one request at a time, which then sees the first."""
        account_ids = sorted({r.account_id for r in requests})
        # Lock order everywhere: accounts, then slots, each by id, so batches in several
        # processes queue behind each other instead of deadlocking. The statement that locks the
        # accounts also says which of them are banned or paused.
        fairness = self.releases.fairness
        paused = await fairness.paused(session, account_ids, now, lock=True)
        # Holds past their expiry no longer count against limits, whether or not the expiry
        # worker has visited them yet.
        expired = await self.releases.expire(session, now, entries=entries, account_ids=account_ids)
        trucks = {row.id: TruckSeen(*row) for row in (await session.execute(
            select(Truck.id, Truck.account_id, Truck.plate, Truck.trailer_plate)
            .where(self.db.among(Truck.id, sorted({r.truck_id for r in requests})), Truck.removed_at.is_(None))
        ))}
        plates = sorted({truck.plate for truck in trucks.values()})
        # Another account's hold on one of these plates, past its expiry, would still hold the index.
        expired += await self.releases.expire(session, now, entries=entries, plates=plates)
        if expired:  # the rating counts an expiry: it may have paused an account of the batch just now
            paused = await fairness.paused(session, account_ids, now)
        # One read for the active holds and bookings, and for the holds of the last hour that count
        # against max_holds_per_hour: all those not booked now, ended or not (taking and cancelling
        # again and again is not free; a dispatcher booking a fleet is not hoarding).
        since, booked = now - HOUR, ReservationStatus.BOOKED.value
        mine = set(account_ids)
        active: list[Hold] = []
        recent: dict[int, list[datetime]] = {}
        for row in await session.execute(
            select(
                Reservation.id, Reservation.account_id, Reservation.truck_id, Reservation.slot_id,
                Reservation.checkpoint, Reservation.day, Reservation.status, Reservation.expires_at,
                Reservation.ref, Reservation.plate, Reservation.created_at,
            ).where(or_(
                and_(self.db.among(Reservation.account_id, account_ids),
                     or_(Reservation.status.in_(ACTIVE_STATUSES),
                         and_(Reservation.created_at > since, Reservation.status != booked))),
                and_(self.db.among(Reservation.plate, plates), Reservation.status.in_(ACTIVE_STATUSES)),
            ))
        ):
            if row.status in ACTIVE_STATUSES:
                active.append(Hold(id=row.id, account_id=row.account_id, truck_id=row.truck_id, slot_id=row.slot_id,
                                   checkpoint=row.checkpoint, day=row.day, expires_at=row.expires_at,
                                   booked=row.status == booked, ref=row.ref, plate=row.plate))
            if row.status != booked and row.account_id in mine and row.created_at > since:
                recent.setdefault(row.account_id, []).append(row.created_at)
        for times in recent.values():
            times.sort()  # oldest first
        slots = (await session.execute(
            self.db.for_update(
                select(Slot.id, Slot.checkpoint, Slot.starts_at, Slot.capacity, Slot.taken)
                .where(self.db.among(Slot.id, sorted({r.slot_id for r in requests}))).order_by(Slot.id)
            )
        )).all()
        return _Read(trucks, active, slots, paused, recent)

    def _slot_seen(self, slot, now: datetime) -> SlotSeen:
        """A slot's free places, and its local day unless it can no longer be booked."""
        checkpoint = self.calendar.checkpoint(slot.checkpoint)
        bookable = checkpoint is not None and slot.starts_at >= now + checkpoint.lead
        return SlotSeen(slot.id, slot.checkpoint, slot.capacity - slot.taken,
                        checkpoint.local_day(slot.starts_at) if bookable else None)

    async def _write_batch(self, session, decided: BatchDecision, now: datetime) -> dict[tuple[int, str, date], int]:
        """Take the granted places and insert the new holds; their ids by (truck, checkpoint, day)."""
        if not decided.new_holds:
            return {}
        # One statement for every slot of the batch; the CHECK constraint is the backstop. The
        # places taken come as one parameter (arrays, a JSON object), so that the statement is the
        # same whatever the batch: a CASE with a branch per slot was a new statement for
        # SQLAlchemy to compile and the database to prepare at every batch.
        if self.db.is_sqlite:
            await session.execute(text(
                "UPDATE slots SET taken = taken + granted.value FROM json_each(:granted) AS granted"
                " WHERE slots.id = CAST(granted.key AS INTEGER)"
            ), {"granted": json.dumps(decided.granted)})
        else:
            await session.execute(text(
                "UPDATE slots SET taken = slots.taken + granted.n"
                " FROM unnest(CAST(:ids AS integer[]), CAST(:ns AS integer[])) AS granted (id, n)"
                " WHERE slots.id = granted.id"
            ), {"ids": list(decided.granted), "ns": list(decided.granted.values())})
        return await self._insert_holds(session, decided.new_holds, now)

    async def _insert_holds(self, session, holds: list[Hold], now: datetime) -> dict[tuple[int, str, date], int]:
        """Insert a batch of new holds; their ids by (truck, checkpoint, day), which the unique
        index keeps unique among active holds.

        PostgreSQL: the ids drawn from the sequence, then one binary COPY, two round trips for any
        batch size. SQLite: a plain executemany, then one read of the new ids by that key.
        """
        held = ReservationStatus.HELD.value
        countdown = [self._warn_at(h.expires_at) if h.message_id else None for h in holds]
        if self.db.is_sqlite:
            # The driver's executemany, below the ORM's handling of each row (which cost more than
            # SQLite's insert itself); the times and days in the form the column types store them,
            # converted once per value.
            connection = await session.connection()

            def as_stored(column: str):
                dialect, seen = connection.dialect, {}
                process = Reservation.__table__.c[column].type.dialect_impl(dialect).bind_processor(dialect)

                def convert(value):
                    return None if value is None else seen.get(value) or seen.setdefault(value, process(value))
                return convert

            moment, day = as_stored("created_at"), as_stored("day")
            await connection.exec_driver_sql(
                "INSERT INTO reservations (account_id, truck_id, plate, slot_id, checkpoint, day, status, created_at,"
                " expires_at, chat_id, message_id, countdown_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(h.account_id, h.truck_id, h.plate, h.slot_id, h.checkpoint, day(h.day), held, moment(now),
                  moment(h.expires_at), h.chat_id, h.message_id, moment(at))
                 for h, at in zip(holds, countdown, strict=True)],
            )
            found = (await session.execute(
                select(Reservation.truck_id, Reservation.checkpoint, Reservation.day, Reservation.id).where(
                    Reservation.status == held, Reservation.created_at == now,
                    self.db.among(Reservation.truck_id, [h.truck_id for h in holds]),
                )
            )).all()
        else:
            # Their ids first, then the rows by a binary COPY, which costs the client and the server
            # less than an INSERT ... SELECT FROM unnest(arrays) RETURNING (arrays built, sent and
            # taken apart again). A row the unique indexes refuse fails the COPY like the INSERT.
            ids = (await session.scalars(text("SELECT nextval('reservations_id_seq') FROM generate_series(1, :n)"),
                                         {"n": len(holds)})).all()
            created = naive_utc(now)
            await self.db.copy(await session.connection(), "reservations", _HOLD_COLUMNS, [
                (row_id, h.account_id, h.truck_id, h.plate, h.slot_id, h.checkpoint, h.day, held, created,
                 naive_utc(h.expires_at), h.chat_id, h.message_id, at and naive_utc(at))
                for row_id, h, at in zip(ids, holds, countdown, strict=True)])
            found = [(h.truck_id, h.checkpoint, h.day, row_id) for row_id, h in zip(ids, holds, strict=True)]
        return {(truck_id, code, day): row_id for truck_id, code, day, row_id in found}

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

    async def cancel_by_operator(self, session, reservation_id: int, now: datetime, *, entries: list[Entry],
                                 by: str = BORDER, details: dict[str, Any] | None = None) -> bool:
        """See `Cancellations.by_operator`."""
        return await self.cancellations.by_operator(session, reservation_id, now, entries=entries, by=by,
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

    async def warnings(self, limit: int = 500) -> list[Countdown]:
        """Worker step: holds about to end whose driver has not been told yet, claimed once each.

        The hold's message says until when it is held and is not edited meanwhile (edits make no
        sound, and a rush of 5,000 holds edited every minute would be three times what Telegram lets
        a bot send). Instead, `rules.hold_warning_minutes` before the end, the driver gets one new
        message with Confirm. Picked by `countdown_at`, so only holds that are due come back.
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
                await self.audit.append(session, [
                    Entry(now, COUNTDOWN_WORKER, "hold.warn", f"reservation:{c.hold.id}", "warned", c.hold.account_id,
                          {"minutes_left": c.minutes_left}) for c in due])
        return due

    def _warn_at(self, expires_at: datetime) -> datetime:
        return expires_at - timedelta(minutes=self.rules.hold_warning_minutes)

def _take_entries(requests: list[TakeRequest], decisions: list[Decision], hold_ids: dict[tuple[int, str, date], int],
                  trucks: dict[int, TruckSeen], now: datetime) -> Iterator[Entry]:
    """The audit entries of a batch of takes, one per request in arrival order: a hold taken (or
    found again by a double tap), or a refusal with its reason.

    Their details (what was asked: the truck and the slot; what came of it) are written here as the
    canonical JSON that the chain hashes, keys in sorted order, instead of as dicts for the trail to
    encode: a rush records every tap, thousands a second, and the encoding was a third of a record's
    cost. A unit test holds each form to `canonical_json`."""
    times: dict[datetime, str] = {}  # a batch's new holds all end at the same time
    taken: set[tuple[int, str, date]] = set()
    for request, decision in zip(requests, decisions, strict=True):
        hold, outcome, account_id = decision.hold, decision.outcome, request.account_id
        asked = f'"slot_id":{int(request.slot_id)},"truck_id":{int(request.truck_id)}}}'
        if outcome is TakeOutcome.HELD:
            if hold.id is None and hold.key not in taken:
                taken.add(hold.key)
                until = times.get(hold.expires_at) or times.setdefault(hold.expires_at, utc_iso(hold.expires_at))
                details = f'{{"expires_at":"{until}","plate":{_text_or_null(hold.plate)},{asked}'
                subject = hold_ids[hold.key]
            else:  # a double tap: the hold the first tap made
                details = f'{{"again":true,{asked}'
                subject = hold_ids[hold.key] if hold.id is None else hold.id
            yield Entry(now, account(account_id), "hold.take", f"reservation:{subject}", _HELD, account_id,
                        details)
            continue
        if outcome is TakeOutcome.TRUCK_BUSY:  # with a hold of its own, perhaps one this batch took
            details = f'{{"busy_with":{int(hold_ids[hold.key] if hold.id is None else hold.id)},{asked}'
        elif outcome is TakeOutcome.PLATE_BUSY:
            details = f'{{"plate":{_text_or_null(trucks[request.truck_id].plate)},{asked}'
        else:
            details = "{" + asked
        yield Entry(now, account(account_id), "hold.refused", f"slot:{request.slot_id}", outcome.value,
                    account_id, details)


_HELD = TakeOutcome.HELD.value
_HOLD_COLUMNS = ("id", "account_id", "truck_id", "plate", "slot_id", "checkpoint", "day", "status", "created_at",
                 "expires_at", "chat_id", "message_id", "countdown_at")


def _text_or_null(text: str | None) -> str:
    return "null" if text is None else json_text(text)


def minutes_left(expires_at: datetime, now: datetime) -> int:
    """Whole minutes a driver still has, rounded up: 14:01 left reads "15 min", 0:20 reads "1 min"."""
    seconds = (expires_at - now).total_seconds()
    return max(0, -int(-seconds // 60))

"""Events the border system posts: checked, tied to a truck, and turned into deliveries (the outbox).

An event and its deliveries are written in one transaction, so a crash leaves either both or
neither: the sender worker never misses an accepted event, and never sends one that was refused.
The border system retries what got no answer, so `event_id` is an idempotency key: a repeat gets
the first answer and writes nothing, and two identical posts at the same moment are told apart by
the unique constraint on `events.event_id`, not by a read that both could pass. The posts of one
moment are written as one transaction (`services.kernel.batching`), each answered as if it came alone:
the border system may post a thousand a second, and SQLite commits one transaction at a time. A
batch the border system sends as one request (`record_many`) is one transaction of its own.
An event that cancels or moves a booking does so in that transaction too (`services.notices.changes`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model, field_validator, model_validator
from sqlalchemy import insert, or_, select, union
from sqlalchemy.exc import IntegrityError

from services.accounts.follow_tables import Follow, RegisteredTruck
from services.accounts.plates import parse_plate
from services.audit.trail import Entry
from services.booking.engine import BookingService
from services.kernel.batching import Batcher
from services.kernel.clock import Clock
from services.notices.cards import NoticeEvent
from services.notices.changes import BookingChanges, BookingSeen, Change, Refusal
from services.notices.tables import DeliveryStatus, Event
from services.notices.types import EventType
from services.outbox.kinds import Kind
from services.outbox.outbox import Outbox, Post
from services.outbox.tables import OutboxRow, PostStatus
from services.storage.database import Database
from services.storage.models import Truck

log = logging.getLogger(__name__)

# Times a batch of the border system is read again after meeting an event_id that another post
# committed meanwhile; each retry finds that one answered, so only a storm of races exhausts them.
RACE_RETRIES = 3

ShortText = Annotated[str, Field(min_length=1, max_length=32)]
DocumentName = Annotated[str, Field(min_length=1, max_length=100)]


class EventDetails(BaseModel):
    """What some statuses carry besides the status itself; bounded, since it ends up in a chat."""

    model_config = ConfigDict(extra="forbid")

    lane: ShortText | None = None
    gate: ShortText | None = None
    documents: list[DocumentName] | None = Field(None, max_length=20)
    queue_position: int | None = Field(None, ge=0, le=1_000_000)
    new_time: AwareDatetime | None = Field(None, description="booking_moved (required): the booking's new time, "
                                                             "a slot start of the checkpoint's schedule")
    reason: str | None = Field(None, max_length=500)
    deadline: AwareDatetime | None = Field(None, description="called: by when the driver must reach the gate "
                                                             "(after occurred_at)")


class EventIn(BaseModel):
    """One status of one truck, as the border system posts it to `POST /v1/events`."""

    # The schema says what `_names_a_truck` checks, so a client validating against it is refused less.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": ["plate"], "properties": {"plate": {"type": "string"}}},
        {"required": ["booking_ref"], "properties": {"booking_ref": {"type": "string"}}},
    ]})

    event_id: str = Field(min_length=1, max_length=64, description="The border system's idempotency key")
    type: EventType
    plate: str | None = Field(None, min_length=1, max_length=32, description="The truck's plate, in any spelling")
    booking_ref: str | None = Field(None, min_length=1, max_length=12, description="A booking's reference code")
    checkpoint: str = Field(min_length=1, max_length=16)
    occurred_at: AwareDatetime
    details: EventDetails = EventDetails()

    @field_validator("plate")
    @classmethod
    def _a_plate(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = parse_plate(value)
        if parsed is None:
            raise ValueError("not a plate of any country the queue knows")
        return parsed.canonical

    @field_validator("booking_ref")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().upper()

    @model_validator(mode="after")
    def _names_a_truck(self) -> EventIn:
        if self.plate is None and self.booking_ref is None:
            raise ValueError("an event names a plate or a booking_ref (or both)")
        if self.type is EventType.BOOKING_MOVED and self.details.new_time is None:
            raise ValueError("booking_moved says the booking's new time: details.new_time")
        deadline = self.details.deadline
        if deadline is not None and (self.type is not EventType.CALLED or deadline <= self.occurred_at):
            raise ValueError("details.deadline is for called, and after occurred_at")
        return self


def event_model(checkpoint_codes: list[str]) -> type[EventIn]:
    """`EventIn` whose checkpoint must be one of the configured ones: the same class validates the
    posts and writes the OpenAPI schema, so the document lists exactly the codes the server takes."""
    return create_model("EventIn", __base__=EventIn,
                        checkpoint=(Literal[tuple(checkpoint_codes)], Field(description="A checkpoint's code")))


class EventOutcome(StrEnum):
    QUEUED = "queued"  # at least one chat will hear of it
    NO_RECIPIENT = "no_recipient"  # stored, but nobody follows the truck: the border system sends its SMS
    UNCHANGED = "unchanged"  # stored; it changed no booking (cancelled or at that time already): nobody is told


class EventAnswer(BaseModel):
    """What `POST /v1/events` answers, stored with the event so a repeat gets it again."""

    event_id: str
    outcome: EventOutcome
    plate: str | None
    booking_ref: str | None
    deliveries: int = Field(description="Chats the event will be delivered to")
    booking_cancelled: bool | None = Field(None, description="For booking_cancelled: whether a booking was "
                                                             "active and is now cancelled (only then is it told)")
    booking_moved: bool | None = Field(None, description="For booking_moved: whether the booking was moved now "
                                                         "(false: it was at new_time already, nobody is told)")
    new_time: datetime | None = Field(None, description="For booking_moved: the booking's time now, in the "
                                                        "checkpoint's zone")
    previous_time: datetime | None = Field(None, description="For booking_moved: its time before")


@dataclass(frozen=True)
class Recorded:
    answer: EventAnswer | None = None
    repeated: bool = False
    refusal: Refusal | None = None
    message: str = ""


class EventService:
    def __init__(self, db: Database, clock: Clock, booking: BookingService, checkpoint_codes: list[str],
                 outbox: Outbox) -> None:
        self.db = db
        self.outbox = outbox
        self.clock = clock
        self.booking = booking
        self.changes = BookingChanges(db, booking)
        self.checkpoint_codes = list(checkpoint_codes)
        self._batcher: Batcher[EventIn, Recorded] = Batcher(self._record_all, max_batch=500)

    @cached_property
    def model(self) -> type[EventIn]:
        """The event as this deployment takes it (built when first needed: a Literal of no
        checkpoints is no type, and a service built without any never records events)."""
        if not self.checkpoint_codes:
            raise ValueError("no checkpoint is configured, so no event can name one")
        return event_model(self.checkpoint_codes)

    async def record(self, event: EventIn) -> Recorded:
        """Store the event and its deliveries, or give the first answer to a repeat, or refuse it.
        The events posted meanwhile are recorded together, in one transaction (a group commit)."""
        return await self._batcher(event)

    async def record_many(self, events: list[EventIn]) -> list[Recorded]:
        """The border system's own batch (`POST /v1/events` with an array), each event answered as if it
        had come alone, in order; all of it recorded in one transaction, or (a fault) none of it.
        Not through the group commit: the batch is one transaction already, and one of 500 events
        waiting behind the posts of the moment would only make them wait for it."""
        for _attempt in range(RACE_RETRIES):
            try:
                return await self._record_all(events, together=True)
            except IntegrityError:
                # Another post committed one of the batch's event_ids meanwhile: read the first
                # answers again and record the rest, still as one transaction.
                log.info("a batch of %d events met an event_id committed meanwhile; recorded again", len(events))
        return await self._record_all(events, together=True)

    async def _record_all(self, events: list[EventIn], *, together: bool = False) -> list[Recorded]:
        """A batch, each event answered as if it had come alone, in the order they came. `together`:
        an event_id committed meanwhile by another post fails the whole batch (IntegrityError)
        rather than splitting it into one transaction per event."""
        first = await self._answers_of(sorted({event.event_id for event in events}))
        results: list[Recorded | None] = [None] * len(events)
        fresh: dict[str, int] = {}  # event_id: its first place in this batch
        for i, event in enumerate(events):
            if event.event_id in first:
                results[i] = Recorded(first[event.event_id], repeated=True)
            else:
                fresh.setdefault(event.event_id, i)
        new = [events[i] for i in fresh.values()]
        try:
            recorded = await self._insert(new) if new else []
        except IntegrityError:
            # An event_id of the batch committed by another post (another process) in the meantime:
            # one by one, each finds its first answer or is recorded.
            if together:
                raise
            if len(new) == 1:
                stored = await self._answers_of([new[0].event_id])
                if not stored:
                    raise
                recorded = [Recorded(stored[new[0].event_id], repeated=True)]
            else:
                recorded = [(await self._record_all([event]))[0] for event in new]
        for i, outcome in zip(fresh.values(), recorded, strict=True):
            results[i] = outcome
        for i, event in enumerate(events):
            if results[i] is None:  # the same event_id twice in one batch: the second is a repeat
                earlier = results[fresh[event.event_id]]
                results[i] = Recorded(earlier.answer, repeated=True) if earlier.answer else earlier
        return results

    async def _answers_of(self, event_ids: list[str]) -> dict[str, EventAnswer]:
        async with self.db.reading() as session:
            stored = await session.execute(select(Event.event_id, Event.answer)
                                           .where(self.db.among(Event.event_id, event_ids)))
            return {event_id: EventAnswer.model_validate_json(answer) for event_id, answer in stored}

    async def _insert(self, events: list[EventIn]) -> list[Recorded]:
        async with self.db.transaction() as session:
            return await self.insert_in(session, events, self.clock.now())

    async def insert_in(self, session, events: list[EventIn], now: datetime, *,
                        changes_done: bool = False) -> list[Recorded]:
        """Record new events (none of whose event_id is stored yet), the bookings they cancel or move,
        and their deliveries, in the caller's transaction: the border API's batches, and the bot's
        own notices of what an operator did (services.operators), which commit with the action they
        tell of (`changes_done`: the caller changed the bookings already; the events only tell)."""
        results: list[Recorded] = []
        rows: list[tuple[dict, list[int]]] = []
        entries: list[Entry] = []  # the border's cancellations and moves, for the audit trail
        bookings = await self.changes.bookings(session, {e.booking_ref for e in events if e.booking_ref})
        plates = {e.plate for e in events if e.plate} | {b.plate for b in bookings.values() if b.plate}
        followers = await self._followers(session, plates)
        known = await self._known(session, plates)
        for event in events:
            booking = bookings.get(event.booking_ref) if event.booking_ref is not None else None
            refused = self._refusal(event, booking, known)
            if refused is None:
                change = Change(booking) if changes_done else await self.changes.apply(
                    session, event, booking, now, entries)
                if change.refusal is not None:
                    refused = Recorded(refusal=change.refusal, message=change.message)
            if refused is not None:
                results.append(refused)
                continue
            booking = change.booking
            plate = event.plate or (booking.plate if booking else None)
            ref = event.booking_ref or (booking.ref if booking else None)
            recipients = set(followers.get(plate, ())) | ({booking.account_id} if booking else set())
            if not change.tell:
                recipients = set()
            outcome = (EventOutcome.QUEUED if recipients else
                       EventOutcome.NO_RECIPIENT if change.tell else EventOutcome.UNCHANGED)
            answer = EventAnswer(event_id=event.event_id, outcome=outcome, plate=plate, booking_ref=ref,
                                 deliveries=len(recipients), booking_cancelled=change.cancelled,
                                 booking_moved=change.moved, new_time=change.new_time,
                                 previous_time=change.previous_time)
            rows.append(({"event_id": event.event_id, "type": event.type.value, "plate": plate,
                          "booking_ref": ref, "reservation_id": booking.id if booking else None,
                          "checkpoint": event.checkpoint, "occurred_at": event.occurred_at,
                          "details": event.details.model_dump_json(exclude_none=True), "received_at": now,
                          "answer": answer.model_dump_json()}, sorted(recipients)))
            results.append(Recorded(answer))
        ids = (await session.execute(  # the unique event_id decides here between two concurrent posts
            insert(Event).returning(Event.id, sort_by_parameter_order=True), [row for row, _ in rows]
        )).scalars().all() if rows else []
        told = await self.outbox.add(session, (
            Post.to_chat(Kind.NOTICE, account_id, event_id=event_id)
            for event_id, (_row, recipients) in zip(ids, rows, strict=True) for account_id in recipients), now)
        await self.booking.audit.append(session, entries)
        log.info("%d events recorded with %d deliveries, %d refused", len(rows), told, len(events) - len(rows))
        return results

    @staticmethod
    def _refusal(event: EventIn, booking: BookingSeen | None, known: set[str]) -> Recorded | None:
        if event.booking_ref is not None:
            if booking is None:
                return Recorded(refusal=Refusal.UNKNOWN_BOOKING, message=f"no booking {event.booking_ref}")
            if (event.plate is not None and event.plate != booking.plate) or event.checkpoint != booking.checkpoint:
                return Recorded(refusal=Refusal.MISMATCH,
                                message=f"booking {event.booking_ref} is of another plate or checkpoint")
            return None
        if event.plate not in known:
            return Recorded(refusal=Refusal.UNKNOWN_TRUCK,
                            message=f"plate {event.plate} is neither registered, nor any account's truck, nor followed")
        return None

    async def _known(self, session, plates: set[str]) -> set[str]:
        """The plates the queue knows: registered by the border system, an account's truck, followed."""
        if not plates:
            return set()
        among = sorted(plates)
        found = union(
            select(RegisteredTruck.plate).where(self.db.among(RegisteredTruck.plate, among)),
            select(Truck.plate).where(self.db.among(Truck.plate, among), Truck.removed_at.is_(None)),
            select(Follow.plate).where(self.db.among(Follow.plate, among)),
        )
        return set(await session.scalars(found))

    async def _followers(self, session, plates: set[str]) -> dict[str, list[int]]:
        followers: dict[str, list[int]] = {}
        if plates:
            for plate, account_id in await session.execute(
                    select(Follow.plate, Follow.account_id).where(self.db.among(Follow.plate, sorted(plates)))):
                followers.setdefault(plate, []).append(account_id)
        return followers

    async def last_of(self, account_id: int) -> NoticeEvent | None:
        """The newest status the border system reported of the account's trucks or sent to its chat
        (for the context card of the account's support ticket)."""
        own = select(Truck.plate).where(Truck.account_id == account_id, Truck.removed_at.is_(None))
        sent = select(OutboxRow.event_id).where(OutboxRow.chat_id == account_id, OutboxRow.kind == Kind.NOTICE)
        async with self.db.reading() as session:
            row = (await session.execute(
                select(Event.id, Event.type, Event.checkpoint, Event.occurred_at, Event.plate, Event.booking_ref,
                       Event.details)
                .where(or_(Event.plate.in_(own), Event.id.in_(sent)))
                .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(1))).first()
        if row is None:
            return None
        details = json.loads(row.details or "{}")
        return NoticeEvent(row.id, row.type, row.checkpoint, row.occurred_at, row.plate, row.booking_ref,
                           details if isinstance(details, dict) else {})

    async def deliveries(self, *, event_id: str | None = None, plate: str | None = None,
                         limit: int = 500) -> list[DeliveryView] | None:
        """Each chat's delivery of one event (None: no such event), or of a plate's newest events."""
        async with self.db.reading() as session:
            query = (select(Event.event_id, Event.type, OutboxRow.chat_id, OutboxRow.status, OutboxRow.sent_at)
                     .join(OutboxRow, OutboxRow.event_id == Event.id))
            if event_id is not None:
                if await session.scalar(select(Event.id).where(Event.event_id == event_id)) is None:
                    return None
                query = query.where(Event.event_id == event_id)
            else:
                query = query.where(Event.plate == plate)
            rows = await session.execute(query.order_by(Event.id.desc(), OutboxRow.chat_id).limit(limit))
            return [DeliveryView(event_id=e, type=t, recipient=a, status=delivery_status(s, at), sent_at=at)
                    for e, t, a, s, at in rows]


def delivery_status(status: str, sent_at: datetime | None) -> DeliveryStatus:
    """A notice's row as the border system sees it: sent once the chat has the message that tells it
    (its card may still be catching up), undeliverable once nothing more will be tried."""
    if sent_at is not None:
        return DeliveryStatus.SENT
    if status == PostStatus.QUEUED:
        return DeliveryStatus.QUEUED
    return DeliveryStatus.SENT if status == PostStatus.SETTLED else DeliveryStatus.UNDELIVERABLE


class DeliveryView(BaseModel):
    """One chat's delivery of one event, as `GET /v1/deliveries` shows it to the border system."""

    event_id: str
    type: EventType
    recipient: int = Field(description="The Telegram account (its private chat) the notice goes to")
    status: DeliveryStatus = Field(description="undeliverable: the chat blocked the bot; fall back to SMS")
    sent_at: datetime | None = None


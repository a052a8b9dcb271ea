"""Events the border system posts: checked, tied to a truck, and turned into deliveries (the outbox).

An event and its deliveries are written in one transaction, so a crash leaves either both or
neither: the sender worker never misses an accepted event, and never sends one that was refused.
The border system retries what got no answer, so `event_id` is an idempotency key: a repeat gets
the first answer and writes nothing, and two identical posts at the same moment are told apart by
the unique constraint on `events.event_id`, not by a read that both could pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model, field_validator, model_validator
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from services.booking import BookingService
from services.clock import Clock
from services.notices.tables import Delivery, DeliveryStatus, Event, Follow, RegisteredTruck
from services.notices.types import EventType, rings
from services.plates import parse_plate
from services.storage import Database, Reservation, Truck

log = logging.getLogger(__name__)

ShortText = Annotated[str, Field(min_length=1, max_length=32)]
DocumentName = Annotated[str, Field(min_length=1, max_length=100)]


class EventDetails(BaseModel):
    """What some statuses carry besides the status itself; bounded, since it ends up in a chat."""

    model_config = ConfigDict(extra="forbid")

    lane: ShortText | None = None
    gate: ShortText | None = None
    documents: list[DocumentName] | None = Field(None, max_length=20)
    queue_position: int | None = Field(None, ge=0, le=1_000_000)
    new_time: AwareDatetime | None = None
    reason: str | None = Field(None, max_length=500)


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
        return self


def event_model(checkpoint_codes: list[str]) -> type[EventIn]:
    """`EventIn` whose checkpoint must be one of the configured ones: the same class validates the
    posts and writes the OpenAPI schema, so the document lists exactly the codes the server takes."""
    return create_model("EventIn", __base__=EventIn,
                        checkpoint=(Literal[tuple(checkpoint_codes)], Field(description="A checkpoint's code")))


class EventOutcome(StrEnum):
    QUEUED = "queued"  # at least one chat will hear of it
    NO_RECIPIENT = "no_recipient"  # stored, but nobody follows the truck: the border system sends its SMS


class EventAnswer(BaseModel):
    """What `POST /v1/events` answers, stored with the event so a repeat gets it again."""

    event_id: str
    outcome: EventOutcome
    plate: str | None
    booking_ref: str | None
    deliveries: int = Field(description="Chats the event will be delivered to")
    booking_cancelled: bool | None = Field(None, description="For booking_cancelled with a booking_ref: "
                                                             "whether the booking was active and is now cancelled")


class Refusal(StrEnum):
    UNKNOWN_TRUCK = "unknown_truck"
    UNKNOWN_BOOKING = "unknown_booking"
    MISMATCH = "mismatch"  # the booking is of another plate or checkpoint than the event says


@dataclass(frozen=True)
class Recorded:
    answer: EventAnswer | None = None
    repeated: bool = False
    refusal: Refusal | None = None
    message: str = ""


@dataclass(frozen=True)
class _Booking:
    id: int
    account_id: int
    plate: str | None
    checkpoint: str


class EventService:
    def __init__(self, db: Database, clock: Clock, booking: BookingService, checkpoint_codes: list[str]) -> None:
        self.db = db
        self.clock = clock
        self.booking = booking
        self.checkpoint_codes = list(checkpoint_codes)

    @cached_property
    def model(self) -> type[EventIn]:
        """The event as this deployment takes it (built when first needed: a Literal of no
        checkpoints is no type, and a service built without any never records events)."""
        if not self.checkpoint_codes:
            raise ValueError("no checkpoint is configured, so no event can name one")
        return event_model(self.checkpoint_codes)

    async def record(self, event: EventIn) -> Recorded:
        """Store the event and its deliveries, or give the first answer to a repeat, or refuse it."""
        first = await self._answer_of(event.event_id)
        if first is not None:
            return Recorded(first, repeated=True)
        try:
            return await self._insert(event)
        except IntegrityError:
            # The same event_id committed by a concurrent post in the meantime: its answer is ours.
            first = await self._answer_of(event.event_id)
            if first is None:
                raise
            return Recorded(first, repeated=True)

    async def _answer_of(self, event_id: str) -> EventAnswer | None:
        async with self.db.reading() as session:
            stored = await session.scalar(select(Event.answer).where(Event.event_id == event_id))
        return None if stored is None else EventAnswer.model_validate_json(stored)

    async def _insert(self, event: EventIn) -> Recorded:
        now = self.clock.now()
        async with self.db.transaction() as session:
            booking = None
            if event.booking_ref is not None:
                booking = await self._booking(session, event.booking_ref)
                if booking is None:
                    return Recorded(refusal=Refusal.UNKNOWN_BOOKING, message=f"no booking {event.booking_ref}")
                if (event.plate is not None and event.plate != booking.plate) or event.checkpoint != booking.checkpoint:
                    return Recorded(refusal=Refusal.MISMATCH,
                                    message=f"booking {event.booking_ref} is of another plate or checkpoint")
            plate = event.plate or (booking.plate if booking else None)
            if booking is None and not await self._known(session, plate):
                return Recorded(refusal=Refusal.UNKNOWN_TRUCK,
                                message=f"plate {plate} is neither registered, nor any account's truck, nor followed")
            recipients = await self._recipients(session, plate, booking)
            cancelled = None
            if event.type is EventType.BOOKING_CANCELLED and booking is not None:
                cancelled = await self.booking.cancel_by_operator(session, booking.id, now)
            answer = EventAnswer(event_id=event.event_id,
                                 outcome=EventOutcome.QUEUED if recipients else EventOutcome.NO_RECIPIENT,
                                 plate=plate, booking_ref=event.booking_ref, deliveries=len(recipients),
                                 booking_cancelled=cancelled)
            row = Event(event_id=event.event_id, type=event.type.value, plate=plate, booking_ref=event.booking_ref,
                        reservation_id=booking.id if booking else None, checkpoint=event.checkpoint,
                        occurred_at=event.occurred_at, details=event.details.model_dump_json(exclude_none=True),
                        received_at=now, answer=answer.model_dump_json())
            session.add(row)
            await session.flush()  # the unique event_id decides here between two concurrent posts
            if recipients:
                ring = rings(event.type)
                session.add_all(Delivery(event_id=row.id, account_id=account_id, status=DeliveryStatus.QUEUED.value,
                                         ring=ring, next_attempt_at=now) for account_id in sorted(recipients))
        log.info("event %s (%s, %s): %d deliveries", event.event_id, event.type.value, plate, len(recipients))
        return Recorded(answer)

    async def _booking(self, session, ref: str) -> _Booking | None:
        row = (await session.execute(
            select(Reservation.id, Reservation.account_id, Reservation.plate, Reservation.checkpoint)
            .where(Reservation.ref == ref)
        )).first()
        return None if row is None else _Booking(*row)

    async def _known(self, session, plate: str) -> bool:
        """Whether the queue knows the truck: registered by the border system, an account's truck, followed."""
        return bool(await session.scalar(select(
            exists().where(RegisteredTruck.plate == plate)
            | exists().where(Truck.plate == plate, Truck.removed_at.is_(None))
            | exists().where(Follow.plate == plate)
        )))

    async def _recipients(self, session, plate: str | None, booking: _Booking | None) -> set[int]:
        found = set()
        if plate is not None:
            found |= set(await session.scalars(select(Follow.account_id).where(Follow.plate == plate)))
        if booking is not None:
            found.add(booking.account_id)
        return found

    async def deliveries(self, *, event_id: str | None = None, plate: str | None = None,
                         limit: int = 500) -> list[DeliveryView] | None:
        """Each chat's delivery of one event (None: no such event), or of a plate's newest events."""
        async with self.db.reading() as session:
            query = (select(Event.event_id, Event.type, Delivery.account_id, Delivery.status, Delivery.sent_at)
                     .join(Delivery, Delivery.event_id == Event.id))
            if event_id is not None:
                if await session.scalar(select(Event.id).where(Event.event_id == event_id)) is None:
                    return None
                query = query.where(Event.event_id == event_id)
            else:
                query = query.where(Event.plate == plate)
            rows = await session.execute(query.order_by(Event.id.desc(), Delivery.account_id).limit(limit))
            return [DeliveryView(event_id=e, type=t, recipient=a, status=s, sent_at=at) for e, t, a, s, at in rows]


class DeliveryView(BaseModel):
    """One chat's delivery of one event, as `GET /v1/deliveries` shows it to the border system."""

    event_id: str
    type: EventType
    recipient: int = Field(description="The Telegram account (its private chat) the notice goes to")
    status: DeliveryStatus = Field(description="undeliverable: the chat blocked the bot; fall back to SMS")
    sent_at: datetime | None = None


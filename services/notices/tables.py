"""The tables of status notices (migration 0004): what the border system sent, and each chat's
status card of a crossing. Who follows which truck is `services.accounts.follow_tables`; what is to
be delivered to whom, the outbox (`services.outbox`).

An event and its deliveries (rows of the outbox, `services.outbox`) are written in one transaction:
a delivery is the promise that one chat will hear of one event, kept until the sender has
Telegram's message id for it, or knows the chat cannot be reached.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.models import Base, UTCDateTime


class DeliveryStatus(StrEnum):
    """A notice to one chat, as `GET /v1/deliveries` tells the border system (the outbox's row)."""

    QUEUED = "queued"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"  # the chat blocked the bot (403): the border system falls back to SMS


class Event(Base):
    """One event the border system posted, with the answer it was given (a repeated event_id gets
    the same answer and sends nothing again)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)  # the border system's idempotency key
    type: Mapped[str] = mapped_column(String(32))
    plate: Mapped[str | None] = mapped_column(String(16), index=True)
    booking_ref: Mapped[str | None] = mapped_column(String(12))
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))
    checkpoint: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[str] = mapped_column(Text, default="{}", server_default=text("'{}'"))  # JSON
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str] = mapped_column(Text)  # JSON: what POST /v1/events answered


class StatusCard(Base):
    """The one message per crossing that is edited at every status change: its key is the
    booking's reference, or plate, checkpoint and day for a truck in the queue without one."""

    __tablename__ = "status_cards"
    __table_args__ = (UniqueConstraint("account_id", "key", name="uq_status_cards_account_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    key: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    timeline: Mapped[str] = mapped_column(Text, default="[]", server_default=text("'[]'"))  # JSON list
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""The core tables (SQLAlchemy 2 models): accounts, trucks, slots, reservations (holds and bookings),
releases and the polling inbox; and the column type that keeps every time in UTC.

The other domains' tables live with their domain (`services.accounts.tables`, `services.notices.tables`,
`services.audit.trail`, `services.support.tables`) on the same `Base`; the migrations in
`services/migrations` build them all.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The largest id a row can have: `Integer` keys are 32-bit on PostgreSQL (SQLite would take more, but
# one schema serves both), while account ids are Telegram's user ids, kept in a 64-bit `BigInteger`.
# An id beyond these names no row; PostgreSQL refuses even to compare a column with it.
ROW_ID_MAX = 2**31 - 1
ACCOUNT_ID_MAX = 2**63 - 1


def naive_utc(moment: datetime) -> datetime:
    """A moment as the database keeps it: naive UTC (for rows written below SQLAlchemy too)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, and mixing the two bites."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class ReservationStatus(StrEnum):
    HELD = "held"
    BOOKED = "booked"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    ANNULLED = "annulled"  # by an operator: the account was banned, or this booking annulled


ACTIVE_STATUSES = (ReservationStatus.HELD.value, ReservationStatus.BOOKED.value)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The server default is the one migration 0001 created (`alembic check` compares them); written
    # as SQL because Alembic's SQLite comparison cannot unquote an empty string. The Python default
    # stays, so a new object has its value without a refresh (async code cannot lazy-load).
    first_name: Mapped[str] = mapped_column(String(128), default="", server_default=text("''"))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Fair access (services.booking.fairness, migration 0006): no new holds until then, by an operator's
    # ban (with its reason) or by the account's own rating.
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ban_reason: Mapped[str | None] = mapped_column(Text)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Truck(Base):
    __tablename__ = "trucks"
    __table_args__ = (
        Index("uq_trucks_account_plate_active", "account_id", "plate", unique=True,
              sqlite_where=text("removed_at IS NULL"), postgresql_where=text("removed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    plate: Mapped[str] = mapped_column(String(16))
    trailer_plate: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("checkpoint", "starts_at", name="uq_slots_checkpoint_start"),
        # The last line of defence of rule 2: whatever a process believes, the database refuses
        # to store more holds and bookings than places.
        CheckConstraint("taken >= 0 AND taken <= capacity", name="ck_slots_taken_within_capacity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkpoint: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # as in 0001, see Account


class Reservation(Base):
    """A hold and, once confirmed, the booking it became: one row, one history."""

    __tablename__ = "reservations"
    __table_args__ = (
        # Rule 4, enforced by the database too: one active hold or booking per truck per
        # checkpoint per local day.
        Index("uq_reservations_truck_day_active", "truck_id", "checkpoint", "day", unique=True,
              sqlite_where=text("status IN ('held', 'booked')"),
              postgresql_where=text("status IN ('held', 'booked')")),
        # ... and per plate, whichever account's truck carries it: a driver and a dispatcher who
        # both follow one truck cannot book it twice.
        Index("uq_reservations_plate_day_active", "plate", "checkpoint", "day", unique=True,
              sqlite_where=text("status IN ('held', 'booked')"),
              postgresql_where=text("status IN ('held', 'booked')")),
        Index("ix_reservations_account_status", "account_id", "status"),
        Index("ix_reservations_status_expires", "status", "expires_at"),
        Index("ix_reservations_status_countdown", "status", "countdown_at"),
        Index("ix_reservations_account_created", "account_id", "created_at"),  # a rating's window (0006)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    truck_id: Mapped[int] = mapped_column(ForeignKey("trucks.id"))
    # The truck's canonical plate when the hold was made. None only on rows from before migration
    # 0003 that shared an active plate with an earlier row (see there).
    plate: Mapped[str | None] = mapped_column(String(16))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    checkpoint: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ref: Mapped[str | None] = mapped_column(String(12), unique=True)
    # Where the hold is shown, so the countdown worker can edit that message.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # When the driver is to be told that the hold is about to end (services.booking.warnings).
    countdown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the driver was told, in a new message that rings, that the hold is about to end; and
    # for a booking, reminded before its time.
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Release(Base):
    """A unit of capacity waiting for its random release time (rule 5). One per place freed: a
    booking the border moved frees a place at each move, so a reservation may have several (0012)."""

    __tablename__ = "releases"
    __table_args__ = (Index("ix_releases_due", "released_at", "release_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"), index=True)
    release_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboxUpdate(Base):
    """An update fetched from Telegram by polling and not yet handled to the end.

    Kept here before getUpdates is told to forget it, so a process killed mid-burst leaves its
    unfinished updates to the next one (at-least-once), without holding back Telegram's queue for
    the updates behind a slow one.
    """

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[str] = mapped_column(Text)  # the update's JSON, as Telegram sent it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

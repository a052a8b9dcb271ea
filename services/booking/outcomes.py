"""What the booking engine answers: holds and bookings as a driver sees them, the outcome of each
action, and the minutes a hold has left. Plain values that handlers render and
`services.booking.engine` hands out. Those of a tap on Next (`TakeResult` and the hold or truck in it)
are slotted dataclasses, not frozen ones, as in `services.booking.takes`: a rush answers thousands a
second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from services.accounts.trucks import TruckView
from services.booking.calendar import Offer
from services.booking.takes import TakeOutcome
from services.storage.models import ReservationStatus


@dataclass(slots=True)
class HoldView:
    id: int
    account_id: int
    truck_id: int
    plate: str
    checkpoint: str
    slot_id: int
    starts_at: datetime
    status: ReservationStatus
    expires_at: datetime
    ref: str | None = None
    chat_id: int | None = None  # the message that shows the hold, when one does
    message_id: int | None = None
    warned: bool = False  # its driver was sent the warning that it ends soon (`Kind.HOLD_ENDING`)


@dataclass(slots=True)
class TakeResult:
    outcome: TakeOutcome
    hold: HoldView | None = None  # HELD, or the truck's existing one for TRUCK_BUSY
    offer: Offer | None = None  # SLOT_FULL / SLOT_GONE: what to show instead (None: nothing free)
    truck: TruckView | None = None  # SLOT_FULL / SLOT_GONE: the truck, to show with the offer; PLATE_BUSY
    until: datetime | None = None  # BANNED, RATING_BLOCKED, HOURLY_LIMIT: when a hold is possible again


class ConfirmOutcome(Enum):
    BOOKED = "booked"
    ALREADY_BOOKED = "already_booked"  # a double tap: the same booking again
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    NOT_FOUND = "not_found"  # unknown, or another account's


@dataclass(frozen=True)
class ConfirmResult:
    outcome: ConfirmOutcome
    booking: HoldView | None = None

    @property
    def ran_out_now(self) -> bool:
        """EXPIRED by this very confirm: past its time, and the expiry worker had not come by, so
        nobody has told its driver (the worker tells only of the holds it expires). `booking` is
        the hold as this confirm found it, still held."""
        return (self.outcome is ConfirmOutcome.EXPIRED and self.booking is not None
                and self.booking.status is ReservationStatus.HELD)


class CancelOutcome(Enum):
    CANCELLED = "cancelled"
    ALREADY_ENDED = "already_ended"  # cancelled, expired or past already: nothing to do
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class CancelResult:
    outcome: CancelOutcome
    reservation: HoldView | None = None


class OfferOutcome(Enum):
    OFFER = "offer"
    NO_SLOTS = "no_slots"  # nothing free within the horizon
    SLOT_GONE = "slot_gone"  # the picked slot filled or passed: `offer` is the first free instead
    TRUCK_BUSY = "truck_busy"  # the picked slot is on a day the truck has a time already: `busy`
    PLATE_BUSY = "plate_busy"  # ... on a day another account's truck with this plate has one
    NOT_YOURS = "not_yours"  # unknown checkpoint, or a truck that is not this account's


@dataclass(frozen=True)
class OfferResult:
    outcome: OfferOutcome
    offer: Offer | None = None
    truck: TruckView | None = None
    picked: bool = False  # the offer is the time the driver picked, not the first free one
    busy: HoldView | None = None  # TRUCK_BUSY: the truck's hold or booking that day


@dataclass(frozen=True)
class DaySlots:
    """The times of one day a truck can be shown, or the truck's time that day already."""

    slots: list[Offer]
    busy: HoldView | None = None
    plate_busy: bool = False  # another account's truck with this plate has a time that day


@dataclass(frozen=True)
class DayShown:
    """A day of "Other time": its free places, or, with `busy`, the truck's own hold or booking at
    the checkpoint that day, which makes the day not bookable (rule 4)."""

    day: date
    free: int
    busy: HoldView | None = None


@dataclass(frozen=True)
class Countdown:
    """A hold about to end, whose driver is to be told so (with the minutes left)."""

    hold: HoldView
    chat_id: int
    message_id: int
    minutes_left: int
    language: str | None


def minutes_left(expires_at: datetime, now: datetime) -> int:
    """Whole minutes a driver still has, rounded up: 14:01 left reads "15 min", 0:20 reads "1 min"."""
    seconds = (expires_at - now).total_seconds()
    return max(0, -int(-seconds // 60))

"""A filter that resolves the booking a /mybookings button names."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery

from handlers.bookings.callbacks import BookingCb
from services.booking.engine import BookingService
from services.kernel.rules import Checkpoint
from services.storage.models import ReservationStatus


class OwnBooking(Filter):
    """Passes `reservation` and its `checkpoint`: the tapping account's own booking, still booked.

    Another account's id (a forged payload), a booking cancelled meanwhile or one at a checkpoint
    no longer configured does not pass.
    """

    async def __call__(self, query: CallbackQuery, callback_data: BookingCb, booking: BookingService,
                       checkpoints: dict[str, Checkpoint]) -> dict[str, Any] | bool:
        found = await booking.get(query.from_user.id, callback_data.booking_id)
        if found is None or found.status is not ReservationStatus.BOOKED or found.checkpoint not in checkpoints:
            return False
        return {"reservation": found, "checkpoint": checkpoints[found.checkpoint]}

"""The buttons of the time shown (◀ Back, Other time, a day, Cancel) edit its message; Next turns that
message into the hold. A slow phone may still show the old buttons after Next, and a tap on one of
them must not hide the hold it made: a hold is left only by its Cancel. So these screens are shown
in place unless the message is a running hold's (or the booking it became), which is shown again
instead; and looked at once more after the edit, for a Next whose hold was taken meanwhile."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from handlers.booking import screens
from handlers.common.replies import replace
from handlers.common.screen import Screen
from services.booking.engine import BookingService
from services.booking.outcomes import HoldView
from services.kernel.clock import Clock
from services.kernel.rules import Checkpoint
from services.storage.models import ReservationStatus


async def replace_unless_held(query: CallbackQuery, screen: Screen, booking: BookingService,
                              checkpoints: dict[str, Checkpoint], clock: Clock, language: str) -> bool:
    """Show `screen` in place of the tapped message, unless it shows a hold or booking: then that
    again, and False."""
    if await _show_held(query, booking, checkpoints, clock, language):
        return False
    await replace(query, screen)
    return not await _show_held(query, booking, checkpoints, clock, language)


async def _show_held(query: CallbackQuery, booking: BookingService, checkpoints: dict[str, Checkpoint],
                     clock: Clock, language: str) -> bool:
    held = await _held_here(query, booking)
    checkpoint = checkpoints.get(held.checkpoint) if held is not None else None
    if checkpoint is None:
        return False
    now = clock.now()
    await replace(query, screens.hold(checkpoint, held, now, language) if held.status is ReservationStatus.HELD
                  else screens.booked(checkpoint, held, language, now))
    return True


async def _held_here(query: CallbackQuery, booking: BookingService) -> HoldView | None:
    tapped = query.message
    if not isinstance(tapped, Message):
        return None
    return next((held for held in await booking.upcoming(query.from_user.id)
                 if (held.chat_id, held.message_id) == (tapped.chat.id, tapped.message_id)), None)

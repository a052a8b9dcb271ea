"""A hold's buttons, Confirm and Cancel: the booking shows them under a hold and answers them;
/mybookings shows them under each hold still pending, and the countdown's warning under the hold
about to end. Here, below both features, so that neither imports the other."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.common.payloads import RowId
from handlers.common.replies import alert
from handlers.common.screen import stale_button
from services.booking.engine import BookingService
from services.booking.outcomes import ConfirmResult
from services.kernel.rules import Checkpoint


class HoldAction(StrEnum):
    CONFIRM = "y"
    CANCEL = "x"


class HoldCb(CallbackData, prefix="hd"):
    action: HoldAction
    hold_id: RowId


async def confirm_tapped(query: CallbackQuery, hold_id: int, booking: BookingService,
                         checkpoints: dict[str, Checkpoint],
                         callback_answer: CallbackAnswer) -> tuple[ConfirmResult, Checkpoint] | None:
    """Confirm, under a hold, its warning or in /mybookings: the outcome and the hold's checkpoint.
    None, the stale-button alert given, for a hold not this account's (a forged button) or at a
    checkpoint no longer configured."""
    result = await booking.confirm(query.from_user.id, hold_id)
    held = result.booking
    checkpoint = checkpoints.get(held.checkpoint) if held else None
    if checkpoint is None:
        alert(callback_answer, stale_button())
        return None
    return result, checkpoint

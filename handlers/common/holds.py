"""A hold's buttons, Confirm and Cancel: the booking shows them under a hold and answers them;
/mybookings shows them under each hold still pending, and the countdown's warning under the hold
about to end. Here, below both features, so that neither imports the other."""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from handlers.common.payloads import RowId


class HoldAction(StrEnum):
    CONFIRM = "y"
    CANCEL = "x"


class HoldCb(CallbackData, prefix="hd"):
    action: HoldAction
    hold_id: RowId

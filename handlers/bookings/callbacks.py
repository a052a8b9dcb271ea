"""Button payloads of /mybookings."""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from handlers.common.payloads import PageNumber, RowId


class BookingAction(StrEnum):
    ASK_CANCEL = "a"
    CANCEL = "c"
    KEEP = "k"
    ON_WAY = "w"  # from the reminder before the time


class BookingCb(CallbackData, prefix="bk"):
    action: BookingAction
    booking_id: RowId


class BookingsPageCb(CallbackData, prefix="bp"):
    page: PageNumber

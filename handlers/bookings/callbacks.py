"""Button payloads of /mybookings."""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class BookingAction(StrEnum):
    ASK_CANCEL = "a"
    CANCEL = "c"
    KEEP = "k"


class BookingCb(CallbackData, prefix="bk"):
    action: BookingAction
    booking_id: int


class BookingsPageCb(CallbackData, prefix="bp"):
    page: int

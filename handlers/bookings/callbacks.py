"""Button payloads of /mybookings."""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from handlers.common.holds import HoldAction
from handlers.common.payloads import Day, PageNumber, RowId


class BookingAction(StrEnum):
    ASK_CANCEL = "a"
    CANCEL = "c"
    KEEP = "k"
    ON_WAY = "w"  # from the reminder before the time
    OTHER_TIME = "o"  # the days to move the booking to
    LIST = "l"  # ◀ Back from those days: the page of /mybookings that lists the booking


class BookingCb(CallbackData, prefix="bk"):
    action: BookingAction
    booking_id: RowId


class BookingsPageCb(CallbackData, prefix="bp"):
    page: PageNumber


class ListHoldCb(CallbackData, prefix="lh"):
    """Confirm or Cancel on a hold listed in /mybookings: answered by re-rendering the list's page, so
    the other entries keep their buttons (the hold's own message uses `handlers.common.holds.HoldCb`)."""

    action: HoldAction
    hold_id: RowId
    page: PageNumber


class MoveDayCb(CallbackData, prefix="md"):
    """A day to move the booking to: its free times."""

    booking_id: RowId
    day: Day


class MoveCb(CallbackData, prefix="mv"):
    """The time to move the booking to."""

    booking_id: RowId
    slot_id: RowId

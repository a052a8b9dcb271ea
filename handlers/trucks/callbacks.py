"""Button payloads of the trucks feature: the list's pages and a truck's menu (its notices, its trailer,
its removal), a truck added, the trucks registered with the phone, linking by phone.

The wire format of a payload already sent stays as it was: the buttons in drivers' chats keep working.
"""

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from handlers.common.payloads import PageNumber, RowIdOrZero


class TruckAction(StrEnum):
    ADD = "a"
    ASK_REMOVE = "r"  # the list's Remove buttons before the menus (still in old messages)
    REMOVE = "y"
    KEEP = "k"
    SKIP_TRAILER = "s"
    BACK_TO_PLATE = "b"  # from the trailer's question: the truck just added is undone, its plate asked again


class TruckCb(CallbackData, prefix="tr"):
    action: TruckAction
    truck_id: RowIdOrZero = 0  # Add names no truck yet


class MenuAction(StrEnum):
    LIST = "l"  # a page of the list (names no truck)
    OPEN = "o"  # a truck's menu
    NOTICES_ON = "n"
    NOTICES_OFF = "f"
    TRAILER = "t"  # ask for a trailer's plate, new or another
    DROP_TRAILER = "d"
    ASK_REMOVE = "r"
    REMOVE = "y"
    KEEP = "k"


class MenuCb(CallbackData, prefix="tm"):
    """The list of /trucks and an own truck's menu; `page` is the list's page to come back to."""

    action: MenuAction
    truck_id: RowIdOrZero = 0
    page: PageNumber = 1


# A canonical plate (services.accounts.plates): letters of the seven countries' alphabets and digits, at most
# 16 characters as stored. Whether the account may follow it is the service's to say.
Plate = Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[^\W_]+$")]


class FollowCb(CallbackData, prefix="fw"):
    """The bells of the list before the menus (still in old messages)."""

    on: bool
    plate: Plate


class PhoneAction(StrEnum):
    OPEN = "o"
    NOTICES_ON = "n"
    NOTICES_OFF = "f"


class PhoneTruckCb(CallbackData, prefix="pt"):
    """The menu of a truck registered with the driver's phone, which is not one of the account's own:
    named by its plate, since the account has no truck row of it."""

    action: PhoneAction
    plate: Plate
    page: PageNumber = 1


class PhoneCb(CallbackData, prefix="ph"):
    pass

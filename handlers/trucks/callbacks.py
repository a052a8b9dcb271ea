"""Button payloads of the trucks feature: a truck added or removed, its notices on or off, linking by phone."""

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from handlers.common.payloads import RowIdOrZero


class TruckAction(StrEnum):
    ADD = "a"
    ASK_REMOVE = "r"
    REMOVE = "y"
    KEEP = "k"
    SKIP_TRAILER = "s"


class TruckCb(CallbackData, prefix="tr"):
    action: TruckAction
    truck_id: RowIdOrZero = 0  # Add names no truck yet


# A canonical plate (services.accounts.plates): letters of the seven countries' alphabets and digits, at most
# 16 characters as stored. Whether the account may follow it is the service's to say.
Plate = Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[^\W_]+$")]


class FollowCb(CallbackData, prefix="fw"):
    on: bool
    plate: Plate


class PhoneCb(CallbackData, prefix="ph"):
    pass

"""Button payloads of following trucks: notices on or off for a plate, and linking by phone."""

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# A canonical plate (services.accounts.plates): letters of the seven countries' alphabets and digits, at most
# 16 characters as stored. Whether the account may follow it is the service's to say.
Plate = Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[^\W_]+$")]


class FollowCb(CallbackData, prefix="fw"):
    on: bool
    plate: Plate


class PhoneCb(CallbackData, prefix="ph"):
    pass

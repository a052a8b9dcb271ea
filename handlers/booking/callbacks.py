"""Button payloads of the booking conversation. Short prefixes and enum codes keep every payload
far below Telegram's 64 bytes.

Buttons carry everything they need (checkpoint, truck, slot, hold), so a tap works whatever the
conversation state, in any process. A payload is a request, never a permission: filters and
services check that the truck or hold is the tapping account's own.
"""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class CheckpointCb(CallbackData, prefix="cp"):
    checkpoint: str


class TruckPickCb(CallbackData, prefix="tk"):
    checkpoint: str
    truck_id: int


class OfferAction(StrEnum):
    NEXT = "n"
    CANCEL = "c"


class OfferCb(CallbackData, prefix="of"):
    action: OfferAction
    checkpoint: str
    truck_id: int
    slot_id: int


class DaysCb(CallbackData, prefix="ds"):
    checkpoint: str
    truck_id: int


class DayCb(CallbackData, prefix="dy"):
    checkpoint: str
    truck_id: int
    day: str  # ISO date, YYYY-MM-DD


class SlotCb(CallbackData, prefix="sl"):
    checkpoint: str
    truck_id: int
    slot_id: int


class HoldAction(StrEnum):
    CONFIRM = "y"
    CANCEL = "x"


class HoldCb(CallbackData, prefix="hd"):
    action: HoldAction
    hold_id: int


class RestartCb(CallbackData, prefix="rs"):
    checkpoint: str
    truck_id: int

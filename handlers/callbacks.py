"""Button payloads. Short prefixes and enum codes keep every payload far below Telegram's 64 bytes.

A payload is a request, never a permission: every handler passes the tapping account to a service,
which checks that the truck, hold or booking is that account's own.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class LanguageCb(CallbackData, prefix="lg"):
    code: str


class CheckpointCb(CallbackData, prefix="cp"):
    code: str


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


class BookingAction(StrEnum):
    ASK_CANCEL = "a"
    CANCEL = "c"
    KEEP = "k"


class BookingCb(CallbackData, prefix="bk"):
    action: BookingAction
    booking_id: int


class BookingsPageCb(CallbackData, prefix="bp"):
    page: int


class TruckAction(StrEnum):
    ADD = "a"
    ASK_REMOVE = "r"
    REMOVE = "y"
    KEEP = "k"
    SKIP_TRAILER = "s"


class TruckCb(CallbackData, prefix="tr"):
    action: TruckAction
    truck_id: int = 0

"""Button payloads of the trucks feature."""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class TruckAction(StrEnum):
    ADD = "a"
    ASK_REMOVE = "r"
    REMOVE = "y"
    KEEP = "k"
    SKIP_TRAILER = "s"


class TruckCb(CallbackData, prefix="tr"):
    action: TruckAction
    truck_id: int = 0

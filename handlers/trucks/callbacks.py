"""Button payloads of the trucks feature."""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

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

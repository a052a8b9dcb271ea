"""Button payloads of the booking conversation. Short prefixes and enum codes keep every payload
far below Telegram's 64 bytes.

Buttons carry everything they need (checkpoint, truck, slot, hold), so a tap works whatever the
conversation state, in any process. A payload is a request, never a permission: filters and
services check that the truck or hold is the tapping account's own. Every field is typed and
bounded (`handlers.common.payloads`), so a forged payload reaches no handler.
"""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from handlers.common.payloads import CheckpointCode, Day, RowId, RowIdOrZero


class CheckpointCb(CallbackData, prefix="cp"):
    checkpoint: CheckpointCode


class CheckpointsCb(CallbackData, prefix="cl"):
    """◀ Back to the list of checkpoints: from the choice of a truck, or from no free times."""


class BeforeOfferCb(CallbackData, prefix="bo"):
    """◀ Back from the first free time: the choice of a truck, or the checkpoints when there is one truck."""

    checkpoint: CheckpointCode


class TruckPickCb(CallbackData, prefix="tk"):
    checkpoint: CheckpointCode
    truck_id: RowId


class OfferAction(StrEnum):
    NEXT = "n"
    CANCEL = "c"


class OfferCb(CallbackData, prefix="of"):
    action: OfferAction
    checkpoint: CheckpointCode
    truck_id: RowId
    slot_id: RowIdOrZero  # Cancel, on the day and time screens, names no slot


class DaysCb(CallbackData, prefix="ds"):
    checkpoint: CheckpointCode
    truck_id: RowId


class DayCb(CallbackData, prefix="dy"):
    checkpoint: CheckpointCode
    truck_id: RowId
    day: Day


class SlotCb(CallbackData, prefix="sl"):
    checkpoint: CheckpointCode
    truck_id: RowId
    slot_id: RowId


class RestartCb(CallbackData, prefix="rs"):
    checkpoint: CheckpointCode
    truck_id: RowId

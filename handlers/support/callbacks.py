"""Button payloads of support, in the driver's chat: close my ticket, and rate it once closed."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from handlers.common.payloads import RowId

Stars = Annotated[int, Field(ge=1, le=5)]


class CloseTicketCb(CallbackData, prefix="sc"):
    ticket_id: RowId


class RateTicketCb(CallbackData, prefix="sr"):
    ticket_id: RowId
    stars: Stars

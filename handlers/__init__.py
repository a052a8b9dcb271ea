"""aiogram routers, one package per feature: `router.py` (a fresh Router from `router()`, so tests
and two bots in one process each get their own), `screens.py` (pure rendering), `callbacks.py`
(button payloads), `states.py` (conversation steps). Shared pieces live in `common/`."""

from __future__ import annotations

from aiogram import Dispatcher

from handlers.booking import entry as booking_entry
from handlers.booking import router as booking
from handlers.bookings import router as bookings
from handlers.errors import router as errors
from handlers.fairness import router as fairness
from handlers.fallback import router as fallback
from handlers.operators import router as operators
from handlers.outside import router as outside
from handlers.start import router as start
from handlers.support import router as support
from handlers.trucks import following
from handlers.trucks import router as trucks


def include_all(dispatcher: Dispatcher) -> None:
    """Every feature's router, in the order an update is offered to them; and the entry points by
    which one feature opens another's conversation (`handlers.common.entries`), as workflow data.

    `outside` comes first and keeps taps from groups and inline messages away from every feature;
    then `start`, so /start, /help, /language and /cancel work at any step; `fallback` comes last
    and answers whatever no feature took (`support`, just before it, takes what a driver with an open
    ticket writes outside a step, and the agents' replies in its group); `errors` answers faults of all of them.
    """
    dispatcher["open_booking"] = booking_entry.open_booking
    dispatcher.include_routers(
        outside.router(), start.router(), operators.router(), trucks.router(), following.router(), booking.router(), bookings.router(),
        fairness.router(), support.router(), fallback.router(),
        errors.router(),
    )

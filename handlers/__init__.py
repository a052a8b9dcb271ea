"""aiogram routers, one package per feature: `router.py` (a fresh Router from `router()`, so tests
and two bots in one process each get their own), `screens.py` (pure rendering), `callbacks.py`
(button payloads). Shared pieces live in `common/`: the conversation steps, the entry points by which
one feature opens another's conversation, the chat kinds, and what two features show alike. No
feature imports another: each imports `common` and the services only.
"""

from __future__ import annotations

from aiogram import Dispatcher, Router

from handlers.booking import entry as booking_entry
from handlers.booking import router as booking
from handlers.bookings import router as bookings
from handlers.common.chats import PrivateChat, Supergroup
from handlers.common.conversation import CommandsLeaveSteps
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
    """Every feature's router, under the router of the chat kind it serves, in the order an update
    is offered to them; and the entry points by which one feature opens another's conversation
    (`handlers.common.entries`), as workflow data.

    Private chats: `start` first, so /start, /help, /language and /cancel work at any step;
    `fallback` last, answering whatever no feature took (`support`, just before it, takes what a
    driver with an open ticket writes outside a step). The agents' group: the agents' replies and
    commands. Then `outside` answers the taps that no private chat's router took: those on a
    message in a group, or on an inline message. `errors` answers the faults of all of them.
    """
    dispatcher["open_booking"] = booking_entry.open_booking
    dispatcher.include_routers(
        private_chats(start.router(), operators.router(), trucks.router(), following.router(), booking.router(),
                      bookings.router(), fairness.router(), support.router(), fallback.router()),
        agents_group(support.agents_router()),
        outside.router(),
        errors.router(),
    )


def private_chats(*features: Router) -> Router:
    """Messages, edits and taps from private chats with the bot, and nothing else, for `features`;
    a command leaves the step it interrupts."""
    parent = Router(name="private_chats")
    for observer in (parent.message, parent.edited_message, parent.callback_query):
        observer.filter(PrivateChat())
    parent.message.outer_middleware(CommandsLeaveSteps())
    parent.include_routers(*features)
    return parent


def agents_group(*features: Router) -> Router:
    """Messages and edits in a supergroup, for `features`, which check that it is the agents' own."""
    parent = Router(name="agents_group")
    for observer in (parent.message, parent.edited_message):
        observer.filter(Supergroup())
    parent.include_routers(*features)
    return parent

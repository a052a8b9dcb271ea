"""The conversation state when it cannot be had (it lives in Redis, and Redis is away).

Every update's state is read before any handler is chosen, so a read that fails would fail every
update, /start and /help too. Instead the state reads as `UNKNOWN`: a handler that needs no state
(/start, /help, /language, the buttons, which carry what they need) runs as ever, a handler
waiting for a step's text is not chosen, and what falls through to the fallback with an unknown
state is asked to try again shortly. A handler that reads the step's data or moves to a step
meets `StateUnavailable`, which the error handler answers the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

UNKNOWN = "conversation:unknown"  # no step of any flow is named so
# The commands of private chats, as each feature registers them (tests/unit/test_routers.py holds
# the two lists together): one of them leaves the step it interrupts. /cancel leaves it itself,
# saying which; a command the bot does not know (a typo) leaves nothing.
LEAVING_COMMANDS = frozenset({"start", "help", "language", "book", "mybookings", "trucks", "support", "myrating",
                              "abusers", "ban", "unban", "annul", "stats"})


class StateUnavailable(Exception):
    """The conversation state could not be read or written: a condition to wait out, not a fault."""


class CommandsLeaveSteps(BaseMiddleware):
    """A command leaves the step it interrupts: a driver asked for a plate who types /support and
    then a question has the question go to the agents, not judged as a plate."""

    async def __call__(self, handler: Callable[[Message, dict[str, Any]], Awaitable[Any]], event: Message,
                       data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if (state is not None and event.chat.type == "private" and data.get("raw_state") not in (None, UNKNOWN)
                and _command(event) in LEAVING_COMMANDS):
            await state.clear()
            data["raw_state"] = None  # what the filters of the handlers after this one read
        return await handler(event, data)


def _command(message: Message) -> str | None:
    """"support" for "/support", "/support@nobat_bot" or "/support question"; None for no command."""
    text = message.text or ""
    if not text.startswith("/") or len(text) < 2:
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()

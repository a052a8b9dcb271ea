"""What the log says of a fault in the bot: ids and kinds, and where in our code it failed; never
what a user wrote or is called, a shared phone number, or the values a button carries. The errors
router, the polling loop, the senders and the workers all log faults this way.

An update is described by its id, its kind, the chat's kind, the account, and what the message
holds (text, contact, photo...) or the button's prefix; an exception as `services.kernel.faults`
describes it, Telegram's own errors speaking too (the Bot API's words).
"""

from __future__ import annotations

from functools import cache

from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message, Update

from services.kernel import faults

SPEAKING = (*faults.SPEAKING, TelegramAPIError)


def code_trace(error: BaseException) -> str:
    """The exception's frames and types, and the messages of those that may speak (Telegram's too)."""
    return faults.code_trace(error, SPEAKING)


def what_failed(error: BaseException) -> str:
    return faults.what_failed(error, SPEAKING)


def update_context(update: Update) -> str:
    """E.g. `callback_query "bk" in a private chat from account 5001`, `message (contact) in a group
    chat from account 42`."""
    said = _kind(update)
    event = update.event if said != "unknown" else None
    if isinstance(event, CallbackQuery):
        prefix = (event.data or "").split(":", 1)[0]
        said += f' "{prefix}"' if prefix in _button_prefixes() else " (an unknown button)"
        event_chat = event.message.chat if event.message is not None else None
    elif isinstance(event, Message):
        said += f" ({getattr(event.content_type, 'value', event.content_type)})"
        event_chat = event.chat
    else:
        event_chat = getattr(event, "chat", None)
    if event_chat is not None:
        said += f" in a {event_chat.type} chat"
    user = getattr(event, "from_user", None)
    if user is not None:
        said += f" from account {user.id}"
    return said


def _kind(update: Update) -> str:
    try:
        return update.event_type
    except Exception:  # a kind aiogram does not know yet
        return "unknown"


@cache
def _button_prefixes() -> frozenset[str]:
    """Our buttons' prefixes: a forged payload's first part, which could be anything, is not logged."""
    found, classes = set(), list(CallbackData.__subclasses__())
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        if cls.__module__.startswith("handlers."):
            found.add(cls.__prefix__)
    return frozenset(found)

"""What the log says of a fault: ids and kinds, and where in our code it failed; never what a user
wrote or is called, a shared phone number, or the values a button carries. The errors router, the
polling loop, the senders and the border system's API all log faults this way.

An update is described by its id, its kind, the chat's kind, the account, and what the message
holds (text, contact, photo...) or the button's prefix; an exception by the frames of code it
passed through and its type. Its message is logged only when it is the operating system's or the
Bot API's words, or SQLAlchemy's (whose engine hides the statement's parameters): any other
exception may have been made with a user's text in it (a ValueError quoting what was typed, a
KeyError of a name, pydantic's report of a payload with its input).
"""

from __future__ import annotations

import traceback
from functools import cache

from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message, Update
from sqlalchemy.exc import SQLAlchemyError

from services.storage import DatabaseUnavailable

# Exceptions whose messages are the system's, Telegram's or the database's words, never a user's.
SPEAKING = (OSError, TelegramAPIError, DatabaseUnavailable, SQLAlchemyError)


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


def code_trace(error: BaseException) -> str:
    """Like Python's traceback, of `error` and the exceptions it came from: every frame, every type,
    and only the messages of SPEAKING exceptions."""
    lines: list[str] = []
    for link in _chain(error):
        if lines:
            lines.append("which led to:\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(link.__traceback__))
        lines.append(what_failed(link) + "\n")
    return "".join(lines).rstrip("\n")


def what_failed(error: BaseException) -> str:
    """The exception in one line: its type, and its message if it is a SPEAKING one."""
    name, module = type(error).__qualname__, type(error).__module__
    name = name if module == "builtins" else f"{module}.{name}"
    if isinstance(error, SPEAKING):
        return f"{name}: {error}"
    return f"{name} (its message is not logged: it may quote a user)"


def _chain(error: BaseException) -> list[BaseException]:
    """The exception and those it came from, the first cause first, as Python prints them."""
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and all(link is not seen for seen in chain):
        chain.append(link)
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    return chain[::-1]


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

"""What the log says of an exception: the frames of code it passed through and its type; its message
only when it is the operating system's or the database's words (or another condition of ours that
says so, a `Condition`), never when it may quote what a user wrote or is called (a ValueError of
what was typed, a KeyError of a name, pydantic's report of a payload with its input).

The bot adds Telegram's own errors to what may speak (`handlers.common.faults`).
"""

from __future__ import annotations

import traceback

from sqlalchemy.exc import SQLAlchemyError


class Condition(Exception):
    """A condition of ours, not a fault of the code, whose message is ours to log (the database did
    not answer in time, say): never made from what a user wrote."""


# Exceptions whose messages are the system's or the database's words, or ours, never a user's.
# SQLAlchemy's engine hides a failed statement's parameters (services.storage.database).
SPEAKING: tuple[type[BaseException], ...] = (OSError, SQLAlchemyError, Condition)


def code_trace(error: BaseException, speaking: tuple[type[BaseException], ...] = SPEAKING) -> str:
    """Like Python's traceback, of `error` and the exceptions it came from: every frame, every type,
    and only the messages of `speaking` exceptions."""
    lines: list[str] = []
    for link in _chain(error):
        if lines:
            lines.append("which led to:\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(link.__traceback__))
        lines.append(what_failed(link, speaking) + "\n")
    return "".join(lines).rstrip("\n")


def what_failed(error: BaseException, speaking: tuple[type[BaseException], ...] = SPEAKING) -> str:
    """The exception in one line: its type, and its message if it is a speaking one."""
    name, module = type(error).__qualname__, type(error).__module__
    name = name if module == "builtins" else f"{module}.{name}"
    if isinstance(error, speaking):
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

"""Everything the features did not take: unknown commands, stray text and media, contacts not the
driver's own, and buttons that no longer mean anything (old, forged, or refused by a feature's
filter). Each gets a short answer in the driver's language; while the conversation state is unknown
(Redis away), "try again shortly"."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.common.conversation import UNKNOWN
from handlers.common.filters import Magic
from handlers.common.replies import alert
from handlers.common.screen import database_busy, not_own_contact, stale_button
from handlers.fallback import screens


def router() -> Router:
    r = Router(name="fallback")
    r.message.register(unknown_command, Magic(F.text.startswith("/")))
    r.message.register(state_unknown, StateFilter(UNKNOWN))
    r.message.register(text_where_a_button_is_expected, Magic(F.text), ~StateFilter(None))
    r.message.register(stray_text, Magic(F.text))
    r.message.register(someone_elses_contact, Magic(F.contact))
    r.message.register(unsupported)
    r.callback_query.register(unknown_button)
    return r


async def unknown_command(message: Message) -> None:
    await message.answer(**screens.unknown_command().as_kwargs())


async def state_unknown(message: Message) -> None:
    """Whether this was a step's answer (a plate, a trailer) cannot be told now: nothing is lost by asking again."""
    await message.answer(**database_busy().as_kwargs())


async def text_where_a_button_is_expected(message: Message) -> None:
    await message.answer(**screens.use_buttons().as_kwargs())


async def stray_text(message: Message) -> None:
    await message.answer(**screens.not_understood().as_kwargs())


async def someone_elses_contact(message: Message) -> None:
    """A contact that is not the driver's own (their own links their trucks), from a driver with no
    ticket to pass it to: the one use of a contact here is that own number."""
    await message.answer(**not_own_contact().as_kwargs())


async def unsupported(message: Message) -> None:
    await message.answer(**screens.unsupported_media().as_kwargs())


async def unknown_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    alert(callback_answer, stale_button())

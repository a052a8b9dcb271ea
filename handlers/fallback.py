"""Everything the other routers did not take: /cancel, unknown commands, stray text and media,
buttons we no longer understand. Each gets a short answer in the driver's language."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from handlers import screens
from handlers.routes import Routes

commands = Routes("commands")
commands.message.filter(F.chat.type == "private")

router = Routes("fallback")
router.message.filter(F.chat.type == "private")


@commands.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    was = await state.get_state()
    await state.clear()
    await message.answer(**screens.stopped(was is not None).as_kwargs())


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer(**screens.unknown_command().as_kwargs())


@router.message(F.text, ~StateFilter(None))
async def text_where_a_button_is_expected(message: Message) -> None:
    await message.answer(**screens.use_buttons().as_kwargs())


@router.message(F.text)
async def stray_text(message: Message) -> None:
    await message.answer(**screens.not_understood().as_kwargs())


@router.message()
async def unsupported(message: Message) -> None:
    await message.answer(**screens.unsupported_media().as_kwargs())


@router.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    await query.answer(screens.stale_button(), show_alert=True)

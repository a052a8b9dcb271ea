"""Start, help and the choice of language."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from handlers import screens
from handlers.routes import Routes
from handlers.callbacks import LanguageCb
from handlers.replies import replace
from services.accounts import AccountService, AccountView
from services.rules import LANGUAGES, BookingRules

router = Routes("start")
router.message.filter(F.chat.type == "private")


@router.message(CommandStart())
async def start(message: Message, account: AccountView, state: FSMContext) -> None:
    await state.clear()  # /start is a fresh beginning, whatever step the driver was in
    if account.language is None:
        await message.answer(**screens.choose_language().as_kwargs())
        return
    await message.answer(**screens.welcome(message.from_user.first_name or "").as_kwargs())


@router.message(Command("language"))
async def ask_language(message: Message) -> None:
    await message.answer(**screens.choose_language().as_kwargs())


@router.callback_query(LanguageCb.filter(F.code.in_(LANGUAGES)))
async def set_language(query: CallbackQuery, callback_data: LanguageCb, accounts: AccountService,
                       i18n: I18n) -> None:
    await accounts.set_language(query.from_user.id, callback_data.code)
    # Answer in the language just chosen, not the one this update arrived in.
    with i18n.use_locale(callback_data.code):
        await replace(query, screens.language_set())
        await query.message.answer(**screens.welcome(query.from_user.first_name or "").as_kwargs())
    await query.answer()


@router.message(Command("help"))
async def show_help(message: Message, rules: BookingRules, language: str) -> None:
    await message.answer(**screens.help_text(rules.hold_minutes, language).as_kwargs())

"""/start, /help, /language and /cancel: the commands that work at any step; and the language asked
first of a driver whose app speaks none of ours, whatever they send (`first_language`)."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, Update
from aiogram.utils.i18n import I18n

from handlers.common.conversation import UNKNOWN
from handlers.common.entries import OpenBooking
from handlers.common.filters import LinkedCheckpoint
from handlers.common.replies import replace
from handlers.common.screen import database_busy
from handlers.start import screens
from handlers.start.callbacks import LanguageCb
from handlers.start.first_language import NoLanguageYet, answer_asked, keep_asked, take_asked
from services.accounts.accounts import AccountService, AccountView
from services.accounts.trucks import TruckService
from services.booking.engine import BookingService
from services.booking.offers import OfferService
from services.kernel.rules import BookingRules, Checkpoint
from services.storage.models import ReservationStatus


def router() -> Router:
    r = Router(name="start")
    r.message.register(start_at_checkpoint, CommandStart(deep_link=True), LinkedCheckpoint())
    r.message.register(start, CommandStart())
    r.message.register(ask_language, Command("language"))
    r.message.register(language_first, NoLanguageYet())  # before every other feature's messages
    r.message.register(show_help, Command("help"))
    r.message.register(cancel, Command("cancel"))
    r.callback_query.register(set_language, LanguageCb.filter())
    return r


async def start(message: Message, account: AccountView, state: FSMContext) -> None:
    await state.clear()  # /start is a fresh beginning, whatever step the driver was in
    if account.language is None:
        await message.answer(**screens.choose_language().as_kwargs())
        return
    await message.answer(**screens.welcome(message.from_user.first_name or "").as_kwargs())


async def start_at_checkpoint(message: Message, checkpoint: Checkpoint, account: AccountView, state: FSMContext,
                              trucks: TruckService, offers: OfferService, checkpoints: dict[str, Checkpoint],
                              rules: BookingRules, open_booking: OpenBooking, language: str) -> None:
    await state.clear()
    if account.language is None:
        # The language first; the checkpoint waits in the conversation until it is chosen.
        await state.update_data(checkpoint=checkpoint.code)
        await message.answer(**screens.choose_language().as_kwargs())
        return
    if not await trucks.list(message.from_user.id):  # a new driver: who the bot is, before the first question
        await message.answer(**screens.greeting(message.from_user.first_name or "").as_kwargs())
    await open_booking(message, message.from_user.id, checkpoint, state, trucks, offers, checkpoints, rules, language)


async def ask_language(message: Message) -> None:
    await message.answer(**screens.choose_language().as_kwargs())


async def language_first(message: Message, state: FSMContext, event_update: Update) -> None:
    await keep_asked(state, message, event_update)
    await message.answer(**screens.choose_language().as_kwargs())


async def set_language(query: CallbackQuery, callback_data: LanguageCb, accounts: AccountService, i18n: I18n,
                       state: FSMContext, trucks: TruckService, offers: OfferService,
                       checkpoints: dict[str, Checkpoint], rules: BookingRules, open_booking: OpenBooking,
                       dispatcher: Dispatcher, bot: Bot) -> None:
    language = callback_data.code
    await accounts.set_language(query.from_user.id, language)
    asked = await take_asked(state)
    if asked is not None:  # what they sent before choosing: answered now, in the language chosen
        with i18n.use_locale(language):
            await replace(query, screens.language_set(answer_follows=True))
        await answer_asked(asked, dispatcher, bot)
        return
    linked = checkpoints.get((await state.get_data()).get("checkpoint") or "")
    # Answer in the language just chosen, not the one this update arrived in.
    with i18n.use_locale(language):
        await replace(query, screens.language_set(answer_follows=linked is not None))
        if linked is not None:  # came by a checkpoint's link: go on to its first free time
            if not await trucks.list(query.from_user.id):
                await query.message.answer(**screens.greeting(query.from_user.first_name or "").as_kwargs())
            await open_booking(query.message, query.from_user.id, linked, state, trucks, offers, checkpoints, rules,
                               language)
        else:
            await query.message.answer(**screens.welcome(query.from_user.first_name or "").as_kwargs())


async def show_help(message: Message, rules: BookingRules, language: str) -> None:
    await message.answer(**screens.help_text(rules.hold_minutes, language).as_kwargs())


async def cancel(message: Message, state: FSMContext, booking: BookingService, checkpoints: dict[str, Checkpoint],
                 language: str) -> None:
    was = await state.get_state()
    if was == UNKNOWN:  # which step is left cannot be told, nor the leaving kept
        await message.answer(**database_busy().as_kwargs())
        return
    await state.clear()
    # A hold is no step: it runs on, and ends in the rating, unless the driver cancels it.
    holds = [held for held in await booking.upcoming(message.from_user.id)
             if held.status is ReservationStatus.HELD and held.checkpoint in checkpoints]
    if holds:
        await message.answer(**screens.stopped_but_holding(holds, checkpoints, language).as_kwargs())
        return
    await message.answer(**screens.stopped(was is not None).as_kwargs())

"""/trucks: add a truck by plate (with an optional trailer), list them, remove one."""

from __future__ import annotations

from contextlib import suppress

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.common.entries import OpenBooking, ask_plate
from handlers.common.filters import Magic, OwnTruck
from handlers.common.replies import alert, replace
from handlers.common.screen import Screen
from handlers.common.states import TruckFlow
from handlers.trucks import screens
from handlers.trucks.callbacks import TruckAction, TruckCb
from services.accounts.follows import FollowService
from services.accounts.trucks import AddTruckOutcome, RemoveTruckOutcome, TruckService, TruckView
from services.booking.offers import OfferService
from services.kernel.rules import BookingRules, Checkpoint

typed = Magic(F.text & ~F.text.startswith("/"))  # a command typed mid-step goes to its own handler


def router() -> Router:
    r = Router(name="trucks")
    r.message.register(list_trucks, Command("trucks"))
    r.message.register(plate_entered, TruckFlow.entering_plate, typed)
    r.message.register(trailer_entered, TruckFlow.entering_trailer, typed)
    r.callback_query.register(start_adding, TruckCb.filter(F.action == TruckAction.ADD))
    r.callback_query.register(trailer_skipped, TruckCb.filter(F.action == TruckAction.SKIP_TRAILER), OwnTruck())
    r.callback_query.register(ask_remove, TruckCb.filter(F.action == TruckAction.ASK_REMOVE), OwnTruck())
    r.callback_query.register(remove, TruckCb.filter(F.action == TruckAction.REMOVE))
    r.callback_query.register(keep, TruckCb.filter(F.action == TruckAction.KEEP))
    return r


async def list_trucks(message: Message, trucks: TruckService, follows: FollowService, language: str) -> None:
    await message.answer(**(await listing(message.from_user.id, trucks, follows, language)).as_kwargs())


async def listing(account_id: int, trucks: TruckService, follows: FollowService, language: str) -> Screen:
    """/trucks: the account's trucks and what sends its notices here."""
    return screens.trucks_list(await trucks.list(account_id), language, await follows.followable(account_id))


async def start_adding(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(TruckFlow.entering_plate)
    await state.update_data(then_book=False)
    await query.message.answer(**ask_plate().as_kwargs())


async def plate_entered(message: Message, state: FSMContext, trucks: TruckService, language: str) -> None:
    result = await trucks.add(message.from_user.id, message.text)
    if result.outcome is AddTruckOutcome.ADDED:
        await state.set_state(TruckFlow.entering_trailer)
        asked = await message.answer(**screens.ask_trailer(result.truck, language).as_kwargs())
        await state.update_data(truck_id=result.truck.id, trailer_question=asked.message_id)
    elif result.outcome is AddTruckOutcome.DUPLICATE:
        await message.answer(**screens.truck_duplicate(result.truck, language).as_kwargs())
    elif result.outcome is AddTruckOutcome.TOO_MANY:
        await state.clear()
        await message.answer(**screens.too_many_trucks().as_kwargs())
    elif result.outcome is AddTruckOutcome.TRAILER_PLATE:
        await message.answer(**screens.trailer_plate_as_truck().as_kwargs())
    else:
        await message.answer(**screens.invalid_plate(language).as_kwargs())


async def trailer_entered(message: Message, state: FSMContext, trucks: TruckService, offers: OfferService,
                          follows: FollowService, checkpoints: dict[str, Checkpoint], rules: BookingRules,
                          open_booking: OpenBooking, language: str) -> None:
    data = await state.get_data()
    result = await trucks.set_trailer(message.from_user.id, data.get("truck_id", 0), message.text)
    if result.outcome is AddTruckOutcome.INVALID_TRAILER:
        await message.answer(**screens.invalid_plate(language).as_kwargs())
        return
    if result.outcome is AddTruckOutcome.NOT_FOUND:  # the truck was removed meanwhile
        await state.clear()
        await message.answer(**(await listing(message.from_user.id, trucks, follows, language)).as_kwargs())
        return
    # The trailer is typed: the question's Skip button has nothing left to skip.
    with suppress(TelegramBadRequest):
        await message.bot.edit_message_reply_markup(chat_id=message.chat.id, message_id=data.get("trailer_question"))
    await _finish(message, message.from_user.id, state, result.truck, trucks, offers, checkpoints, rules,
                  open_booking, language)


async def trailer_skipped(query: CallbackQuery, truck: TruckView, state: FSMContext, trucks: TruckService,
                          offers: OfferService, checkpoints: dict[str, Checkpoint], rules: BookingRules,
                          open_booking: OpenBooking, language: str) -> None:
    await query.message.edit_reply_markup(reply_markup=None)
    if await state.get_state() == TruckFlow.entering_trailer:
        await _finish(query.message, query.from_user.id, state, truck, trucks, offers, checkpoints, rules,
                      open_booking, language)


async def _finish(message: Message, account_id: int, state: FSMContext, truck: TruckView, trucks: TruckService,
                  offers: OfferService, checkpoints: dict[str, Checkpoint], rules: BookingRules,
                  open_booking: OpenBooking, language: str) -> None:
    """The truck is saved. A driver who came here from /book goes on to choose the checkpoint, or
    straight to its first free time when a link named the checkpoint."""
    data = await state.get_data()
    then_book = data.get("then_book", False)
    await message.answer(**screens.truck_added(truck, language, then_book).as_kwargs())
    if then_book:
        checkpoint = checkpoints.get(data.get("checkpoint") or "")
        await open_booking(message, account_id, checkpoint, state, trucks, offers, checkpoints, rules, language)
    else:
        await state.clear()


async def ask_remove(query: CallbackQuery, truck: TruckView, language: str) -> None:
    await replace(query, screens.ask_remove_truck(truck, language))


async def remove(query: CallbackQuery, callback_data: TruckCb, trucks: TruckService, follows: FollowService,
                 language: str, callback_answer: CallbackAnswer) -> None:
    outcome = await trucks.remove(query.from_user.id, callback_data.truck_id)
    if outcome is RemoveTruckOutcome.HAS_BOOKINGS:
        alert(callback_answer, screens.truck_has_bookings())
        return
    # Removed now, or already by an earlier tap: either way the list below is the truth.
    await replace(query, await listing(query.from_user.id, trucks, follows, language))


async def keep(query: CallbackQuery, trucks: TruckService, follows: FollowService, language: str) -> None:
    await replace(query, await listing(query.from_user.id, trucks, follows, language))

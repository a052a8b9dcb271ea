"""A driver's or dispatcher's trucks: add by plate (with an optional trailer), list, remove."""

from __future__ import annotations

from contextlib import suppress

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from handlers import screens
from handlers.routes import Routes
from handlers.callbacks import TruckAction, TruckCb
from handlers.replies import replace
from handlers.states import BookingFlow, TruckFlow
from services.rules import Checkpoint
from services.trucks import AddTruckOutcome, RemoveTruckOutcome, TruckService

router = Routes("trucks")
router.message.filter(F.chat.type == "private")


@router.message(Command("trucks"))
async def list_trucks(message: Message, trucks: TruckService, language: str) -> None:
    found = await trucks.list(message.from_user.id)
    await message.answer(**screens.trucks_list(found, language).as_kwargs())


@router.callback_query(TruckCb.filter(F.action == TruckAction.ADD))
async def start_adding(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(TruckFlow.entering_plate)
    await state.update_data(then_book=False)
    await query.message.answer(**screens.ask_plate().as_kwargs())
    await query.answer()


@router.message(TruckFlow.entering_plate, F.text & ~F.text.startswith("/"))
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
    else:
        await message.answer(**screens.invalid_plate().as_kwargs())


@router.message(TruckFlow.entering_trailer, F.text & ~F.text.startswith("/"))
async def trailer_entered(message: Message, state: FSMContext, trucks: TruckService,
                          checkpoints: dict[str, Checkpoint], language: str) -> None:
    data = await state.get_data()
    result = await trucks.set_trailer(message.from_user.id, data.get("truck_id", 0), message.text)
    if result.outcome is AddTruckOutcome.INVALID_TRAILER:
        await message.answer(**screens.invalid_plate().as_kwargs())
        return
    if result.outcome is AddTruckOutcome.NOT_FOUND:  # the truck was removed meanwhile
        await state.clear()
        await message.answer(**screens.trucks_list(await trucks.list(message.from_user.id), language).as_kwargs())
        return
    # The trailer is typed: the question's Skip button has nothing left to skip.
    with suppress(TelegramBadRequest):
        await message.bot.edit_message_reply_markup(chat_id=message.chat.id, message_id=data.get("trailer_question"))
    await _finish(message, state, result.truck, checkpoints, language)


@router.callback_query(TruckCb.filter(F.action == TruckAction.SKIP_TRAILER))
async def trailer_skipped(query: CallbackQuery, callback_data: TruckCb, state: FSMContext, trucks: TruckService,
                          checkpoints: dict[str, Checkpoint], language: str) -> None:
    truck = await trucks.get(query.from_user.id, callback_data.truck_id)
    if truck is None:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if await state.get_state() == TruckFlow.entering_trailer:
        await _finish(query.message, state, truck, checkpoints, language)
    await query.answer()


async def _finish(message: Message, state: FSMContext, truck, checkpoints: dict[str, Checkpoint],
                  language: str) -> None:
    then_book = (await state.get_data()).get("then_book", False)
    await message.answer(**screens.truck_added(truck, language, then_book).as_kwargs())
    if then_book:
        await state.set_state(BookingFlow.choosing_checkpoint)
        await message.answer(**screens.choose_checkpoint(list(checkpoints.values()), language).as_kwargs())
    else:
        await state.clear()


@router.callback_query(TruckCb.filter(F.action == TruckAction.ASK_REMOVE))
async def ask_remove(query: CallbackQuery, callback_data: TruckCb, trucks: TruckService, language: str) -> None:
    truck = await trucks.get(query.from_user.id, callback_data.truck_id)
    if truck is None:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    await replace(query, screens.ask_remove_truck(truck, language))
    await query.answer()


@router.callback_query(TruckCb.filter(F.action == TruckAction.REMOVE))
async def remove(query: CallbackQuery, callback_data: TruckCb, trucks: TruckService, language: str) -> None:
    outcome = await trucks.remove(query.from_user.id, callback_data.truck_id)
    if outcome is RemoveTruckOutcome.HAS_BOOKINGS:
        await query.answer(screens.truck_has_bookings().text, show_alert=True)
        return
    # Removed now, or already by an earlier tap: either way the list below is the truth.
    await replace(query, screens.trucks_list(await trucks.list(query.from_user.id), language))
    await query.answer()


@router.callback_query(TruckCb.filter(F.action == TruckAction.KEEP))
async def keep(query: CallbackQuery, trucks: TruckService, language: str) -> None:
    await replace(query, screens.trucks_list(await trucks.list(query.from_user.id), language))
    await query.answer()

"""/trucks: the trucks in pages, a truck's menu (its notices, its trailer added, changed or removed, the
truck removed), adding a truck by plate (with an optional trailer, and ◀ Back from it to the plate)."""

from __future__ import annotations

import asyncio
from contextlib import suppress

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.common.entries import OpenBooking, ask_plate
from handlers.common.filters import Magic, OwnTruck
from handlers.common.follow_ups import Go, GoCb, leave_step
from handlers.common.replies import alert, replace
from handlers.common.screen import Screen, stale_button
from handlers.common.states import TruckFlow
from handlers.trucks import screens
from handlers.trucks.callbacks import MenuAction, MenuCb, TruckAction, TruckCb
from services.accounts.follows import FollowService
from services.accounts.trucks import AddTruckOutcome, RemoveTruckOutcome, TruckService, TruckView
from services.booking.offers import OfferService
from services.kernel.rules import BookingRules, Checkpoint

QUESTION_PATIENCE_SECONDS = 2.0  # how long a typed trailer waits for its question's id to be written
typed = Magic(F.text & ~F.text.startswith("/"))  # a command typed mid-step goes to its own handler


def router() -> Router:
    r = Router(name="trucks")
    r.message.register(list_trucks, Command("trucks"))
    r.callback_query.register(trucks_tapped, GoCb.filter(F.to == Go.TRUCKS))
    r.message.register(plate_entered, TruckFlow.entering_plate, typed)
    r.message.register(trailer_entered, TruckFlow.entering_trailer, typed)
    r.callback_query.register(start_adding, TruckCb.filter(F.action == TruckAction.ADD))
    r.callback_query.register(trailer_skipped, TruckCb.filter(F.action == TruckAction.SKIP_TRAILER), OwnTruck())
    r.callback_query.register(back_to_plate, TruckCb.filter(F.action == TruckAction.BACK_TO_PLATE), OwnTruck())
    r.callback_query.register(page_of_list, MenuCb.filter(F.action == MenuAction.LIST))
    r.callback_query.register(open_menu, MenuCb.filter(F.action == MenuAction.OPEN), OwnTruck())
    r.callback_query.register(set_notices, MenuCb.filter(F.action.in_({MenuAction.NOTICES_ON, MenuAction.NOTICES_OFF})),
                              OwnTruck())
    r.callback_query.register(ask_new_trailer, MenuCb.filter(F.action == MenuAction.TRAILER), OwnTruck())
    r.callback_query.register(drop_trailer, MenuCb.filter(F.action == MenuAction.DROP_TRAILER), OwnTruck())
    # The Remove buttons and confirmations sent before the menus name no page: they come back to the first.
    r.callback_query.register(ask_remove, MenuCb.filter(F.action == MenuAction.ASK_REMOVE), OwnTruck())
    r.callback_query.register(ask_remove, TruckCb.filter(F.action == TruckAction.ASK_REMOVE), OwnTruck())
    r.callback_query.register(remove, MenuCb.filter(F.action == MenuAction.REMOVE))
    r.callback_query.register(remove, TruckCb.filter(F.action == TruckAction.REMOVE))
    r.callback_query.register(keep, MenuCb.filter(F.action == MenuAction.KEEP))
    r.callback_query.register(keep, TruckCb.filter(F.action == TruckAction.KEEP))
    return r


async def list_trucks(message: Message, trucks: TruckService, follows: FollowService, language: str) -> None:
    await message.answer(**(await listing(message.from_user.id, trucks, follows, language)).as_kwargs())


async def trucks_tapped(query: CallbackQuery, state: FSMContext, raw_state: str | None, trucks: TruckService,
                        follows: FollowService, language: str) -> None:
    """🚛 under a message that named /trucks: the list, in a new message, as the command shows it."""
    await leave_step(state, raw_state)
    await query.message.answer(**(await listing(query.from_user.id, trucks, follows, language)).as_kwargs())


async def listing(account_id: int, trucks: TruckService, follows: FollowService, language: str,
                  page: int = 1) -> Screen:
    """/trucks: the account's trucks and what sends its notices here, a page of them."""
    return screens.trucks_list(await trucks.list(account_id), language, await follows.followable(account_id), page)


async def truck_menu(account_id: int, truck: TruckView, follows: FollowService, language: str, page: int) -> Screen:
    item = next((item for item in await follows.followable(account_id) if item.plate == truck.plate), None)
    return screens.truck_menu(truck, item, language, page)


def _page(callback_data: TruckCb | MenuCb) -> int:
    return getattr(callback_data, "page", 1)


async def page_of_list(query: CallbackQuery, callback_data: MenuCb, trucks: TruckService, follows: FollowService,
                       state: FSMContext, language: str) -> None:
    await _leave_trailer_change(state)
    await replace(query, await listing(query.from_user.id, trucks, follows, language, callback_data.page))


async def open_menu(query: CallbackQuery, callback_data: MenuCb, truck: TruckView, follows: FollowService,
                    state: FSMContext, language: str) -> None:
    await _leave_trailer_change(state)
    await replace(query, await truck_menu(query.from_user.id, truck, follows, language, callback_data.page))


async def _leave_trailer_change(state: FSMContext) -> None:
    """Back from the question of a trailer's change: the typed text is no longer a trailer. A truck's
    adding (maybe on the way to /book) goes on."""
    if await state.get_state() == TruckFlow.entering_trailer and (await state.get_data()).get("changing"):
        await state.clear()


async def set_notices(query: CallbackQuery, callback_data: MenuCb, truck: TruckView, follows: FollowService,
                      language: str, callback_answer: CallbackAnswer) -> None:
    on = callback_data.action is MenuAction.NOTICES_ON
    if not await follows.set_following(query.from_user.id, truck.plate, on):
        alert(callback_answer, stale_button())  # removed between the filter and the change
        return
    await replace(query, await truck_menu(query.from_user.id, truck, follows, language, callback_data.page))


async def ask_new_trailer(query: CallbackQuery, callback_data: MenuCb, truck: TruckView, state: FSMContext,
                          language: str) -> None:
    # The step is written before its question is shown, so that an answer typed at once finds it.
    await state.set_state(TruckFlow.entering_trailer)
    await state.set_data({"truck_id": truck.id, "changing": True, "page": callback_data.page})
    asked = await replace(query, screens.ask_new_trailer(truck, language, callback_data.page))
    await state.update_data(trailer_question=asked.message_id)


async def drop_trailer(query: CallbackQuery, callback_data: MenuCb, truck: TruckView, trucks: TruckService,
                       follows: FollowService, language: str) -> None:
    changed = await trucks.remove_trailer(query.from_user.id, truck.id)
    if changed is None:  # removed meanwhile
        await replace(query, await listing(query.from_user.id, trucks, follows, language, callback_data.page))
        return
    await replace(query, await truck_menu(query.from_user.id, changed, follows, language, callback_data.page))


async def start_adding(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(TruckFlow.entering_plate)
    await state.update_data(then_book=False)
    await query.message.answer(**ask_plate().as_kwargs())


async def plate_entered(message: Message, state: FSMContext, trucks: TruckService, language: str) -> None:
    result = await trucks.add(message.from_user.id, message.text)
    if result.outcome is AddTruckOutcome.ADDED:
        # The step is written before its question is sent: a Skip tapped at once must find it.
        await state.set_state(TruckFlow.entering_trailer)
        await state.update_data(truck_id=result.truck.id)
        asked = await message.answer(**screens.ask_trailer(result.truck, language).as_kwargs())
        await state.update_data(trailer_question=asked.message_id)
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
    # The trailer is typed: the question's Skip (or Back) button has nothing left to do.
    question = await _trailer_question(state, data)
    if question is not None:
        with suppress(TelegramBadRequest):
            await message.bot.edit_message_reply_markup(chat_id=message.chat.id, message_id=question)
    if data.get("changing"):  # from the truck's menu: the menu again, with its new trailer
        await state.clear()
        menu = await truck_menu(message.from_user.id, result.truck, follows, language, data.get("page", 1))
        await message.answer(**menu.as_kwargs())
        return
    await message.answer(**screens.truck_added(result.truck, language, data.get("then_book", False)).as_kwargs())
    await _go_on(message, message.from_user.id, state, trucks, offers, checkpoints, rules, open_booking, language)


async def trailer_skipped(query: CallbackQuery, truck: TruckView, state: FSMContext, trucks: TruckService,
                          offers: OfferService, checkpoints: dict[str, Checkpoint], rules: BookingRules,
                          open_booking: OpenBooking, language: str) -> None:
    """The question becomes the answer: the truck added without a trailer. A Skip of an older question
    (another truck's, or one left by /cancel) only loses its button."""
    data = await state.get_data()
    asking = (await state.get_state() == TruckFlow.entering_trailer and data.get("truck_id") == truck.id
              and not data.get("changing"))
    if truck.trailer_plate is not None:  # a trailer was given since, from the truck's menu
        await query.message.edit_reply_markup(reply_markup=None)
    else:
        await replace(query, screens.truck_added(truck, language, asking and data.get("then_book", False),
                                                 skipped=True))
    if asking:
        await _go_on(query.message, query.from_user.id, state, trucks, offers, checkpoints, rules, open_booking,
                     language)


async def _trailer_question(state: FSMContext, data: dict) -> int | None:
    """The trailer question's message. Its id is written once Telegram has sent it, after the step
    (so that a Skip tapped at once finds the step); a trailer typed at once, handled beside the
    plate that asked for it, may come first: it waits a moment for the id."""
    waited = 0.0
    while data.get("trailer_question") is None and waited < QUESTION_PATIENCE_SECONDS:
        await asyncio.sleep(0.05)
        waited += 0.05
        data = await state.get_data()
    return data.get("trailer_question")


async def back_to_plate(query: CallbackQuery, truck: TruckView, state: FSMContext, trucks: TruckService,
                        callback_answer: CallbackAnswer) -> None:
    """◀ Back on the trailer's question: the truck its plate added is undone, and the plate asked
    again in its place, the step as it was (going on to /book after, if it came from there). An older
    question (its step left, or its trailer typed) only loses its buttons: that truck stays."""
    data = await state.get_data()
    if (await state.get_state() != TruckFlow.entering_trailer or data.get("truck_id") != truck.id
            or data.get("changing")):
        alert(callback_answer, stale_button())
        with suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=None)
        return
    if await trucks.remove(query.from_user.id, truck.id) is RemoveTruckOutcome.HAS_BOOKINGS:
        alert(callback_answer, screens.truck_has_bookings())  # booked from an older message meanwhile
        return
    await state.set_state(TruckFlow.entering_plate)
    await state.update_data(truck_id=None, trailer_question=None)
    await replace(query, ask_plate(first_truck=data.get("then_book", False)))


async def _go_on(message: Message, account_id: int, state: FSMContext, trucks: TruckService, offers: OfferService,
                 checkpoints: dict[str, Checkpoint], rules: BookingRules, open_booking: OpenBooking,
                 language: str) -> None:
    """The truck is saved. A driver who came here from /book goes on to choose the checkpoint, or
    straight to its first free time when a link named the checkpoint."""
    data = await state.get_data()
    if data.get("then_book", False):
        checkpoint = checkpoints.get(data.get("checkpoint") or "")
        await open_booking(message, account_id, checkpoint, state, trucks, offers, checkpoints, rules, language)
    else:
        await state.clear()


async def ask_remove(query: CallbackQuery, callback_data: TruckCb | MenuCb, truck: TruckView, language: str) -> None:
    await replace(query, screens.ask_remove_truck(truck, language, _page(callback_data)))


async def remove(query: CallbackQuery, callback_data: TruckCb | MenuCb, trucks: TruckService, follows: FollowService,
                 language: str, callback_answer: CallbackAnswer) -> None:
    outcome = await trucks.remove(query.from_user.id, callback_data.truck_id)
    if outcome is RemoveTruckOutcome.HAS_BOOKINGS:
        alert(callback_answer, screens.truck_has_bookings())
        return
    # Removed now, or already by an earlier tap: either way the list below is the truth.
    await replace(query, await listing(query.from_user.id, trucks, follows, language, _page(callback_data)))


async def keep(query: CallbackQuery, callback_data: TruckCb | MenuCb, trucks: TruckService, follows: FollowService,
               language: str) -> None:
    """Back to the truck's menu; to the list when the truck is gone, or from an old confirmation."""
    truck = await trucks.get(query.from_user.id, callback_data.truck_id)
    if truck is None or isinstance(callback_data, TruckCb):
        await replace(query, await listing(query.from_user.id, trucks, follows, language, _page(callback_data)))
        return
    await replace(query, await truck_menu(query.from_user.id, truck, follows, language, callback_data.page))

"""The booking conversation: checkpoint → truck → first free time → Next (hold) → Confirm.

Buttons carry everything they need (checkpoint, truck, slot, hold), so a tap works whatever the
conversation state, in any process: a stale or forged button is judged by the services, which
check ownership and the database's truth, never by what this process remembers.
"""

from __future__ import annotations

from datetime import date

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from handlers import screens
from handlers.routes import Routes
from handlers.callbacks import (
    CheckpointCb,
    DayCb,
    DaysCb,
    HoldAction,
    HoldCb,
    OfferAction,
    OfferCb,
    RestartCb,
    SlotCb,
    TruckPickCb,
)
from handlers.replies import replace
from handlers.states import BookingFlow, TruckFlow
from services.booking import (
    BookingService,
    CancelOutcome,
    ConfirmOutcome,
    OfferOutcome,
    TakeOutcome,
    minutes_left,
)
from services.calendar import Calendar
from services.clock import Clock
from services.rules import BookingRules, Checkpoint
from services.trucks import TruckService

router = Routes("booking")
router.message.filter(F.chat.type == "private")


@router.message(Command("book"))
async def book(message: Message, state: FSMContext, trucks: TruckService, checkpoints: dict[str, Checkpoint],
               language: str) -> None:
    if not await trucks.list(message.from_user.id):
        await state.set_state(TruckFlow.entering_plate)
        await state.update_data(then_book=True)
        await message.answer(**screens.ask_plate(first_truck=True).as_kwargs())
        return
    await state.set_state(BookingFlow.choosing_checkpoint)
    await message.answer(**screens.choose_checkpoint(list(checkpoints.values()), language).as_kwargs())


@router.callback_query(CheckpointCb.filter())
async def checkpoint_chosen(query: CallbackQuery, callback_data: CheckpointCb, state: FSMContext,
                            trucks: TruckService, booking: BookingService, checkpoints: dict[str, Checkpoint],
                            rules: BookingRules, language: str) -> None:
    checkpoint = checkpoints.get(callback_data.code)
    owned = await trucks.list(query.from_user.id)
    if checkpoint is None or not owned:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    await state.set_state(BookingFlow.choosing_time)
    if len(owned) == 1:
        await _show_offer(query, booking, checkpoint, owned[0].id, rules, language)
    else:
        await replace(query, screens.choose_truck(checkpoint, owned, language))
        await query.answer()


@router.callback_query(TruckPickCb.filter())
async def truck_chosen(query: CallbackQuery, callback_data: TruckPickCb, booking: BookingService,
                       checkpoints: dict[str, Checkpoint], rules: BookingRules, language: str) -> None:
    await _show_offer(query, booking, checkpoints.get(callback_data.checkpoint), callback_data.truck_id,
                      rules, language)


@router.callback_query(RestartCb.filter())
async def start_again(query: CallbackQuery, callback_data: RestartCb, state: FSMContext, booking: BookingService,
                      checkpoints: dict[str, Checkpoint], rules: BookingRules, language: str) -> None:
    await state.set_state(BookingFlow.choosing_time)
    await _show_offer(query, booking, checkpoints.get(callback_data.checkpoint), callback_data.truck_id,
                      rules, language)


@router.callback_query(SlotCb.filter())
async def slot_chosen(query: CallbackQuery, callback_data: SlotCb, booking: BookingService,
                      checkpoints: dict[str, Checkpoint], rules: BookingRules, language: str) -> None:
    await _show_offer(query, booking, checkpoints.get(callback_data.checkpoint), callback_data.truck_id,
                      rules, language, slot_id=callback_data.slot_id)


async def _show_offer(query: CallbackQuery, booking: BookingService, checkpoint: Checkpoint | None, truck_id: int,
                      rules: BookingRules, language: str, slot_id: int | None = None) -> None:
    if checkpoint is None:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    result = await booking.offer(query.from_user.id, truck_id, checkpoint.code, slot_id)
    if result.outcome is OfferOutcome.NOT_YOURS:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    if result.outcome is OfferOutcome.NO_SLOTS:
        await replace(query, screens.no_slots(checkpoint, language))
    else:
        await replace(query, screens.offer(checkpoint, result.offer, result.truck, rules.hold_minutes, language,
                                           instead_of="gone" if result.outcome is OfferOutcome.SLOT_GONE else None))
    await query.answer()


@router.callback_query(DaysCb.filter())
async def other_time(query: CallbackQuery, callback_data: DaysCb, calendar: Calendar,
                     checkpoints: dict[str, Checkpoint], language: str) -> None:
    checkpoint = checkpoints.get(callback_data.checkpoint)
    if checkpoint is None:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    days = await calendar.free_days(checkpoint)
    await replace(query, screens.choose_day(checkpoint, callback_data.truck_id, days, language))
    await query.answer()


@router.callback_query(DayCb.filter())
async def day_chosen(query: CallbackQuery, callback_data: DayCb, calendar: Calendar,
                     checkpoints: dict[str, Checkpoint], language: str) -> None:
    checkpoint = checkpoints.get(callback_data.checkpoint)
    try:
        day = date.fromisoformat(callback_data.day)
    except ValueError:
        day = None
    if checkpoint is None or day is None:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    slots = await calendar.day_slots(checkpoint, day)
    await replace(query, screens.choose_slot(checkpoint, callback_data.truck_id, day, slots, language))
    await query.answer()


@router.callback_query(OfferCb.filter(F.action == OfferAction.NEXT))
async def take_offered_slot(query: CallbackQuery, callback_data: OfferCb, state: FSMContext,
                            booking: BookingService, checkpoints: dict[str, Checkpoint], rules: BookingRules,
                            clock: Clock, language: str) -> None:
    checkpoint = checkpoints.get(callback_data.checkpoint)
    result = await booking.take(query.from_user.id, callback_data.truck_id, callback_data.slot_id)
    if checkpoint is None or result.outcome is TakeOutcome.NOT_YOURS:
        await query.answer(screens.stale_button(), show_alert=True)
    elif result.outcome is TakeOutcome.HELD:
        await state.set_state(BookingFlow.holding)
        left = minutes_left(result.hold.expires_at, clock.now())
        shown = await replace(query, screens.hold(checkpoint, result.hold, left, language))
        await booking.show_hold_at(result.hold.id, shown.chat.id, shown.message_id, left)
        await query.answer()
    elif result.outcome in (TakeOutcome.SLOT_FULL, TakeOutcome.SLOT_GONE):
        # Filled meanwhile: show the next first free time, with no error (rule 2).
        if result.offer is None:
            await replace(query, screens.no_slots(checkpoint, language))
        else:
            instead_of = "taken" if result.outcome is TakeOutcome.SLOT_FULL else "gone"
            await replace(query, screens.offer(checkpoint, result.offer, result.truck, rules.hold_minutes, language,
                                               instead_of=instead_of))
        await query.answer()
    elif result.outcome is TakeOutcome.HOLD_LIMIT:
        await query.answer(screens.hold_limit(rules.max_active_holds, language), show_alert=True)
    else:
        await query.answer(screens.truck_busy(checkpoint, result.hold, language), show_alert=True)


@router.callback_query(OfferCb.filter(F.action == OfferAction.CANCEL))
async def stop_booking(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await replace(query, screens.booking_stopped())
    await query.answer()


@router.callback_query(HoldCb.filter(F.action == HoldAction.CONFIRM))
async def confirm_hold(query: CallbackQuery, callback_data: HoldCb, state: FSMContext, booking: BookingService,
                       checkpoints: dict[str, Checkpoint], language: str) -> None:
    result = await booking.confirm(query.from_user.id, callback_data.hold_id)
    checkpoint = checkpoints.get(result.booking.checkpoint) if result.booking else None
    if checkpoint is None:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    if result.outcome in (ConfirmOutcome.BOOKED, ConfirmOutcome.ALREADY_BOOKED):
        await state.clear()
        await replace(query, screens.booked(checkpoint, result.booking, language))
    elif result.outcome is ConfirmOutcome.EXPIRED:
        await state.clear()
        await replace(query, screens.hold_expired(checkpoint, result.booking.truck_id))
    else:
        await replace(query, screens.hold_cancelled())
    await query.answer()


@router.callback_query(HoldCb.filter(F.action == HoldAction.CANCEL))
async def cancel_hold(query: CallbackQuery, callback_data: HoldCb, state: FSMContext, booking: BookingService,
                      checkpoints: dict[str, Checkpoint], language: str) -> None:
    result = await booking.cancel_hold(query.from_user.id, callback_data.hold_id)
    if result.outcome is CancelOutcome.NOT_FOUND:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    held = result.reservation
    if held.ref:  # it had become a booking (a Confirm tap won the race): cancelling it is /mybookings' job
        await replace(query, screens.booked(checkpoints[held.checkpoint], held, language))
    else:
        await state.clear()
        await replace(query, screens.hold_cancelled())
    await query.answer()

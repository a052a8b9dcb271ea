"""/book: checkpoint → truck → first free time → Next (hold) → Confirm; ◀ Back on each step after the
first (not on the hold: a hold is left by its Cancel), and each screen shown by a tap sets its step.

A stale or forged button is judged by the filters and the services, which check ownership and the
database's truth, never by what this process remembers. A hold's end is said once: by the message
tapped, or by the expiry's own new message (`bot.outbox.bookings`); the hold's other messages lose
their buttons (`handlers.booking.ended`), and a Confirm or Cancel on a hold already gone and told of
is answered with an alert.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.booking import screens
from handlers.booking.callbacks import (
    BeforeOfferCb,
    CheckpointCb,
    CheckpointsCb,
    DayCb,
    DaysCb,
    OfferAction,
    OfferCb,
    RestartCb,
    SlotCb,
    TruckPickCb,
)
from handlers.booking.ended import drop_buttons_too
from handlers.booking.entry import offer_screen
from handlers.booking.held_here import replace_unless_held
from handlers.common.entries import ask_first_truck
from handlers.common.filters import KnownCheckpoint, OwnTruck
from handlers.common.follow_ups import Go, GoCb, leave_step
from handlers.common.holds import HoldAction, HoldCb, confirm_tapped
from handlers.common.replies import alert, replace, replace_too
from handlers.common.screen import stale_button
from handlers.common.states import BookingFlow
from services.accounts.trucks import TruckService, TruckView
from services.booking.engine import BookingService
from services.booking.offers import OfferOutcome, OfferService
from services.booking.outcomes import CancelOutcome, ConfirmOutcome, HoldView
from services.booking.takes import TakeOutcome
from services.kernel.clock import Clock
from services.kernel.rules import BookingRules, Checkpoint
from services.storage.models import ReservationStatus


def router() -> Router:
    r = Router(name="booking")
    r.message.register(book, Command("book"))
    r.callback_query.register(book_tapped, GoCb.filter(F.to == Go.BOOK))
    r.callback_query.register(checkpoint_chosen, CheckpointCb.filter(), KnownCheckpoint())
    r.callback_query.register(checkpoints_again, CheckpointsCb.filter())
    r.callback_query.register(before_offer, BeforeOfferCb.filter(), KnownCheckpoint())
    r.callback_query.register(truck_chosen, TruckPickCb.filter(), KnownCheckpoint(), OwnTruck())
    r.callback_query.register(start_again, RestartCb.filter(), KnownCheckpoint(), OwnTruck())
    r.callback_query.register(slot_chosen, SlotCb.filter(), KnownCheckpoint(), OwnTruck())
    r.callback_query.register(other_time, DaysCb.filter(), KnownCheckpoint(), OwnTruck())
    r.callback_query.register(day_chosen, DayCb.filter(), KnownCheckpoint(), OwnTruck())
    # Next is the rush's hot path: ownership is checked in the take's own transaction, not here.
    r.callback_query.register(take_offered_slot, OfferCb.filter(F.action == OfferAction.NEXT), KnownCheckpoint())
    r.callback_query.register(stop_booking, OfferCb.filter(F.action == OfferAction.CANCEL))
    r.callback_query.register(confirm_hold, HoldCb.filter(F.action == HoldAction.CONFIRM))
    r.callback_query.register(cancel_hold, HoldCb.filter(F.action == HoldAction.CANCEL))
    return r


async def book(message: Message, state: FSMContext, trucks: TruckService, checkpoints: dict[str, Checkpoint],
               language: str) -> None:
    await _open(message, message.from_user.id, state, trucks, checkpoints, language)


async def book_tapped(query: CallbackQuery, state: FSMContext, raw_state: str | None, trucks: TruckService,
                      checkpoints: dict[str, Checkpoint], language: str) -> None:
    """📅 under a message that ended a step: what /book opens, in a new message."""
    await leave_step(state, raw_state)
    await _open(query.message, query.from_user.id, state, trucks, checkpoints, language)


async def _open(message: Message, account_id: int, state: FSMContext, trucks: TruckService,
                checkpoints: dict[str, Checkpoint], language: str) -> None:
    if not await trucks.list(account_id):
        await ask_first_truck(message, state)
        return
    await state.set_state(BookingFlow.choosing_checkpoint)
    await message.answer(**screens.choose_checkpoint(list(checkpoints.values()), language).as_kwargs())


async def checkpoints_again(query: CallbackQuery, state: FSMContext, checkpoints: dict[str, Checkpoint],
                            language: str) -> None:
    """◀ Back from the choice of a truck, or from no free times: the checkpoints, in place."""
    await state.set_state(BookingFlow.choosing_checkpoint)
    await replace(query, screens.choose_checkpoint(list(checkpoints.values()), language))


async def before_offer(query: CallbackQuery, checkpoint: Checkpoint, state: FSMContext, trucks: TruckService,
                       booking: BookingService, checkpoints: dict[str, Checkpoint], clock: Clock,
                       language: str) -> None:
    """◀ Back from the first free time: the choice of a truck, or of the checkpoint for one truck."""
    owned = await trucks.list(query.from_user.id)
    if len(owned) > 1:
        step, screen = BookingFlow.choosing_time, screens.choose_truck(checkpoint, owned, language)
    else:
        step, screen = BookingFlow.choosing_checkpoint, screens.choose_checkpoint(list(checkpoints.values()), language)
    if await replace_unless_held(query, screen, booking, checkpoints, clock, language):
        await state.set_state(step)


async def checkpoint_chosen(query: CallbackQuery, checkpoint: Checkpoint, state: FSMContext, trucks: TruckService,
                            offers: OfferService, rules: BookingRules, clock: Clock, language: str,
                            callback_answer: CallbackAnswer) -> None:
    owned = await trucks.list(query.from_user.id)
    if not owned:  # removed every truck since the checkpoint list was shown
        alert(callback_answer, stale_button())
        return
    await state.set_state(BookingFlow.choosing_time)
    if len(owned) == 1:
        await _show_offer(query, offers, checkpoint, owned[0], rules, clock, language, callback_answer)
    else:
        await replace(query, screens.choose_truck(checkpoint, owned, language))


async def truck_chosen(query: CallbackQuery, checkpoint: Checkpoint, truck: TruckView, offers: OfferService,
                       rules: BookingRules, clock: Clock, language: str, callback_answer: CallbackAnswer) -> None:
    await _show_offer(query, offers, checkpoint, truck, rules, clock, language, callback_answer)


async def start_again(query: CallbackQuery, checkpoint: Checkpoint, truck: TruckView, state: FSMContext,
                      offers: OfferService, rules: BookingRules, clock: Clock, language: str,
                      callback_answer: CallbackAnswer) -> None:
    await state.set_state(BookingFlow.choosing_time)
    await _show_offer(query, offers, checkpoint, truck, rules, clock, language, callback_answer)


async def slot_chosen(query: CallbackQuery, callback_data: SlotCb, checkpoint: Checkpoint, truck: TruckView,
                      offers: OfferService, rules: BookingRules, clock: Clock, language: str,
                      callback_answer: CallbackAnswer) -> None:
    await _show_offer(query, offers, checkpoint, truck, rules, clock, language, callback_answer,
                      callback_data.slot_id)


async def _show_offer(query: CallbackQuery, offers: OfferService, checkpoint: Checkpoint, truck: TruckView,
                      rules: BookingRules, clock: Clock, language: str, callback_answer: CallbackAnswer,
                      slot_id: int | None = None) -> None:
    result = await offers.offer(query.from_user.id, truck.id, checkpoint.code, slot_id)
    if result.outcome is OfferOutcome.NOT_YOURS:  # removed between the filter and here
        alert(callback_answer, stale_button())
    elif result.outcome is OfferOutcome.TRUCK_BUSY:
        alert(callback_answer, screens.truck_busy(checkpoint, result.busy, language))
    elif result.outcome is OfferOutcome.PLATE_BUSY:
        alert(callback_answer, screens.plate_busy(checkpoint, result.truck, language))
    else:
        await replace(query, offer_screen(result, checkpoint, rules, language, clock.now()))


async def other_time(query: CallbackQuery, checkpoint: Checkpoint, truck: TruckView, state: FSMContext,
                     offers: OfferService, booking: BookingService, checkpoints: dict[str, Checkpoint], clock: Clock,
                     language: str) -> None:
    """Other time on the time shown, or ◀ Days on the times of a day."""
    days = await offers.days(query.from_user.id, truck.id, checkpoint.code)
    if await replace_unless_held(query, screens.choose_day(checkpoint, truck.id, days, language), booking,
                                 checkpoints, clock, language):
        await state.set_state(BookingFlow.choosing_time)


async def day_chosen(query: CallbackQuery, callback_data: DayCb, checkpoint: Checkpoint, truck: TruckView,
                     state: FSMContext, offers: OfferService, booking: BookingService,
                     checkpoints: dict[str, Checkpoint], clock: Clock, language: str,
                     callback_answer: CallbackAnswer) -> None:
    """A day of Other time, or ◀ Back on a time picked there: the times of that day."""
    day = callback_data.day
    found = await offers.day_slots(query.from_user.id, truck.id, checkpoint.code, day)
    if found.plate_busy:
        alert(callback_answer, screens.plate_busy(checkpoint, truck, language))
        return
    if found.busy is not None:  # a day button from before this truck got a time that day
        alert(callback_answer, screens.truck_busy(checkpoint, found.busy, language))
        return
    if await replace_unless_held(query, screens.choose_slot(checkpoint, truck.id, day, found.slots, language),
                                 booking, checkpoints, clock, language):
        await state.set_state(BookingFlow.choosing_time)


async def take_offered_slot(query: CallbackQuery, callback_data: OfferCb, checkpoint: Checkpoint,
                            state: FSMContext, booking: BookingService, rules: BookingRules, clock: Clock,
                            language: str, callback_answer: CallbackAnswer) -> None:
    tapped = query.message if isinstance(query.message, Message) else None
    result = await booking.take(query.from_user.id, callback_data.truck_id, callback_data.slot_id,
                                chat_id=tapped and tapped.chat.id, message_id=tapped and tapped.message_id)
    if result.outcome is TakeOutcome.NOT_YOURS:
        alert(callback_answer, stale_button())
    elif result.outcome is TakeOutcome.HELD:
        callback_answer.text = screens.held_toast(checkpoint, result.hold, language)
        await state.set_state(BookingFlow.holding)
        shown = await replace(query, screens.hold(checkpoint, result.hold, clock.now(), language))
        if tapped is None or shown.message_id != tapped.message_id:
            # The tapped message could not be edited, so the hold lives in a new one.
            await booking.show_hold_at(result.hold.id, shown.chat.id, shown.message_id)
    elif result.outcome in (TakeOutcome.SLOT_FULL, TakeOutcome.SLOT_GONE):
        # Filled meanwhile: show the next first free time, with no error (rule 2).
        if result.offer is None:
            await replace(query, screens.no_slots(checkpoint, language))
        else:
            instead_of = "taken" if result.outcome is TakeOutcome.SLOT_FULL else "gone"
            if instead_of == "taken":
                callback_answer.text = screens.taken_toast(checkpoint, result.offer, language)
            await replace(query, screens.offer(checkpoint, result.offer, result.truck, rules.hold_minutes, language,
                                               instead_of=instead_of, now=clock.now()))
    elif result.outcome is TakeOutcome.HOLD_LIMIT:
        alert(callback_answer, screens.hold_limit(rules.max_active_holds, language))
    elif result.outcome in (TakeOutcome.BANNED, TakeOutcome.RATING_BLOCKED, TakeOutcome.HOURLY_LIMIT):
        alert(callback_answer, screens.paused(result.outcome, result.until, checkpoint, rules.max_holds_per_hour,
                                              language))
    elif result.outcome is TakeOutcome.PLATE_BUSY:
        alert(callback_answer, screens.plate_busy(checkpoint, result.truck, language))
    else:
        alert(callback_answer, screens.truck_busy(checkpoint, result.hold, language))


async def stop_booking(query: CallbackQuery, state: FSMContext, booking: BookingService,
                       checkpoints: dict[str, Checkpoint], clock: Clock, language: str) -> None:
    if await replace_unless_held(query, screens.booking_stopped(), booking, checkpoints, clock, language):
        await state.clear()


async def confirm_hold(query: CallbackQuery, callback_data: HoldCb, state: FSMContext, booking: BookingService,
                       checkpoints: dict[str, Checkpoint], clock: Clock, language: str,
                       callback_answer: CallbackAnswer) -> None:
    confirmed = await confirm_tapped(query, callback_data.hold_id, booking, checkpoints, callback_answer)
    if confirmed is None:
        return
    result, checkpoint = confirmed
    held = result.booking
    if result.outcome in (ConfirmOutcome.BOOKED, ConfirmOutcome.ALREADY_BOOKED):
        await state.clear()
        screen = screens.booked(checkpoint, held, language, clock.now())
        await replace(query, screen)
        await replace_too(query, held.chat_id, held.message_id, screen)
    elif result.ran_out_now:  # nobody else tells of this expiry: the tapped message does, once
        await state.clear()
        await replace(query, screens.hold_expired(checkpoint, held.truck_id))
        await drop_buttons_too(query, held.chat_id, held.message_id)
    else:  # gone before this tap, and told of by its expiry's message or its cancellation
        alert(callback_answer, screens.hold_expired_alert() if result.outcome is ConfirmOutcome.EXPIRED
              else screens.hold_cancelled_alert())
    await _drop_warning(query, booking, held)


async def cancel_hold(query: CallbackQuery, callback_data: HoldCb, state: FSMContext, booking: BookingService,
                      checkpoints: dict[str, Checkpoint], clock: Clock, language: str,
                      callback_answer: CallbackAnswer) -> None:
    result = await booking.cancel_hold(query.from_user.id, callback_data.hold_id)
    held = result.reservation
    if result.outcome is CancelOutcome.NOT_FOUND or (held.ref and held.checkpoint not in checkpoints):
        alert(callback_answer, stale_button())
        return
    if held.status is ReservationStatus.EXPIRED:  # ran out before the tap: nothing was booked, and it said so
        alert(callback_answer, screens.hold_expired_alert())
        await drop_buttons_too(query, held.chat_id, held.message_id)
        await _drop_warning(query, booking, held)
        return
    if held.ref:
        # It had become a booking (a Confirm tap won the race): cancelling it is /mybookings' job.
        screen = screens.booked(checkpoints[held.checkpoint], held, language, clock.now())
    else:
        await state.clear()
        screen = screens.hold_cancelled()
    await replace(query, screen)
    await replace_too(query, held.chat_id, held.message_id, screen)
    await _drop_warning(query, booking, held)


async def _drop_warning(query: CallbackQuery, booking: BookingService, held: HoldView) -> None:
    """The hold has ended: its warning (if one was sent) keeps no Confirm that looks alive."""
    if held.warned:
        await drop_buttons_too(query, held.chat_id, await booking.warning_message(held))

"""/mybookings: a driver's holds and upcoming bookings: a hold confirmed or cancelled there (the page
shown again, every other entry as it was), a booking cancelled after a second tap or moved to another
time; and the answers to the reminder before the time."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.bookings import move_screens, screens
from handlers.bookings.callbacks import BookingAction, BookingCb, BookingsPageCb, ListHoldCb, MoveCb, MoveDayCb
from handlers.bookings.filters import OwnBooking
from handlers.common import hold_results
from handlers.common.follow_ups import Go, GoCb, leave_step
from handlers.common.holds import HoldAction, confirm_tapped
from handlers.common.replies import alert, replace, replace_too
from handlers.common.screen import Screen, stale_button
from services.booking.engine import BookingService
from services.booking.offers import OfferService
from services.booking.outcomes import CancelOutcome, ConfirmOutcome, HoldView
from services.booking.reschedules import RescheduleOutcome
from services.kernel.clock import Clock
from services.kernel.rules import BookingRules, Checkpoint


def router() -> Router:
    r = Router(name="bookings")
    r.message.register(my_bookings, Command("mybookings"))
    r.callback_query.register(my_bookings_tapped, GoCb.filter(F.to == Go.BOOKINGS))
    r.callback_query.register(back_to_list, BookingCb.filter(F.action == BookingAction.LIST))
    r.callback_query.register(turn_page, BookingsPageCb.filter())
    r.callback_query.register(ask_cancel, BookingCb.filter(F.action == BookingAction.ASK_CANCEL), OwnBooking())
    r.callback_query.register(cancel, BookingCb.filter(F.action == BookingAction.CANCEL))
    r.callback_query.register(keep, BookingCb.filter(F.action == BookingAction.KEEP), OwnBooking())
    r.callback_query.register(on_the_way, BookingCb.filter(F.action == BookingAction.ON_WAY), OwnBooking())
    r.callback_query.register(confirm_listed_hold, ListHoldCb.filter(F.action == HoldAction.CONFIRM))
    r.callback_query.register(cancel_listed_hold, ListHoldCb.filter(F.action == HoldAction.CANCEL))
    r.callback_query.register(other_days, BookingCb.filter(F.action == BookingAction.OTHER_TIME), OwnBooking())
    r.callback_query.register(other_times, MoveDayCb.filter(), OwnBooking())
    # Ownership, the booking's state and the limits are checked in the reschedule's own transaction.
    r.callback_query.register(move, MoveCb.filter())
    return r


async def my_bookings(message: Message, booking: BookingService, checkpoints: dict[str, Checkpoint],
                      clock: Clock, language: str) -> None:
    shown = await _upcoming(booking, message.from_user.id, checkpoints)
    await message.answer(**screens.my_bookings(shown, language, clock.now()).as_kwargs())


async def my_bookings_tapped(query: CallbackQuery, state: FSMContext, raw_state: str | None, booking: BookingService,
                             checkpoints: dict[str, Checkpoint], clock: Clock, language: str) -> None:
    """📋 under a message that named /mybookings: the list, in a new message, as the command shows it."""
    await leave_step(state, raw_state)
    shown = await _upcoming(booking, query.from_user.id, checkpoints)
    await query.message.answer(**screens.my_bookings(shown, language, clock.now()).as_kwargs())


async def back_to_list(query: CallbackQuery, callback_data: BookingCb, booking: BookingService,
                       checkpoints: dict[str, Checkpoint], clock: Clock, language: str) -> None:
    """◀ Back from the days to move a booking to: the list's page that shows it, in place."""
    shown = await _upcoming(booking, query.from_user.id, checkpoints)
    page = screens.page_of(shown, callback_data.booking_id)
    await replace(query, screens.my_bookings(shown, language, clock.now(), page))


async def turn_page(query: CallbackQuery, callback_data: BookingsPageCb, booking: BookingService,
                    checkpoints: dict[str, Checkpoint], clock: Clock, language: str) -> None:
    shown = await _upcoming(booking, query.from_user.id, checkpoints)
    await replace(query, screens.my_bookings(shown, language, clock.now(), callback_data.page))


async def _upcoming(booking: BookingService, account_id: int,
                    checkpoints: dict[str, Checkpoint]) -> list[tuple[Checkpoint, HoldView]]:
    upcoming = await booking.upcoming(account_id)
    return [(checkpoints[b.checkpoint], b) for b in upcoming if b.checkpoint in checkpoints]


async def ask_cancel(query: CallbackQuery, reservation: HoldView, checkpoint: Checkpoint, language: str) -> None:
    await replace(query, screens.ask_cancel_booking(checkpoint, reservation, language))


async def cancel(query: CallbackQuery, callback_data: BookingCb, booking: BookingService, language: str,
                 callback_answer: CallbackAnswer) -> None:
    result = await booking.cancel_booking(query.from_user.id, callback_data.booking_id)
    if result.outcome is CancelOutcome.NOT_FOUND:
        alert(callback_answer, stale_button())
        return
    # Cancelled now or by an earlier tap: the answer is the same.
    await replace(query, screens.booking_cancelled(result.reservation, language))


async def keep(query: CallbackQuery, reservation: HoldView, language: str) -> None:
    await replace(query, screens.booking_kept(reservation, language))


async def on_the_way(query: CallbackQuery, reservation: HoldView, checkpoint: Checkpoint, language: str) -> None:
    await replace(query, screens.on_the_way(checkpoint, reservation, language))


async def confirm_listed_hold(query: CallbackQuery, callback_data: ListHoldCb, booking: BookingService,
                              checkpoints: dict[str, Checkpoint], clock: Clock, language: str,
                              callback_answer: CallbackAnswer) -> None:
    confirmed = await confirm_tapped(query, callback_data.hold_id, booking, checkpoints, callback_answer)
    if confirmed is None:
        return
    result, checkpoint = confirmed
    held = result.booking
    if result.outcome in (ConfirmOutcome.BOOKED, ConfirmOutcome.ALREADY_BOOKED):
        # The hold's own message must not keep its Confirm and its countdown; it reads as the
        # booking's own screen does, "today" or "tomorrow" included.
        await replace_too(query, held.chat_id, held.message_id,
                          hold_results.booked(checkpoint, held, language, clock.now()))
    else:
        alert(callback_answer, screens.hold_not_confirmed(result.outcome))
    await _show_page(query, booking, checkpoints, clock, language, callback_data.page)


async def cancel_listed_hold(query: CallbackQuery, callback_data: ListHoldCb, booking: BookingService,
                             checkpoints: dict[str, Checkpoint], clock: Clock, language: str,
                             callback_answer: CallbackAnswer) -> None:
    result = await booking.cancel_hold(query.from_user.id, callback_data.hold_id)
    held = result.reservation
    if result.outcome is CancelOutcome.NOT_FOUND:
        alert(callback_answer, stale_button())
        return
    if not held.ref:  # a hold that became a booking meanwhile is left be: the page shows it booked
        await replace_too(query, held.chat_id, held.message_id, hold_results.hold_cancelled())
    await _show_page(query, booking, checkpoints, clock, language, callback_data.page)


async def _show_page(query: CallbackQuery, booking: BookingService, checkpoints: dict[str, Checkpoint], clock: Clock,
                     language: str, page: int) -> None:
    shown = await _upcoming(booking, query.from_user.id, checkpoints)
    await replace(query, screens.my_bookings(shown, language, clock.now(), page))


async def other_days(query: CallbackQuery, reservation: HoldView, checkpoint: Checkpoint, offers: OfferService,
                     language: str) -> None:
    await replace(query, await _days(query, reservation, checkpoint, offers, language))


async def _days(query: CallbackQuery, reservation: HoldView, checkpoint: Checkpoint, offers: OfferService,
                language: str) -> Screen:
    days = await offers.free_days(query.from_user.id, reservation.truck_id, checkpoint.code, moving=reservation.id)
    return move_screens.choose_day(checkpoint, reservation, days, language)


async def other_times(query: CallbackQuery, callback_data: MoveDayCb, reservation: HoldView, checkpoint: Checkpoint,
                      offers: OfferService, rules: BookingRules, language: str,
                      callback_answer: CallbackAnswer) -> None:
    found = await offers.day_slots(query.from_user.id, reservation.truck_id, checkpoint.code, callback_data.day,
                                   moving=reservation.id)
    if found.plate_busy or found.busy is not None:  # a day button from before the truck got a time that day
        outcome = RescheduleOutcome.PLATE_BUSY if found.plate_busy else RescheduleOutcome.TRUCK_BUSY
        alert(callback_answer, move_screens.refused(outcome, checkpoint, reservation, None, rules.max_holds_per_hour,
                                                    language))
        return
    await replace(query, move_screens.choose_time(checkpoint, reservation, callback_data.day, found.slots, language))


async def move(query: CallbackQuery, callback_data: MoveCb, booking: BookingService, offers: OfferService,
               checkpoints: dict[str, Checkpoint], rules: BookingRules, language: str,
               callback_answer: CallbackAnswer) -> None:
    result = await booking.reschedule(query.from_user.id, callback_data.booking_id, callback_data.slot_id)
    moving = result.booking
    checkpoint = checkpoints.get(moving.checkpoint) if moving else None
    if result.outcome is RescheduleOutcome.NOT_FOUND or checkpoint is None:
        alert(callback_answer, stale_button())
        return
    if result.outcome in (RescheduleOutcome.MOVED, RescheduleOutcome.UNCHANGED):  # UNCHANGED: a double tap
        await replace(query, move_screens.moved(checkpoint, moving, language))
        return
    alert(callback_answer, move_screens.refused(result.outcome, checkpoint, moving, result.until,
                                                rules.max_holds_per_hour, language))
    if result.outcome in (RescheduleOutcome.SLOT_FULL, RescheduleOutcome.SLOT_GONE):
        # The times shown are out of date: the days again, as they are now.
        await replace(query, await _days(query, moving, checkpoint, offers, language))

"""/mybookings: a driver's upcoming bookings, each cancellable after a second tap; and the answers to
the reminder before the time."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.bookings import screens
from handlers.bookings.callbacks import BookingAction, BookingCb, BookingsPageCb
from handlers.bookings.filters import OwnBooking
from handlers.common.replies import alert, replace
from handlers.common.screen import stale_button
from services.booking.engine import BookingService
from services.booking.outcomes import CancelOutcome, HoldView
from services.kernel.clock import Clock
from services.kernel.rules import Checkpoint


def router() -> Router:
    r = Router(name="bookings")
    r.message.register(my_bookings, Command("mybookings"))
    r.callback_query.register(turn_page, BookingsPageCb.filter())
    r.callback_query.register(ask_cancel, BookingCb.filter(F.action == BookingAction.ASK_CANCEL), OwnBooking())
    r.callback_query.register(cancel, BookingCb.filter(F.action == BookingAction.CANCEL))
    r.callback_query.register(keep, BookingCb.filter(F.action == BookingAction.KEEP), OwnBooking())
    r.callback_query.register(on_the_way, BookingCb.filter(F.action == BookingAction.ON_WAY), OwnBooking())
    return r


async def my_bookings(message: Message, booking: BookingService, checkpoints: dict[str, Checkpoint],
                      clock: Clock, language: str) -> None:
    shown = await _upcoming(booking, message.from_user.id, checkpoints)
    await message.answer(**screens.my_bookings(shown, language, clock.now()).as_kwargs())


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

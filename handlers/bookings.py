"""/mybookings: a driver's upcoming bookings, each cancellable after a second tap."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from handlers import screens
from handlers.routes import Routes
from handlers.callbacks import BookingAction, BookingCb, BookingsPageCb
from handlers.replies import replace
from services.booking import BookingService, CancelOutcome, ReservationStatus
from services.rules import Checkpoint

router = Routes("bookings")
router.message.filter(F.chat.type == "private")


@router.message(Command("mybookings"))
async def my_bookings(message: Message, booking: BookingService, checkpoints: dict[str, Checkpoint],
                      language: str) -> None:
    shown = await _upcoming(booking, message.from_user.id, checkpoints)
    await message.answer(**screens.my_bookings(shown, language).as_kwargs())


@router.callback_query(BookingsPageCb.filter())
async def turn_page(query: CallbackQuery, callback_data: BookingsPageCb, booking: BookingService,
                    checkpoints: dict[str, Checkpoint], language: str) -> None:
    shown = await _upcoming(booking, query.from_user.id, checkpoints)
    await replace(query, screens.my_bookings(shown, language, callback_data.page))
    await query.answer()


async def _upcoming(booking: BookingService, account_id: int, checkpoints: dict[str, Checkpoint]):
    upcoming = await booking.upcoming(account_id)
    return [(checkpoints[b.checkpoint], b) for b in upcoming if b.checkpoint in checkpoints]


@router.callback_query(BookingCb.filter(F.action == BookingAction.ASK_CANCEL))
async def ask_cancel(query: CallbackQuery, callback_data: BookingCb, booking: BookingService,
                     checkpoints: dict[str, Checkpoint], language: str) -> None:
    found = await booking.get(query.from_user.id, callback_data.booking_id)
    if found is None or found.status is not ReservationStatus.BOOKED or found.checkpoint not in checkpoints:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    await replace(query, screens.ask_cancel_booking(checkpoints[found.checkpoint], found, language))
    await query.answer()


@router.callback_query(BookingCb.filter(F.action == BookingAction.CANCEL))
async def cancel(query: CallbackQuery, callback_data: BookingCb, booking: BookingService, language: str) -> None:
    result = await booking.cancel_booking(query.from_user.id, callback_data.booking_id)
    if result.outcome is CancelOutcome.NOT_FOUND:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    # Cancelled now or by an earlier tap: the answer is the same.
    await replace(query, screens.booking_cancelled(result.reservation, language))
    await query.answer()


@router.callback_query(BookingCb.filter(F.action == BookingAction.KEEP))
async def keep(query: CallbackQuery, callback_data: BookingCb, booking: BookingService, language: str) -> None:
    found = await booking.get(query.from_user.id, callback_data.booking_id)
    if found is None:
        await query.answer(screens.stale_button(), show_alert=True)
        return
    await replace(query, screens.booking_kept(found, language))
    await query.answer()

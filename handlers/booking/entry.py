"""Opening the booking from a message rather than a button: a checkpoint's link printed at the
border post (/start khorgos), or the first truck just added. The start and trucks features reach it
as `open_booking` (`handlers.common.entries.OpenBooking`), without importing this feature."""

from __future__ import annotations

from datetime import datetime

from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from handlers.booking import screens
from handlers.common.entries import ask_first_truck
from handlers.common.screen import Screen
from handlers.common.states import BookingFlow
from services.accounts.trucks import TruckService
from services.booking.offers import OfferOutcome, OfferResult, OfferService
from services.kernel.rules import BookingRules, Checkpoint


def offer_screen(result: OfferResult, checkpoint: Checkpoint, rules: BookingRules, language: str,
                 now: datetime) -> Screen:
    if result.outcome is OfferOutcome.NO_SLOTS:
        return screens.no_slots(checkpoint, language)
    instead_of = "gone" if result.outcome is OfferOutcome.SLOT_GONE else None
    return screens.offer(checkpoint, result.offer, result.truck, rules.hold_minutes, language,
                         instead_of=instead_of, picked=result.picked, now=now)


async def open_booking(message: Message, account_id: int, checkpoint: Checkpoint | None, state: FSMContext,
                       trucks: TruckService, offers: OfferService, checkpoints: dict[str, Checkpoint],
                       rules: BookingRules, language: str) -> None:
    """The booking, opened at a checkpoint already known (a link printed at the border post,
    /start khorgos, or the first truck added after one), or at the list of checkpoints (the first
    truck added after /book). Shows, reserves nothing. `handlers.common.entries.OpenBooking`."""
    if checkpoint is None:
        await state.set_state(BookingFlow.choosing_checkpoint)
        await message.answer(**screens.choose_checkpoint(list(checkpoints.values()), language).as_kwargs())
        return
    owned = await trucks.list(account_id)
    if not owned:
        await ask_first_truck(message, state, checkpoint)
        return
    await state.set_state(BookingFlow.choosing_time)
    if len(owned) > 1:
        await message.answer(**screens.choose_truck(checkpoint, owned, language).as_kwargs())
        return
    result = await offers.offer(account_id, owned[0].id, checkpoint.code)
    # The offers' own clock: what "today" is where the checkpoint is (OpenBooking names no clock).
    await message.answer(**offer_screen(result, checkpoint, rules, language, offers.clock.now()).as_kwargs())

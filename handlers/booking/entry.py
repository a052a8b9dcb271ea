"""Opening the booking from a message rather than a button: a checkpoint's link printed at the
border post (/start khorgos), or the first truck just added after one. Used by the start, trucks
and booking routers, so it imports none of them."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from handlers.booking import screens
from handlers.common.screen import Screen
from handlers.common.states import BookingFlow, TruckFlow
from handlers.trucks import screens as truck_screens
from services.accounts.trucks import TruckService
from services.booking.offers import OfferOutcome, OfferResult, OfferService
from services.kernel.rules import BookingRules, Checkpoint


def offer_screen(result: OfferResult, checkpoint: Checkpoint, rules: BookingRules, language: str) -> Screen:
    if result.outcome is OfferOutcome.NO_SLOTS:
        return screens.no_slots(checkpoint, language)
    instead_of = "gone" if result.outcome is OfferOutcome.SLOT_GONE else None
    return screens.offer(checkpoint, result.offer, result.truck, rules.hold_minutes, language,
                         instead_of=instead_of, picked=result.picked)


async def open_at_checkpoint(message: Message, account_id: int, checkpoint: Checkpoint, state: FSMContext,
                             trucks: TruckService, offers: OfferService, rules: BookingRules, language: str) -> None:
    """The booking, opened at a checkpoint already known: from a link printed at the border post
    (/start khorgos), or once the first truck is added after one. Shows, reserves nothing."""
    owned = await trucks.list(account_id)
    if not owned:
        await state.set_state(TruckFlow.entering_plate)
        await state.update_data(then_book=True, checkpoint=checkpoint.code)
        await message.answer(**truck_screens.ask_plate(first_truck=True).as_kwargs())
        return
    await state.set_state(BookingFlow.choosing_time)
    if len(owned) > 1:
        await message.answer(**screens.choose_truck(checkpoint, owned, language).as_kwargs())
        return
    result = await offers.offer(account_id, owned[0].id, checkpoint.code)
    await message.answer(**offer_screen(result, checkpoint, rules, language).as_kwargs())

"""How one feature opens another's conversation without importing it.

Adding the first truck is where /book and a checkpoint's link lead a driver who has none: one step
and one line, so it lives here whole (`ask_first_truck`). The booking, opened from a message rather
than its own buttons (a checkpoint's link, /start khorgos; the first truck just added after /book),
is the booking feature's to show: the others call `OpenBooking`, and `handlers.include_all` hands
them the booking's own (`handlers.booking.entry.open_booking`) as the `open_booking` argument.
"""

from __future__ import annotations

from typing import Protocol

from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.common.screen import Screen
from handlers.common.states import TruckFlow
from services.accounts.trucks import TruckService
from services.booking.offers import OfferService
from services.kernel.rules import BookingRules, Checkpoint


def ask_plate(first_truck: bool = False) -> Screen:
    lead = _("First add your truck.") + "\n" if first_truck else ""
    return Screen(lead + _("Send the truck's plate number, for example <code>123ABC02</code>."))


async def ask_first_truck(message: Message, state: FSMContext, checkpoint: Checkpoint | None = None) -> None:
    """No truck yet: ask the plate of the first one, and book once it is added (at `checkpoint`
    straight away when a link named one, else from the list of checkpoints)."""
    await state.set_state(TruckFlow.entering_plate)
    if checkpoint is None:
        await state.update_data(then_book=True)
    else:
        await state.update_data(then_book=True, checkpoint=checkpoint.code)
    await message.answer(**ask_plate(first_truck=True).as_kwargs())


class OpenBooking(Protocol):
    async def __call__(self, message: Message, account_id: int, checkpoint: Checkpoint | None, state: FSMContext,
                       trucks: TruckService, offers: OfferService, checkpoints: dict[str, Checkpoint],
                       rules: BookingRules, language: str) -> None:
        """The booking at `checkpoint` (its first free time, or the choice of a truck), or at the
        list of checkpoints when None. Shows, reserves nothing."""

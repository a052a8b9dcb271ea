"""The buttons under a message that ends a step, for what a driver would do next: each opens what its
command opens (/book, /mybookings, /trucks), in a new message, as the command would; so a driver on a
phone taps instead of typing. Any feature's screen shows them through here; the feature that owns
the command answers the tap, so no feature imports another.

A follow-up carries no ids: one tapped twice, or days later, opens the command afresh.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.common.conversation import UNKNOWN


class Go(StrEnum):
    BOOK = "b"
    BOOKINGS = "m"
    TRUCKS = "t"


class GoCb(CallbackData, prefix="go"):
    to: Go


def book_again() -> InlineKeyboardButton:
    """After a step that ended without a booking, or with one (a dispatcher books truck after truck)."""
    return InlineKeyboardButton(text=_("📅 Book again"), callback_data=GoCb(to=Go.BOOK).pack())


def book() -> InlineKeyboardButton:
    """Where nothing was booked before: a truck added, the language chosen, no bookings yet."""
    return InlineKeyboardButton(text="📅 " + _("Book a crossing time"), callback_data=GoCb(to=Go.BOOK).pack())


def my_bookings() -> InlineKeyboardButton:
    return InlineKeyboardButton(text="📋 " + _("My bookings"), callback_data=GoCb(to=Go.BOOKINGS).pack())


def my_trucks() -> InlineKeyboardButton:
    return InlineKeyboardButton(text="🚛 " + _("My trucks"), callback_data=GoCb(to=Go.TRUCKS).pack())


def follow_ups(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    """The buttons in one row: two short labels fit a phone's width."""
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


async def leave_step(state: FSMContext, raw_state: str | None) -> None:
    """A follow-up leaves the step the driver was in, as its command does
    (`handlers.common.conversation.CommandsLeaveSteps`); with the state unknown, it leaves nothing."""
    if raw_state not in (None, UNKNOWN):
        await state.clear()

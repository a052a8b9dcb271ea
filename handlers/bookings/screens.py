"""/mybookings: the list in pages, and the two taps that cancel a booking."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.bookings.callbacks import BookingAction, BookingCb, BookingsPageCb
from handlers.common.l10n import digits, latin, local_datetime, plate_text
from handlers.common.screen import Screen, markup
from services.booking import HoldView
from services.rules import Checkpoint

BOOKINGS_PER_PAGE = 8  # a dispatcher may have hundreds: keep each page far below 4096 characters


def my_bookings(bookings: list[tuple[Checkpoint, HoldView]], language: str, page: int = 1) -> Screen:
    if not bookings:
        return Screen(_("You have no upcoming bookings. /book — book a crossing time"))
    pages = -(-len(bookings) // BOOKINGS_PER_PAGE)
    page = min(max(page, 1), pages)
    lines = [_("<b>Your bookings</b>")]
    if pages > 1:
        lines[0] += " · " + _("Page {page} of {pages}").format(page=digits(page, language),
                                                              pages=digits(pages, language))
    keyboard = InlineKeyboardBuilder()
    for checkpoint, b in bookings[(page - 1) * BOOKINGS_PER_PAGE:page * BOOKINGS_PER_PAGE]:
        ref = latin(b.ref or "", language)
        lines.append(f"\n<code>{ref}</code> · {escape(checkpoint.name(language))}\n"
                     f"{local_datetime(b.starts_at, checkpoint.tz, language)} · {plate_text(b.plate, language)}")
        keyboard.button(text=_("Cancel {ref}").format(ref=ref),
                        callback_data=BookingCb(action=BookingAction.ASK_CANCEL, booking_id=b.id))
    keyboard.adjust(1)
    turn = InlineKeyboardBuilder()
    if page > 1:
        turn.button(text="◀", callback_data=BookingsPageCb(page=page - 1))
    if page < pages:
        turn.button(text="▶", callback_data=BookingsPageCb(page=page + 1))
    return Screen("\n".join(lines), markup(keyboard.attach(turn.adjust(2))))


def ask_cancel_booking(checkpoint: Checkpoint, booking: HoldView, language: str) -> Screen:
    text = _("Cancel booking {ref} ({checkpoint}, {when})?").format(
        ref=latin(booking.ref or "", language), checkpoint=escape(checkpoint.name(language)),
        when=local_datetime(booking.starts_at, checkpoint.tz, language))
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("Yes, cancel"), callback_data=BookingCb(action=BookingAction.CANCEL, booking_id=booking.id))
    keyboard.button(text=_("No, keep it"), callback_data=BookingCb(action=BookingAction.KEEP, booking_id=booking.id))
    return Screen(text, keyboard.adjust(2).as_markup())


def booking_cancelled(booking: HoldView, language: str) -> Screen:
    return Screen(_("Booking {ref} is cancelled.").format(ref=latin(booking.ref or "", language)))


def booking_kept(booking: HoldView, language: str) -> Screen:
    return Screen(_("Booking {ref} is kept.").format(ref=latin(booking.ref or "", language)))

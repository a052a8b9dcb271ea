"""/mybookings: the list in pages, the two taps that cancel a booking (moving one to another time:
`handlers.bookings.move_screens`); the reminder before the time."""

from __future__ import annotations

from datetime import datetime
from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.bookings.callbacks import BookingAction, BookingCb, BookingsPageCb, ListHoldCb
from handlers.common.follow_ups import book, follow_ups
from handlers.common.holds import HoldAction
from handlers.common.l10n import digits, latin, local_datetime, local_time, page_turns, plate_text, where_and_when
from handlers.common.screen import Keyboard, Screen, markup
from services.booking.outcomes import ConfirmOutcome, HoldView, minutes_left
from services.kernel.rules import Checkpoint
from services.storage.models import ReservationStatus

BOOKINGS_PER_PAGE = 8  # a dispatcher may have hundreds: keep each page far below 4096 characters


def my_bookings(entries: list[tuple[Checkpoint, HoldView]], language: str, now: datetime, page: int = 1) -> Screen:
    """The account's running holds (Confirm or Cancel each), then its upcoming bookings."""
    if not entries:
        return Screen(_("You have no holds or upcoming bookings. /book — book a crossing time"), follow_ups(book()))
    pages = -(-len(entries) // BOOKINGS_PER_PAGE)
    page = min(max(page, 1), pages)
    lines = [_("<b>Your holds and bookings</b>")]
    if pages > 1:
        lines[0] += " · " + _("Page {page} of {pages}").format(page=digits(page, language),
                                                              pages=digits(pages, language))
    keyboard = Keyboard()
    for checkpoint, entry in entries[(page - 1) * BOOKINGS_PER_PAGE:page * BOOKINGS_PER_PAGE]:
        when = local_datetime(entry.starts_at, checkpoint.tz, language)
        if entry.status is ReservationStatus.HELD:
            left = minutes_left(entry.expires_at, now)
            lines.append(f"\n⏳ {escape(checkpoint.name(language))} · {plate_text(entry.plate, language)}\n{when}\n"
                         + ngettext("Held: confirm within {minutes} minute", "Held: confirm within {minutes} minutes",
                                    left).format(minutes=digits(left, language)))
            label = f"{local_time(entry.starts_at, checkpoint.tz, language)} · {plate_text(entry.plate, language)}"
            # The list's own payload: its answer is this page again, every other entry as it was.
            keyboard.button(text=_("✅ Confirm {time}").format(time=label),
                            callback_data=ListHoldCb(action=HoldAction.CONFIRM, hold_id=entry.id, page=page))
            keyboard.button(text=_("Cancel hold {time}").format(time=label),
                            callback_data=ListHoldCb(action=HoldAction.CANCEL, hold_id=entry.id, page=page))
        else:
            ref = latin(entry.ref or "", language)
            lines.append(f"\n<code>{ref}</code> · {escape(checkpoint.name(language))}\n"
                         f"{when} · {plate_text(entry.plate, language)}")
            keyboard.button(text=_("🔁 Other time {ref}").format(ref=ref),
                            callback_data=BookingCb(action=BookingAction.OTHER_TIME, booking_id=entry.id))
            keyboard.button(text=_("Cancel {ref}").format(ref=ref),
                            callback_data=BookingCb(action=BookingAction.ASK_CANCEL, booking_id=entry.id))
    keyboard.adjust(1)
    turn = Keyboard()
    for arrow, to in page_turns(page, pages, language):
        turn.button(text=arrow, callback_data=BookingsPageCb(page=to))
    return Screen("\n".join(lines), markup(keyboard.attach(turn.adjust(2))))


def page_of(entries: list[tuple[Checkpoint, HoldView]], booking_id: int) -> int:
    """The page of the list that shows this booking; the first when it is no longer listed."""
    index = next((i for i, (_checkpoint, entry) in enumerate(entries) if entry.id == booking_id), 0)
    return index // BOOKINGS_PER_PAGE + 1


def hold_not_confirmed(outcome: ConfirmOutcome) -> str:
    """An alert: Confirm in the list came too late; the page shown again no longer lists the hold."""
    if outcome is ConfirmOutcome.EXPIRED:
        return _("⌛ Your hold has expired, nothing was booked. The time went back to the queue.")
    return _("Hold cancelled, nothing was booked. /book — start again")


def ask_cancel_booking(checkpoint: Checkpoint, booking: HoldView, language: str) -> Screen:
    text = _("Cancel booking {ref} ({checkpoint}, {when})?").format(
        ref=latin(booking.ref or "", language), checkpoint=escape(checkpoint.name(language)),
        when=local_datetime(booking.starts_at, checkpoint.tz, language))
    keyboard = Keyboard()
    keyboard.button(text=_("Yes, cancel"), callback_data=BookingCb(action=BookingAction.CANCEL, booking_id=booking.id))
    keyboard.button(text=_("No, keep it"), callback_data=BookingCb(action=BookingAction.KEEP, booking_id=booking.id))
    return Screen(text, keyboard.adjust(2).as_markup())


def booking_cancelled(booking: HoldView, language: str) -> Screen:
    return Screen(_("Booking {ref} is cancelled.").format(ref=latin(booking.ref or "", language)))


def booking_kept(booking: HoldView, language: str) -> Screen:
    return Screen(_("Booking {ref} is kept.").format(ref=latin(booking.ref or "", language)))


def reminder(checkpoint: Checkpoint, booking: HoldView, language: str) -> Screen:
    """The bot's own notice some hours before a booked time: a new message, which rings."""
    text = "\n".join([
        _("🔔 <b>Your crossing is soon</b>"),
        where_and_when(checkpoint, booking.starts_at, language),
        _("Truck: {plate}").format(plate=plate_text(booking.plate, language)),
        _("Reference: <code>{ref}</code>").format(ref=latin(booking.ref or "", language)),
    ])
    keyboard = Keyboard()
    keyboard.button(text=_("🚚 I'm on my way"), callback_data=BookingCb(action=BookingAction.ON_WAY, booking_id=booking.id))
    keyboard.button(text=_("Cancel booking"), callback_data=BookingCb(action=BookingAction.ASK_CANCEL,
                                                                       booking_id=booking.id))
    return Screen(text, keyboard.adjust(1).as_markup())


def on_the_way(checkpoint: Checkpoint, booking: HoldView, language: str) -> Screen:
    text = "\n".join([
        _("🚚 Have a safe journey! Show the reference at the checkpoint."),
        where_and_when(checkpoint, booking.starts_at, language),
        _("Reference: <code>{ref}</code>").format(ref=latin(booking.ref or "", language)),
    ])
    return Screen(text)

"""What a hold's own message says once it is decided from elsewhere (/mybookings), with the buttons
for what comes next, and why an account may take no hold now (banned, or paused by its rating). The
booking feature shows the same words through these, below both features, so /mybookings need not
import the booking's."""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _

from handlers.common.follow_ups import book_again, follow_ups, my_bookings
from handlers.common.l10n import latin, local_datetime, local_time_zoned, plate_text, where_and_when
from handlers.common.screen import Screen
from services.booking.outcomes import HoldView
from services.kernel.rules import Checkpoint


def booked(checkpoint: Checkpoint, booking: HoldView, language: str, now: datetime | None = None) -> Screen:
    """The booking made: its reference first. `now`: "today"/"tomorrow" on a time in the next two days.
    Its buttons: the bookings it named, and another booking (a dispatcher books truck after truck)."""
    text = "\n".join([
        _("✅ <b>Booked</b>"),
        _("Reference: <code>{ref}</code>").format(ref=latin(booking.ref or "", language)),
        where_and_when(checkpoint, booking.starts_at, language, now),
        _("Truck: {plate}").format(plate=plate_text(booking.plate, language)),
        "",
        _("Show the reference at the checkpoint. /mybookings — your bookings"),
    ])
    return Screen(text, follow_ups(my_bookings(), book_again()))


def hold_cancelled() -> Screen:
    return Screen(_("Hold cancelled, nothing was booked. /book — start again"), follow_ups(book_again()))


def paused(banned: bool, until: datetime, checkpoint: Checkpoint, language: str) -> str:
    """Why this account may take no hold now, banned or paused by its rating, and from when it may
    (services.booking.fairness)."""
    if banned:
        return _("Booking is closed for this account until {time}. /myrating says why.").format(
            time=local_datetime(until, checkpoint.tz, language))
    return _("Too many of your holds ended without a booking, so new holds are paused until {time}. "
             "/myrating shows your figures.").format(time=local_time_zoned(until, checkpoint.tz, language))

"""/mybookings' "Other time": a booking's checkpoint's days (◀ Back to the list), then its times (◀ Days),
then the booking at its new time; and why a time was refused, with the time the booking keeps (a
refusal changes nothing)."""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.bookings.callbacks import BookingAction, BookingCb, MoveCb, MoveDayCb
from handlers.common.follow_ups import follow_ups, my_bookings
from handlers.common.hold_results import paused
from handlers.common.l10n import (
    digits,
    latin,
    local_date,
    local_datetime,
    local_time,
    local_time_zoned,
    plate_label,
    plate_text,
    short_date,
    where_and_when,
    zone_city,
)
from handlers.common.screen import Keyboard, Screen
from services.booking.calendar import DayFree, Offer
from services.booking.outcomes import HoldView
from services.booking.reschedules import RescheduleOutcome
from services.kernel.rules import Checkpoint


def _ref(booking: HoldView, language: str) -> str:
    return latin(booking.ref or "", language)


def _keep(booking: HoldView) -> BookingCb:
    """Leave the booking as it is, from either screen: nothing was taken there."""
    return BookingCb(action=BookingAction.KEEP, booking_id=booking.id)


def choose_day(checkpoint: Checkpoint, booking: HoldView, days: list[DayFree], language: str) -> Screen:
    """The checkpoint's days with free places, without those the truck has another time on; ◀ Back
    to the list it was opened from."""
    when = local_datetime(booking.starts_at, checkpoint.tz, language)
    open_days = [d for d in days if d.free > 0]
    keyboard = Keyboard()
    for d in open_days:
        keyboard.button(text=f"{short_date(d.day, language)} · {digits(d.free, language)}",
                        callback_data=MoveDayCb(booking_id=booking.id, day=d.day))
    keyboard.adjust(1)
    back = Keyboard()
    back.button(text=_("◀ Back"), callback_data=BookingCb(action=BookingAction.LIST, booking_id=booking.id))
    if open_days:
        back.button(text=_("Cancel"), callback_data=_keep(booking))
    keyboard.attach(back.adjust(2))
    if not open_days:
        return Screen(_("No other free times at {checkpoint}. Booking {ref} stays at {when}.").format(
            checkpoint=escape(checkpoint.name(language)), ref=_ref(booking, language), when=when), keyboard.as_markup())
    text = _("Booking {ref} at {checkpoint} is at {when}. Choose another day; the number is how many places "
             "are free.").format(ref=_ref(booking, language), checkpoint=escape(checkpoint.name(language)), when=when)
    return Screen(text, keyboard.as_markup())


def choose_time(checkpoint: Checkpoint, booking: HoldView, day: date, slots: list[Offer], language: str) -> Screen:
    """The free times of the day, but the booking's own; nothing is taken until one is tapped."""
    keyboard = Keyboard()
    for slot in slots:
        if slot.slot_id == booking.slot_id:
            continue
        keyboard.button(text=f"{local_time(slot.starts_at, checkpoint.tz, language)} · {digits(slot.free, language)}",
                        callback_data=MoveCb(booking_id=booking.id, slot_id=slot.slot_id))
    shown = bool(keyboard.export())
    keyboard.adjust(3)
    back = Keyboard()
    back.button(text=_("◀ Days"), callback_data=BookingCb(action=BookingAction.OTHER_TIME, booking_id=booking.id))
    back.button(text=_("Cancel"), callback_data=_keep(booking))
    keyboard.attach(back.adjust(2))
    if not shown:
        return Screen(_("No free times left on {date}.").format(date=local_date(day, language)), keyboard.as_markup())
    # Times on the buttons are the checkpoint's: the zone is said once, with the date.
    text = _("{date}: choose the new time for booking {ref}. It moves at once; the number is how many places "
             "are free.").format(date=f"{local_date(day, language)} ({zone_city(checkpoint.timezone, language)})",
                                 ref=_ref(booking, language))
    return Screen(text, keyboard.as_markup())


def moved(checkpoint: Checkpoint, booking: HoldView, language: str) -> Screen:
    """The booking at its new time: the same reference; the old time goes back to the queue."""
    text = "\n".join([
        _("🔁 <b>Booking moved</b>"),
        _("Reference: <code>{ref}</code>").format(ref=_ref(booking, language)),
        where_and_when(checkpoint, booking.starts_at, language),
        _("Truck: {plate}").format(plate=plate_text(booking.plate, language)),
        "",
        _("The reference stays the same. /mybookings — your bookings"),
    ])
    return Screen(text, follow_ups(my_bookings()))


def refused(outcome: RescheduleOutcome, checkpoint: Checkpoint, booking: HoldView, until: datetime | None,
            max_per_hour: int, language: str) -> str:
    """An alert: why the booking was not moved; it keeps its time."""
    ref, when = _ref(booking, language), local_datetime(booking.starts_at, checkpoint.tz, language)
    if outcome is RescheduleOutcome.ENDED:
        return _("Booking {ref} is no longer active; nothing was changed.").format(ref=ref)
    if outcome is RescheduleOutcome.SLOT_FULL:
        return _("That time was just taken. Booking {ref} stays at {when}.").format(ref=ref, when=when)
    if outcome is RescheduleOutcome.SLOT_GONE:
        return _("That time is no longer available. Booking {ref} stays at {when}.").format(ref=ref, when=when)
    if outcome is RescheduleOutcome.TRUCK_BUSY:
        return _("Truck {plate} already has another time at {checkpoint} that day. Booking {ref} stays at "
                 "{when}.").format(plate=plate_label(booking.plate, language), checkpoint=checkpoint.name(language),
                                   ref=ref, when=when)
    if outcome is RescheduleOutcome.PLATE_BUSY:
        return _("Truck {plate} already has a time at {checkpoint} that day, held or booked from another "
                 "Telegram account.").format(plate=plate_label(booking.plate, language),
                                             checkpoint=checkpoint.name(language))
    if outcome is RescheduleOutcome.HOURLY_LIMIT:
        return ngettext("You took or moved {count} time within an hour. The next one is possible from {time}.",
                        "You took or moved {count} times within an hour. The next one is possible from {time}.",
                        max_per_hour).format(count=digits(max_per_hour, language),
                                             time=local_time_zoned(until, checkpoint.tz, language))
    return paused(outcome is RescheduleOutcome.BANNED, until, checkpoint, language)

"""What the driver sees: each function renders one screen (text and buttons) and nothing else.

Pure: no Telegram calls, no database. Text comes from the catalogs in the current locale (set by
the locale middleware, or by `i18n.use_locale` in workers); values are escaped for HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.callbacks import (
    BookingAction,
    BookingCb,
    BookingsPageCb,
    CheckpointCb,
    DayCb,
    DaysCb,
    HoldAction,
    HoldCb,
    LanguageCb,
    OfferAction,
    OfferCb,
    RestartCb,
    SlotCb,
    TruckAction,
    TruckCb,
    TruckPickCb,
)
from handlers.l10n import comma, digits, latin, local_date, local_datetime, local_time, short_date
from services.booking import HoldView
from services.calendar import DayFree, Offer
from services.rules import Checkpoint
from services.trucks import TruckView

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "fa": "فارسی"}


def command_menu() -> list[tuple[str, str]]:
    """The commands Telegram lists in the menu, in the current locale."""
    return [
        ("book", _("Book a crossing time")),
        ("mybookings", _("My bookings")),
        ("trucks", _("My trucks")),
        ("language", _("Change the language")),
        ("help", _("Help")),
        ("cancel", _("Stop what I am doing")),
    ]


@dataclass(frozen=True)
class Screen:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "reply_markup": self.reply_markup}


def _keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def _button(text: str, data) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def plate_text(truck: TruckView | str, language: str) -> str:
    plate = truck if isinstance(truck, str) else truck.plate
    shown = escape(plate)
    if not isinstance(truck, str) and truck.trailer_plate:
        shown = f"{shown} / {escape(truck.trailer_plate)}"
    return latin(shown, language)


def where_and_when(checkpoint: Checkpoint, starts_at: datetime, language: str) -> str:
    return f"{escape(checkpoint.name(language))}{comma(language)} {local_datetime(starts_at, checkpoint.tz, language)}"


# --- Start, help, language ---------------------------------------------------------------------

def choose_language() -> Screen:
    # Shown before we know the language, so it speaks all three.
    text = "Тілді таңдаңыз · Выберите язык · زبان را انتخاب کنید"
    return Screen(text, _keyboard([_button(name, LanguageCb(code=code)) for code, name in LANGUAGE_NAMES.items()]))


def welcome(first_name: str) -> Screen:
    text = _(
        "Hello, {name}! I am Nobat, the electronic queue for trucks at border crossings.\n\n"
        "Book a time to cross the border here: I show the first free time, and nothing is reserved "
        "until you tap Next.\n\n"
        "/book — book a crossing time\n"
        "/trucks — your trucks\n"
        "/mybookings — your bookings\n"
        "/language — change the language\n"
        "/help — help"
    ).format(name=escape(first_name))
    return Screen(text)


def help_text(hold_minutes: int, language: str) -> Screen:
    text = _(
        "<b>How to book</b>\n"
        "1. /book and choose the checkpoint.\n"
        "2. I show the first free time. Tap Next to hold it, or Other time.\n"
        "3. A hold lasts {minutes} min. Tap Confirm to get your booking reference.\n\n"
        "/trucks — add or remove trucks\n"
        "/mybookings — see or cancel bookings\n"
        "/language — change the language\n"
        "/cancel — stop what you are doing"
    ).format(minutes=digits(hold_minutes, language))
    return Screen(text)


def language_set() -> Screen:
    return Screen(_("Language changed. /book — book a crossing time"))


# --- Trucks ----------------------------------------------------------------------------------------

def trucks_list(trucks: list[TruckView], language: str) -> Screen:
    add = [_button(_("➕ Add truck"), TruckCb(action=TruckAction.ADD))]
    if not trucks:
        return Screen(_("You have no trucks yet. Add one to book crossings."), _keyboard(add))
    lines = [_("<b>Your trucks</b>")] + [f"• {plate_text(t, language)}" for t in trucks]
    removes = [[_button(_("🗑 Remove {plate}").format(plate=latin(t.plate, language)),
                        TruckCb(action=TruckAction.ASK_REMOVE, truck_id=t.id))] for t in trucks]
    return Screen("\n".join(lines), _keyboard(*removes, add))


def ask_plate(first_truck: bool = False) -> Screen:
    lead = _("First add your truck.") + "\n" if first_truck else ""
    return Screen(lead + _("Send the truck's plate number, for example <code>123ABC02</code>."))


def invalid_plate() -> Screen:
    return Screen(_("This does not look like a plate number. Send only letters and digits, "
                    "for example <code>123ABC02</code>. /cancel — stop"))


def ask_trailer(truck: TruckView, language: str) -> Screen:
    text = _("Truck {plate} added. Send the trailer's plate number, or tap Skip.").format(
        plate=plate_text(truck, language))
    return Screen(text, _keyboard([_button(_("Skip"), TruckCb(action=TruckAction.SKIP_TRAILER, truck_id=truck.id))]))


def truck_added(truck: TruckView, language: str, then_book: bool) -> Screen:
    text = _("Truck {plate} is saved.").format(plate=plate_text(truck, language))
    if not then_book:
        text += "\n" + _("/book — book a crossing time")
    return Screen(text)


def truck_duplicate(truck: TruckView, language: str) -> Screen:
    return Screen(_("Truck {plate} is already in your list.").format(plate=plate_text(truck, language)))


def too_many_trucks() -> Screen:
    return Screen(_("You cannot add more trucks. Remove one in /trucks first."))


def ask_remove_truck(truck: TruckView, language: str) -> Screen:
    return Screen(
        _("Remove truck {plate}?").format(plate=plate_text(truck, language)),
        _keyboard([_button(_("Yes, remove"), TruckCb(action=TruckAction.REMOVE, truck_id=truck.id)),
                   _button(_("No"), TruckCb(action=TruckAction.KEEP, truck_id=truck.id))]),
    )


def truck_has_bookings() -> Screen:
    return Screen(_("This truck has an upcoming booking or hold. Cancel it in /mybookings first."))


# --- Booking -----------------------------------------------------------------------------------------

def choose_checkpoint(checkpoints: list[Checkpoint], language: str) -> Screen:
    return Screen(
        _("Choose the checkpoint:"),
        _keyboard(*[[_button(c.name(language), CheckpointCb(code=c.code))] for c in checkpoints]),
    )


def choose_truck(checkpoint: Checkpoint, trucks: list[TruckView], language: str) -> Screen:
    return Screen(
        _("{checkpoint}: which truck?").format(checkpoint=escape(checkpoint.name(language))),
        _keyboard(*[[_button(t.plate, TruckPickCb(checkpoint=checkpoint.code, truck_id=t.id))] for t in trucks]),
    )


def offer(checkpoint: Checkpoint, shown: Offer, truck: TruckView, hold_minutes: int, language: str,
          *, instead_of: str | None = None) -> Screen:
    """The time shown to the driver; `instead_of` says why another one was asked for and is not
    shown: "taken" (filled while the driver looked) or "gone" (passed, or no longer offered)."""
    lines = []
    if instead_of == "taken":
        lines.append(_("That time was just taken. The next free time:"))
    elif instead_of == "gone":
        lines.append(_("That time is no longer available. The next free time:"))
    lines += [
        f"<b>{escape(checkpoint.name(language))}</b>",
        _("First free time: <b>{when}</b>").format(when=local_datetime(shown.starts_at, checkpoint.tz, language)),
        _("Truck: {plate}").format(plate=plate_text(truck, language)),
        ngettext("{count} place free", "{count} places free", shown.free).format(count=digits(shown.free, language)),
        "",
        _("Nothing is reserved yet. Tap Next to hold this time for {minutes} min.").format(
            minutes=digits(hold_minutes, language)),
    ]
    data = dict(checkpoint=checkpoint.code, truck_id=truck.id, slot_id=shown.slot_id)
    return Screen("\n".join(lines), _keyboard(
        [_button(_("Next ▶"), OfferCb(action=OfferAction.NEXT, **data))],
        [_button(_("Other time"), DaysCb(checkpoint=checkpoint.code, truck_id=truck.id)),
         _button(_("Cancel"), OfferCb(action=OfferAction.CANCEL, **data))],
    ))


def no_slots(checkpoint: Checkpoint, language: str) -> Screen:
    days = checkpoint.horizon_days
    text = ngettext(
        "No free times at {checkpoint} in the next {days} day. Try another checkpoint or later.",
        "No free times at {checkpoint} in the next {days} days. Try another checkpoint or later.",
        days,
    ).format(checkpoint=escape(checkpoint.name(language)), days=digits(days, language))
    return Screen(text)


def choose_day(checkpoint: Checkpoint, truck_id: int, days: list[DayFree], language: str) -> Screen:
    rows = [
        [_button(f"{short_date(d.day, language)} · {digits(d.free, language)}",
                 DayCb(checkpoint=checkpoint.code, truck_id=truck_id, day=d.day.isoformat()))]
        for d in days if d.free > 0
    ]
    if not rows:
        return no_slots(checkpoint, language)
    text = _("{checkpoint}: choose a day. The number is how many places are free.").format(
        checkpoint=escape(checkpoint.name(language)))
    return Screen(text, _keyboard(*rows, [_stop_button(checkpoint, truck_id)]))


def _stop_button(checkpoint: Checkpoint, truck_id: int) -> InlineKeyboardButton:
    """Leave the booking from any of its screens; nothing is held there, so nothing to release."""
    return _button(_("Cancel"), OfferCb(action=OfferAction.CANCEL, checkpoint=checkpoint.code, truck_id=truck_id,
                                        slot_id=0))


def choose_slot(checkpoint: Checkpoint, truck_id: int, day: date, slots: list[Offer], language: str) -> Screen:
    back = [_button(_("◀ Days"), DaysCb(checkpoint=checkpoint.code, truck_id=truck_id)),
            _stop_button(checkpoint, truck_id)]
    if not slots:
        return Screen(_("No free times left on {date}.").format(date=local_date(day, language)), _keyboard(back))
    buttons = [
        _button(f"{local_time(s.starts_at, checkpoint.tz, language)} · {digits(s.free, language)}",
                SlotCb(checkpoint=checkpoint.code, truck_id=truck_id, slot_id=s.slot_id))
        for s in slots
    ]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    text = _("{checkpoint}, {date}: choose a time. The number is how many places are free.").format(
        checkpoint=escape(checkpoint.name(language)), date=local_date(day, language))
    return Screen(text, _keyboard(*rows, back))


def hold(checkpoint: Checkpoint, held: HoldView, minutes: int, language: str) -> Screen:
    text = "\n".join([
        _("⏳ <b>This time is held for you</b>"),
        where_and_when(checkpoint, held.starts_at, language),
        _("Truck: {plate}").format(plate=plate_text(held.plate, language)),
        "",
        ngettext("Confirm within {minutes} minute, or the time goes back to the queue.",
                 "Confirm within {minutes} minutes, or the time goes back to the queue.",
                 minutes).format(minutes=digits(minutes, language)),
    ])
    return Screen(text, _keyboard(
        [_button(_("✅ Confirm"), HoldCb(action=HoldAction.CONFIRM, hold_id=held.id))],
        [_button(_("Cancel"), HoldCb(action=HoldAction.CANCEL, hold_id=held.id))],
    ))


def booked(checkpoint: Checkpoint, booking: HoldView, language: str) -> Screen:
    text = "\n".join([
        _("✅ <b>Booked</b>"),
        _("Reference: <code>{ref}</code>").format(ref=latin(booking.ref or "", language)),
        where_and_when(checkpoint, booking.starts_at, language),
        _("Truck: {plate}").format(plate=plate_text(booking.plate, language)),
        "",
        _("Show the reference at the checkpoint. /mybookings — your bookings"),
    ])
    return Screen(text)


def hold_expired(checkpoint: Checkpoint, truck_id: int) -> Screen:
    text = _("⌛ Your hold has expired, nothing was booked. The time went back to the queue.")
    return Screen(text, _keyboard([_button(_("Start again"), RestartCb(checkpoint=checkpoint.code, truck_id=truck_id))]))


def hold_cancelled() -> Screen:
    return Screen(_("Hold cancelled, nothing was booked. /book — start again"))


def booking_stopped() -> Screen:
    return Screen(_("Booking stopped, nothing was reserved. /book — start again"))


def hold_limit(max_holds: int, language: str) -> str:
    return ngettext("You already hold {count} time. Confirm or cancel it first.",
                    "You already hold {count} times. Confirm or cancel them first.",
                    max_holds).format(count=digits(max_holds, language))


def truck_busy(checkpoint: Checkpoint, existing: HoldView | None, language: str) -> str:
    if existing is None:
        return _("This truck already has a time at this checkpoint that day.")
    return _("Truck {plate} already has a time at {checkpoint} on {date}. See /mybookings.").format(
        plate=latin(existing.plate, language), checkpoint=checkpoint.name(language),
        date=local_datetime(existing.starts_at, checkpoint.tz, language))


def stale_button() -> str:
    return _("This button is no longer valid.")


# --- My bookings --------------------------------------------------------------------------------------

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
    buttons = []
    for checkpoint, b in bookings[(page - 1) * BOOKINGS_PER_PAGE:page * BOOKINGS_PER_PAGE]:
        ref = latin(b.ref or "", language)
        lines.append(f"\n<code>{ref}</code> · {escape(checkpoint.name(language))}\n"
                     f"{local_datetime(b.starts_at, checkpoint.tz, language)} · {plate_text(b.plate, language)}")
        buttons.append([_button(_("Cancel {ref}").format(ref=ref),
                                BookingCb(action=BookingAction.ASK_CANCEL, booking_id=b.id))])
    turn = []
    if page > 1:
        turn.append(_button("◀", BookingsPageCb(page=page - 1)))
    if page < pages:
        turn.append(_button("▶", BookingsPageCb(page=page + 1)))
    return Screen("\n".join(lines), _keyboard(*buttons, turn))


def ask_cancel_booking(checkpoint: Checkpoint, booking: HoldView, language: str) -> Screen:
    text = _("Cancel booking {ref} ({checkpoint}, {when})?").format(
        ref=latin(booking.ref or "", language), checkpoint=escape(checkpoint.name(language)),
        when=local_datetime(booking.starts_at, checkpoint.tz, language))
    return Screen(text, _keyboard([
        _button(_("Yes, cancel"), BookingCb(action=BookingAction.CANCEL, booking_id=booking.id)),
        _button(_("No, keep it"), BookingCb(action=BookingAction.KEEP, booking_id=booking.id)),
    ]))


def booking_cancelled(booking: HoldView, language: str) -> Screen:
    return Screen(_("Booking {ref} is cancelled.").format(ref=latin(booking.ref or "", language)))


def booking_kept(booking: HoldView, language: str) -> Screen:
    return Screen(_("Booking {ref} is kept.").format(ref=latin(booking.ref or "", language)))


# --- Fallbacks -----------------------------------------------------------------------------------------

def stopped(anything: bool) -> Screen:
    return Screen(_("Stopped. /book — book a crossing time") if anything else _("Nothing to stop. /help — help"))


def unknown_command() -> Screen:
    return Screen(_("I do not know this command. /help — what I can do"))


def use_buttons() -> Screen:
    return Screen(_("Please tap one of the buttons above, or /cancel to stop."))


def not_understood() -> Screen:
    return Screen(_("I did not understand. /book — book a crossing time, /help — help"))


def unsupported_media() -> Screen:
    return Screen(_("I can read only text and buttons. /help — help"))


def server_error() -> Screen:
    return Screen(_("Something went wrong on our side; nothing was lost. Please try again in a minute."))


"""The booking conversation's screens: checkpoint, truck, the time shown, other times, the hold,
the booking. Each step after the first has ◀ Back to the step before it, but the hold: a hold is
left by its Cancel only."""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.booking.callbacks import (
    BeforeOfferCb,
    CheckpointCb,
    CheckpointsCb,
    DayCb,
    DaysCb,
    OfferAction,
    OfferCb,
    RestartCb,
    SlotCb,
    TruckPickCb,
)
from handlers.common import hold_results
from handlers.common.follow_ups import book_again, follow_ups
from handlers.common.holds import HoldAction, HoldCb
from handlers.common.l10n import (
    digits,
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
from services.accounts.trucks import TruckView
from services.booking.calendar import Offer
from services.booking.outcomes import DayShown, HoldView, minutes_left
from services.booking.takes import TakeOutcome
from services.kernel.rules import Checkpoint


def choose_checkpoint(checkpoints: list[Checkpoint], language: str) -> Screen:
    keyboard = Keyboard()
    for checkpoint in checkpoints:
        keyboard.button(text=checkpoint.name(language), callback_data=CheckpointCb(checkpoint=checkpoint.code))
    return Screen(_("Choose the checkpoint:"), keyboard.adjust(1).as_markup())


def choose_truck(checkpoint: Checkpoint, trucks: list[TruckView], language: str) -> Screen:
    keyboard = Keyboard()
    for truck in trucks:
        keyboard.button(text=plate_label(truck, language),
                        callback_data=TruckPickCb(checkpoint=checkpoint.code, truck_id=truck.id))
    keyboard.button(text=_("◀ Back"), callback_data=CheckpointsCb())
    text = _("{checkpoint}: which truck?").format(checkpoint=escape(checkpoint.name(language)))
    return Screen(text, keyboard.adjust(1).as_markup())


def offer(checkpoint: Checkpoint, shown: Offer, truck: TruckView, hold_minutes: int, language: str,
          *, instead_of: str | None = None, picked: bool = False, now: datetime | None = None) -> Screen:
    """The time shown to the driver: the first free one, or the one they `picked` under Other time.
    `instead_of` says why another one was asked for and is not shown: "taken" (filled while the
    driver looked) or "gone" (passed, or no longer offered). With `now`, a time today or tomorrow
    at the checkpoint says so. ◀ Back goes to the times of its day when one was picked, else to
    what came before the first free time (the choice of a truck, or of the checkpoint)."""
    lines = []
    if instead_of == "taken":
        lines.append(_("That time was just taken. The next free time:"))
    elif instead_of == "gone":
        lines.append(_("That time is no longer available. The next free time:"))
    lines += [
        f"<b>{escape(checkpoint.name(language))}</b>",
        (_("Chosen time: <b>{when}</b>") if picked else _("First free time: <b>{when}</b>")).format(
            when=local_datetime(shown.starts_at, checkpoint.tz, language, now)),
        _("Truck: {plate}").format(plate=plate_text(truck, language)),
        ngettext("{count} place free", "{count} places free", shown.free).format(count=digits(shown.free, language)),
        "",
        _("Nothing is reserved yet. Tap Next to hold this time for {minutes} min.").format(
            minutes=digits(hold_minutes, language)),
    ]
    keyboard = Keyboard()
    keyboard.button(text=_("Next ▶"), callback_data=OfferCb(
        action=OfferAction.NEXT, checkpoint=checkpoint.code, truck_id=truck.id, slot_id=shown.slot_id))
    keyboard.button(text=_("Other time"), callback_data=DaysCb(checkpoint=checkpoint.code, truck_id=truck.id))
    day = shown.starts_at.astimezone(checkpoint.tz).date()
    keyboard.button(text=_("◀ Back"), callback_data=DayCb(checkpoint=checkpoint.code, truck_id=truck.id, day=day)
                    if picked else BeforeOfferCb(checkpoint=checkpoint.code))
    keyboard.button(text=_("Cancel"), callback_data=_stop(checkpoint, truck.id))
    return Screen("\n".join(lines), keyboard.adjust(1, 1, 2).as_markup())


def no_slots(checkpoint: Checkpoint, language: str) -> Screen:
    """With ◀ Back to the checkpoints: another one may have free times."""
    days = checkpoint.horizon_days
    text = ngettext(
        "No free times at {checkpoint} in the next {days} day. Try another checkpoint or later.",
        "No free times at {checkpoint} in the next {days} days. Try another checkpoint or later.",
        days,
    ).format(checkpoint=escape(checkpoint.name(language)), days=digits(days, language))
    keyboard = Keyboard()
    keyboard.button(text=_("◀ Back"), callback_data=CheckpointsCb())
    return Screen(text, keyboard.as_markup())


def choose_day(checkpoint: Checkpoint, truck_id: int, days: list[DayShown], language: str) -> Screen:
    """The days with free places, and the day the truck has its hold or booking at the checkpoint
    already, not bookable: its button says so with the time ("24 нояб., вт · booked 08:00"), and a
    tap on it answers with an alert naming the truck, the time and /mybookings (`day_chosen` finds
    the day taken, as for a day button kept from before the booking), and changes nothing. ◀ Back
    goes to the first free time."""
    shown = [d for d in days if d.free > 0 or d.busy is not None]
    if not any(d.busy is None for d in shown):
        return no_slots(checkpoint, language)
    keyboard = Keyboard()
    for d in shown:
        keyboard.button(text=f"{short_date(d.day, language)} · {_day_taken(d.busy, checkpoint, language)}"
                        if d.busy is not None else f"{short_date(d.day, language)} · {digits(d.free, language)}",
                        callback_data=DayCb(checkpoint=checkpoint.code, truck_id=truck_id, day=d.day.isoformat()))
    keyboard.adjust(1)
    back = Keyboard()
    back.button(text=_("◀ Back"), callback_data=RestartCb(checkpoint=checkpoint.code, truck_id=truck_id))
    back.button(text=_("Cancel"), callback_data=_stop(checkpoint, truck_id))
    keyboard.attach(back.adjust(2))
    text = _("{checkpoint}: choose a day. The number is how many places are free.").format(
        checkpoint=escape(checkpoint.name(language)))
    return Screen(text, keyboard.as_markup())


def _day_taken(busy: HoldView, checkpoint: Checkpoint, language: str) -> str:
    time = local_time(busy.starts_at, checkpoint.tz, language)
    return (_("booked {time}") if busy.ref else _("held {time}")).format(time=time)


def _stop(checkpoint: Checkpoint, truck_id: int) -> OfferCb:
    """Leave the booking from any of its screens; nothing is held there, so nothing to release."""
    return OfferCb(action=OfferAction.CANCEL, checkpoint=checkpoint.code, truck_id=truck_id, slot_id=0)


def choose_slot(checkpoint: Checkpoint, truck_id: int, day: date, slots: list[Offer], language: str) -> Screen:
    keyboard = Keyboard()
    for slot in slots:
        keyboard.button(text=f"{local_time(slot.starts_at, checkpoint.tz, language)} · {digits(slot.free, language)}",
                        callback_data=SlotCb(checkpoint=checkpoint.code, truck_id=truck_id, slot_id=slot.slot_id))
    keyboard.adjust(3)
    back = Keyboard()
    back.button(text=_("◀ Days"), callback_data=DaysCb(checkpoint=checkpoint.code, truck_id=truck_id))
    back.button(text=_("Cancel"), callback_data=_stop(checkpoint, truck_id))
    keyboard.attach(back.adjust(2))
    if not slots:
        return Screen(_("No free times left on {date}.").format(date=local_date(day, language)), keyboard.as_markup())
    # Times on the buttons are the checkpoint's: the zone is said once, with the date.
    text = _("{checkpoint}, {date}: choose a time. The number is how many places are free.").format(
        checkpoint=escape(checkpoint.name(language)),
        date=f"{local_date(day, language)} ({zone_city(checkpoint.timezone, language)})")
    return Screen(text, keyboard.as_markup())


def hold(checkpoint: Checkpoint, held: HoldView, now: datetime, language: str) -> Screen:
    """The hold: the crossing time (today or tomorrow said so), and on a line of its own the time
    to confirm by, with the minutes left when it was taken. Both in the checkpoint's time, whose
    zone the crossing time names once. A message that needs no edits while the minutes run (the
    driver is told by a new message when few are left)."""
    lines = [
        _("⏳ <b>This time is held for you</b>"),
        where_and_when(checkpoint, held.starts_at, language, now),
        _("Truck: {plate}").format(plate=plate_text(held.plate, language)),
        "",
        _("Confirm by {time} ({minutes} min left)").format(
            time=local_time(held.expires_at, checkpoint.tz, language),
            minutes=digits(minutes_left(held.expires_at, now), language)),
        _("Otherwise the time goes back to the queue."),
    ]
    return Screen("\n".join(lines), _hold_buttons(held))


def held_toast(checkpoint: Checkpoint, held: HoldView, language: str) -> str:
    """The answer to the Next that took the place, shown at once on the button while the screen with
    Confirm may still wait its turn in a rush (a tap's answer is plain text, at most 200 characters)."""
    return _("✅ {time} is held for you. Confirm by {until}").format(
        time=local_time(held.starts_at, checkpoint.tz, language),
        until=local_time(held.expires_at, checkpoint.tz, language))


def taken_toast(checkpoint: Checkpoint, shown: Offer, language: str) -> str:
    """The answer to a Next whose place was taken meanwhile: the next free time, before its screen."""
    return _("That time was just taken. The next free time: {time}").format(
        time=local_time(shown.starts_at, checkpoint.tz, language))


def hold_ending(checkpoint: Checkpoint, held: HoldView, minutes: int, language: str,
                now: datetime | None = None) -> Screen:
    """A new message, which rings: the hold ends in a few minutes."""
    text = "\n".join([
        ngettext("⏳ <b>Your hold ends in {minutes} minute</b>", "⏳ <b>Your hold ends in {minutes} minutes</b>",
                 minutes).format(minutes=digits(minutes, language)),
        where_and_when(checkpoint, held.starts_at, language, now),
        _("Truck: {plate}").format(plate=plate_text(held.plate, language)),
        "",
        _("Confirm now, or the time goes back to the queue."),
    ])
    return Screen(text, _hold_buttons(held))


def _hold_buttons(held: HoldView):
    keyboard = Keyboard()
    keyboard.button(text=_("✅ Confirm"), callback_data=HoldCb(action=HoldAction.CONFIRM, hold_id=held.id))
    keyboard.button(text=_("Cancel"), callback_data=HoldCb(action=HoldAction.CANCEL, hold_id=held.id))
    return keyboard.adjust(1).as_markup()


def booked(checkpoint: Checkpoint, booking: HoldView, language: str, now: datetime | None = None) -> Screen:
    return hold_results.booked(checkpoint, booking, language, now)


def hold_expired(checkpoint: Checkpoint, truck_id: int) -> Screen:
    text = _("⌛ Your hold has expired, nothing was booked. The time went back to the queue.")
    keyboard = Keyboard()
    keyboard.button(text=_("Start again"), callback_data=RestartCb(checkpoint=checkpoint.code, truck_id=truck_id))
    return Screen(text, keyboard.as_markup())


def hold_expired_alert() -> str:
    """A tap on a hold that expired, whose driver was told so already: an alert, no new message."""
    return _("⌛ Your hold has expired, nothing was booked. The time went back to the queue.")


def hold_cancelled() -> Screen:
    return hold_results.hold_cancelled()


def hold_cancelled_alert() -> str:
    return hold_results.hold_cancelled().text


def booking_stopped() -> Screen:
    return Screen(_("Booking stopped, nothing was reserved. /book — start again"), follow_ups(book_again()))


def hold_limit(max_holds: int, language: str) -> str:
    return ngettext("You already hold {count} time. Confirm or cancel it in /mybookings first.",
                    "You already hold {count} times. Confirm or cancel them in /mybookings first.",
                    max_holds).format(count=digits(max_holds, language))


def paused(outcome: TakeOutcome, until: datetime, checkpoint: Checkpoint, max_per_hour: int, language: str) -> str:
    """Why this account may not take a hold now, and from when it may (services.booking.fairness)."""
    if outcome in (TakeOutcome.BANNED, TakeOutcome.RATING_BLOCKED):
        return hold_results.paused(outcome is TakeOutcome.BANNED, until, checkpoint, language)
    return ngettext("You took {count} hold within an hour. The next one is possible from {time}.",
                    "You took {count} holds within an hour. The next one is possible from {time}.",
                    max_per_hour).format(count=digits(max_per_hour, language),
                                         time=local_time_zoned(until, checkpoint.tz, language))


def truck_busy(checkpoint: Checkpoint, existing: HoldView | None, language: str) -> str:
    if existing is None:
        return _("This truck already has a time at this checkpoint that day.")
    return _("Truck {plate} already has a time at {checkpoint} on {date}. See /mybookings.").format(
        plate=plate_label(existing.plate, language), checkpoint=checkpoint.name(language),
        date=local_datetime(existing.starts_at, checkpoint.tz, language))


def plate_busy(checkpoint: Checkpoint, truck: TruckView, language: str) -> str:
    """An alert: the driver's and a dispatcher's accounts follow one truck, and the other one has
    its time that day. Not when, nor whose: that is the other account's to tell."""
    return _("Truck {plate} already has a time at {checkpoint} that day, held or booked from another "
             "Telegram account.").format(plate=plate_label(truck, language), checkpoint=checkpoint.name(language))

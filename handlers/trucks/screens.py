"""A driver's or dispatcher's trucks: the list, adding a plate and a trailer, removing one."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from handlers.common.l10n import latin, plate_label, plate_text
from handlers.common.screen import Keyboard, Screen
from handlers.trucks import following_screens as following
from handlers.trucks.callbacks import FollowCb, PhoneCb, TruckAction, TruckCb
from services.accounts.follows import Followable
from services.accounts.plates import parse_plate
from services.accounts.trucks import TruckView

# One plate of each country, as a driver would type it.
PLATE_EXAMPLES = ("123ABC02", "А123ВС77", "01KG123ABC", "01A123BC", "新A12345", "12ع345-67", "34ABC123")


def trucks_list(trucks: list[TruckView], language: str, followable: list[Followable] = ()) -> Screen:
    """The account's trucks, each with its Remove button and, when `followable` is given, a bell
    saying whether its notices come here and a button to switch them; then the trucks registered
    with the driver's phone, and a button to link them."""
    notices = {item.plate: item for item in followable}
    keyboard = Keyboard()
    for truck in trucks:
        remove = InlineKeyboardButton(text=_("🗑 Remove {plate}").format(plate=plate_label(truck, language)),
                                      callback_data=TruckCb(action=TruckAction.ASK_REMOVE, truck_id=truck.id).pack())
        item = notices.get(truck.plate)
        keyboard.row(remove, *([_toggle(item, language)] if item else []))
    for item in followable:
        if not item.own:
            keyboard.row(_toggle(item, language))
    keyboard.row(InlineKeyboardButton(text=_("➕ Add truck"), callback_data=TruckCb(action=TruckAction.ADD).pack()))
    if followable or trucks:
        keyboard.row(InlineKeyboardButton(text=following.link_by_phone_label(), callback_data=PhoneCb().pack()))
    extra = following.notice_lines(list(followable), language)
    if not trucks:
        return Screen("\n".join([_("You have no trucks yet. Add one to book crossings."), *extra]), keyboard.as_markup())
    lines = [_("<b>Your trucks</b>")] + [
        f"• {plate_text(t, language)}" + (f" {following.bell(notices[t.plate])}" if t.plate in notices else "")
        for t in trucks]
    return Screen("\n".join(lines + extra), keyboard.as_markup())


def _toggle(item: Followable, language: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=following.toggle_label(item, language),
                                callback_data=FollowCb(on=not item.following, plate=item.plate).pack())


def invalid_plate(language: str) -> Screen:
    examples = ", ".join(f"<code>{latin(parse_plate(typed).shown(language), language)}</code>"
                         for typed in PLATE_EXAMPLES)
    return Screen(_("This does not look like a plate number. Send only letters and digits, "
                    "for example <code>123ABC02</code>. /cancel — stop") + "\n"
                  + _("Plates of Kazakhstan, Russia, Kyrgyzstan, Uzbekistan, China, Iran and Türkiye are "
                      "accepted, as they are written there: {examples}").format(examples=examples))


def trailer_plate_as_truck() -> Screen:
    return Screen(_("This is a trailer's plate. Send the truck's own plate first; the trailer comes next."))


def ask_trailer(truck: TruckView, language: str) -> Screen:
    text = _("Truck {plate} added. Send the trailer's plate number, or tap Skip.").format(
        plate=plate_text(truck, language))
    keyboard = Keyboard()
    keyboard.button(text=_("Skip"), callback_data=TruckCb(action=TruckAction.SKIP_TRAILER, truck_id=truck.id))
    return Screen(text, keyboard.as_markup())


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
    keyboard = Keyboard()
    keyboard.button(text=_("Yes, remove"), callback_data=TruckCb(action=TruckAction.REMOVE, truck_id=truck.id))
    keyboard.button(text=_("No"), callback_data=TruckCb(action=TruckAction.KEEP, truck_id=truck.id))
    return Screen(_("Remove truck {plate}?").format(plate=plate_text(truck, language)), keyboard.adjust(2).as_markup())


def truck_has_bookings() -> str:
    """An alert: the truck cannot be removed while it has an upcoming hold or booking."""
    return _("This truck has an upcoming booking or hold. Cancel it in /mybookings first.")

"""What a chat follows: the notices part of /trucks, and linking trucks by the driver's phone."""

from __future__ import annotations

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from handlers.common.l10n import latin, listing, plate_label, plate_text
from handlers.common.screen import Keyboard, Screen
from handlers.trucks.callbacks import MenuAction, MenuCb, PhoneAction, PhoneTruckCb
from services.accounts.follows import Followable, PhoneShared


def notice_lines(followable: list[Followable], language: str) -> list[str]:
    """Lines for a page of /trucks: the trucks registered with the driver's phone, each with a bell
    saying whether its notices come here. Own trucks are listed above with a bell each."""
    by_phone = [f for f in followable if not f.own]
    if not by_phone:
        return []
    return ["", _("<b>Registered with your phone</b>")] + [f"• {plate_text(f.plate, language)} {bell(f)}"
                                                            for f in by_phone]


def bell(item: Followable) -> str:
    return "🔔" if item.following else "🔕"


def notices_line(following: bool) -> str:
    """A truck's menu: whether its notices come to this chat."""
    return _("🔔 Its status notices come to this chat.") if following else _("🔕 Its status notices are muted.")


def phone_truck_menu(item: Followable, language: str, page: int) -> Screen:
    """A truck registered with the driver's phone: its notices on or off, and back to the list's page."""
    keyboard = Keyboard()
    action = PhoneAction.NOTICES_OFF if item.following else PhoneAction.NOTICES_ON
    keyboard.button(text=toggle_label(item, language),
                    callback_data=PhoneTruckCb(action=action, plate=item.plate, page=page))
    keyboard.button(text=back_label(), callback_data=MenuCb(action=MenuAction.LIST, page=page))
    lines = [_("<b>Truck {plate}</b>").format(plate=plate_text(item.plate, language)),
             _("<b>Registered with your phone</b>"),
             notices_line(item.following)]
    return Screen("\n".join(lines), keyboard.adjust(1).as_markup())


def toggle_label(item: Followable, language: str) -> str:
    if item.following:
        return _("🔕 Mute {plate}").format(plate=plate_label(item.plate, language))
    return _("🔔 Notices for {plate}").format(plate=plate_label(item.plate, language))


def back_label() -> str:
    """Back to the list, from a truck's menu."""
    return _("◀ Back")


def link_by_phone_label() -> str:
    return _("📱 Link trucks by my phone")


def ask_phone() -> Screen:
    keyboard = ReplyKeyboardMarkup(keyboard=[
        [KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)],
        [KeyboardButton(text=_("Not now"))],
    ], resize_keyboard=True, one_time_keyboard=True)
    return Screen(_("Trucks that the border service registered with your phone number will send their "
                    "status notices here. Tap the button below to share your number."), keyboard)


def phone_linked(shared: PhoneShared, language: str) -> Screen:
    number = latin(f"+{shared.phone}", language)
    if shared.linked:
        plates = listing((plate_text(plate, language) for plate in shared.linked), language)
        text = _("Number {phone} saved. Notices of these trucks will come here: {plates}.").format(
            phone=number, plates=plates)
    else:
        text = _("Number {phone} saved. No truck is registered with it yet; when the border service "
                 "registers one, its notices will come here.").format(phone=number)
    return Screen(text + "\n" + _("/trucks — your trucks and notices"), ReplyKeyboardRemove())


def not_a_phone() -> Screen:
    return Screen(_("This number cannot be used. Share your own number with the button below."))


def not_now() -> Screen:
    return Screen(_("Fine. You can link trucks by phone later in /trucks."), ReplyKeyboardRemove())

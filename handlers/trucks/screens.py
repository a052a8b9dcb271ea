"""A driver's or dispatcher's trucks: the list in pages, a truck's menu, adding a plate and a trailer,
removing one."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from handlers.common.follow_ups import book, follow_ups, my_trucks
from handlers.common.l10n import digits, latin, listing, page_turns, plate_label, plate_text
from handlers.common.screen import Keyboard, Screen
from handlers.trucks import following_screens as following
from handlers.trucks.callbacks import MenuAction, MenuCb, PhoneAction, PhoneCb, PhoneTruckCb, TruckAction, TruckCb
from services.accounts.follows import Followable
from services.accounts.plates import parse_plate
from services.accounts.trucks import TruckView

# One plate of each country, as a driver would type it.
PLATE_EXAMPLES = ("123ABC02", "А123ВС77", "01KG123ABC", "01A123BC", "新A12345", "12ع345-67", "34ABC123")
TRUCKS_PER_PAGE = 8  # with the pages, Add and the phone link: at most 12 buttons, whatever the number of trucks


def trucks_list(trucks: list[TruckView], language: str, followable: list[Followable] = (), page: int = 1) -> Screen:
    """The account's trucks, then the ones registered with the driver's phone, a page at a time:
    one short button each (its plate, and a bell saying whether its notices come here) that opens
    its menu; the pages; adding a truck and linking them by phone."""
    notices = {item.plate: item for item in followable}
    entries: list[TruckView | Followable] = [*trucks, *(item for item in followable if not item.own)]
    pages = max(1, -(-len(entries) // TRUCKS_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = entries[(page - 1) * TRUCKS_PER_PAGE:page * TRUCKS_PER_PAGE]
    own = [entry for entry in shown if isinstance(entry, TruckView)]
    by_phone = [entry for entry in shown if isinstance(entry, Followable)]
    keyboard = Keyboard()
    for entry in shown:
        item = notices.get(entry.plate) if isinstance(entry, TruckView) else entry
        label = plate_label(entry.plate, language) + (f" {following.bell(item)}" if item else "")
        keyboard.button(text=label, callback_data=MenuCb(action=MenuAction.OPEN, truck_id=entry.id, page=page)
                        if isinstance(entry, TruckView) else PhoneTruckCb(action=PhoneAction.OPEN, plate=entry.plate,
                                                                          page=page))
    keyboard.adjust(2)
    if pages > 1:
        keyboard.row(*_turns(page, pages, language))
    keyboard.row(InlineKeyboardButton(text=_("➕ Add truck"), callback_data=TruckCb(action=TruckAction.ADD).pack()))
    if entries:
        keyboard.row(InlineKeyboardButton(text=following.link_by_phone_label(), callback_data=PhoneCb().pack()))
    head = _("<b>Your trucks</b>") if trucks else _("You have no trucks yet. Add one to book crossings.")
    if pages > 1:
        head += " · " + _("Page {page} of {pages}").format(page=digits(page, language), pages=digits(pages, language))
    lines = [head] + [
        f"• {plate_text(t, language)}" + (f" {following.bell(notices[t.plate])}" if t.plate in notices else "")
        for t in own]
    lines += following.notice_lines(by_phone, language)
    if entries:
        lines += ["", _("Tap a truck to mute its notices, change its trailer or remove it.")]
    return Screen("\n".join(lines), keyboard.as_markup())


def _turns(page: int, pages: int, language: str) -> list[InlineKeyboardButton]:
    """◀ and ▶ to the pages before and after, in the reader's direction (`page_turns`)."""
    return [InlineKeyboardButton(text=arrow, callback_data=MenuCb(action=MenuAction.LIST, page=to).pack())
            for arrow, to in page_turns(page, pages, language)]


def truck_menu(truck: TruckView, item: Followable | None, language: str, page: int) -> Screen:
    """An own truck: its notices on or off, its trailer added, changed or removed, the truck removed,
    and back to the list's page it was opened from."""
    hearing = item is not None and item.following
    lines = [_("<b>Truck {plate}</b>").format(plate=plate_text(truck.plate, language)),
             _("Trailer: {plate}").format(plate=plate_text(truck.trailer_plate, language)) if truck.trailer_plate
             else _("No trailer"), following.notices_line(hearing)]
    keyboard = Keyboard()
    keyboard.button(text=following.toggle_label(Followable(truck.plate, True, hearing), language),
                    callback_data=_menu(MenuAction.NOTICES_OFF if hearing else MenuAction.NOTICES_ON, truck, page))
    keyboard.button(text=_("🚛 Change trailer") if truck.trailer_plate else _("🚛 Add trailer"),
                    callback_data=_menu(MenuAction.TRAILER, truck, page))
    if truck.trailer_plate:
        keyboard.button(text=_("✖ Remove trailer"), callback_data=_menu(MenuAction.DROP_TRAILER, truck, page))
    keyboard.button(text=_("🗑 Remove truck"), callback_data=_menu(MenuAction.ASK_REMOVE, truck, page))
    keyboard.button(text=following.back_label(), callback_data=MenuCb(action=MenuAction.LIST, page=page))
    return Screen("\n".join(lines), keyboard.adjust(1).as_markup())


def _menu(action: MenuAction, truck: TruckView, page: int) -> MenuCb:
    return MenuCb(action=action, truck_id=truck.id, page=page)


def ask_new_trailer(truck: TruckView, language: str, page: int) -> Screen:
    keyboard = Keyboard()
    keyboard.button(text=following.back_label(), callback_data=_menu(MenuAction.OPEN, truck, page))
    text = _("Send the trailer's plate number for truck {plate}.").format(plate=plate_text(truck.plate, language))
    return Screen(text, keyboard.as_markup())


def invalid_plate(language: str) -> Screen:
    examples = listing((f"<code>{latin(parse_plate(typed).shown(language), language)}</code>"
                        for typed in PLATE_EXAMPLES), language)
    return Screen(_("This does not look like a plate number. Send only letters and digits, "
                    "for example <code>123ABC02</code>. /cancel — stop") + "\n"
                  + _("Plates of Kazakhstan, Russia, Kyrgyzstan, Uzbekistan, China, Iran and Türkiye are "
                      "accepted, as they are written there: {examples}").format(examples=examples))


def trailer_plate_as_truck() -> Screen:
    return Screen(_("This is a trailer's plate. Send the truck's own plate first; the trailer comes next."))


def ask_trailer(truck: TruckView, language: str) -> Screen:
    """The second step of adding a truck: ◀ Back asks its plate again (a typo undone)."""
    text = _("Truck {plate} added. Send the trailer's plate number, or tap Skip.").format(
        plate=plate_text(truck, language))
    keyboard = Keyboard()
    keyboard.button(text=_("Skip"), callback_data=TruckCb(action=TruckAction.SKIP_TRAILER, truck_id=truck.id))
    keyboard.button(text=_("◀ Back"), callback_data=TruckCb(action=TruckAction.BACK_TO_PLATE, truck_id=truck.id))
    return Screen(text, keyboard.adjust(1).as_markup())


def truck_added(truck: TruckView, language: str, then_book: bool, skipped: bool = False) -> Screen:
    """The truck is saved; `skipped`: in place of the trailer's question, whose Skip was tapped. Then
    the booking goes on by itself (`then_book`), or is a tap away."""
    text = (_("Truck {plate} is added, without a trailer.") if skipped else _("Truck {plate} is saved.")).format(
        plate=plate_text(truck, language))
    if then_book:
        return Screen(text)
    return Screen(text + "\n" + _("/book — book a crossing time"), follow_ups(book()))


def truck_duplicate(truck: TruckView, language: str) -> Screen:
    return Screen(_("Truck {plate} is already in your list.").format(plate=plate_text(truck, language)))


def too_many_trucks() -> Screen:
    return Screen(_("You cannot add more trucks. Remove one in /trucks first."), follow_ups(my_trucks()))


def ask_remove_truck(truck: TruckView, language: str, page: int = 1) -> Screen:
    keyboard = Keyboard()
    keyboard.button(text=_("Yes, remove"), callback_data=_menu(MenuAction.REMOVE, truck, page))
    keyboard.button(text=_("No"), callback_data=_menu(MenuAction.KEEP, truck, page))
    return Screen(_("Remove truck {plate}?").format(plate=plate_text(truck, language)), keyboard.adjust(2).as_markup())


def truck_has_bookings() -> str:
    """An alert: the truck cannot be removed while it has an upcoming hold or booking."""
    return _("This truck has an upcoming booking or hold. Cancel it in /mybookings first.")

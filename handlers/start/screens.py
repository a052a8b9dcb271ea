"""Start, help, the choice of language and the command menu."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.common.follow_ups import book, follow_ups, my_bookings
from handlers.common.holds import HoldAction, HoldCb
from handlers.common.l10n import digits, local_time_zoned, plate_text, where_and_when
from handlers.common.screen import Keyboard, Screen
from handlers.start.callbacks import LanguageCb
from services.booking.outcomes import HoldView
from services.kernel.rules import Checkpoint

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "fa": "فارسی"}


def command_menu() -> list[tuple[str, str]]:
    """The commands Telegram lists in the menu, in the current locale."""
    return [
        ("book", _("Book a crossing time")),
        ("mybookings", _("My bookings")),
        ("trucks", _("My trucks")),
        ("myrating", _("My rating: holds and bookings")),
        ("support", _("Write to support")),
        ("language", _("Change the language")),
        ("help", _("Help")),
        ("cancel", _("Stop what I am doing")),
    ]


def bot_description() -> str:
    """What Telegram shows in the empty chat before /start (at most 512 characters)."""
    return _("Nobat is the electronic queue for trucks at the border crossings of Khorgos, Dostyk and Bazargan. "
             "Book a time to cross in this chat: I show the first free time, and nothing is reserved until you "
             "tap Next. Tap Start.")


def bot_short_description() -> str:
    """On the bot's profile and in shared links (at most 120 characters)."""
    return _("Book a border crossing time for your truck: Khorgos, Dostyk, Bazargan.")


def choose_language() -> Screen:
    # Shown before we know the language, so it speaks all three.
    text = "Тілді таңдаңыз · Выберите язык · زبان را انتخاب کنید"
    keyboard = Keyboard()
    for code, name in LANGUAGE_NAMES.items():
        keyboard.button(text=name, callback_data=LanguageCb(code=code))
    return Screen(text, keyboard.adjust(3).as_markup())


def commands() -> str:
    """Every command of the menu, one a line: /start and /help list them all, from the one list."""
    return "\n".join(f"/{command} — {description}" for command, description in command_menu())


def greeting(first_name: str) -> Screen:
    """Who the bot is and what it does: a new driver reads it first, however they came."""
    return Screen("\n\n".join([
        _("Hello, {name}! I am Nobat, the electronic queue for trucks at border crossings.").format(
            name=escape(first_name)),
        _("Here you book a time to cross: I show the first free time, and nothing is reserved until you tap "
          "Next. Your trucks' status notices come here too, and support answers in this chat."),
    ]))


def welcome(first_name: str) -> Screen:
    """What the bot does, and every command."""
    return Screen(greeting(first_name).text + "\n\n" + commands())


def help_text(hold_minutes: int, language: str) -> Screen:
    return Screen("\n\n".join([
        _("<b>How to book</b>\n"
          "1. /book and choose the checkpoint.\n"
          "2. I show the first free time. Tap Next to hold it, or Other time.\n"
          "3. A hold lasts {minutes} min. Tap Confirm to get your booking reference.").format(
            minutes=digits(hold_minutes, language)),
        commands(),
    ]))


def language_set(answer_follows: bool = False) -> Screen:
    """`answer_follows`: the answer to what the driver asked before choosing comes next, so no 📅."""
    text = _("Language changed. /book — book a crossing time")
    return Screen(text) if answer_follows else Screen(text, follow_ups(book()))


def stopped(anything: bool) -> Screen:
    if anything:
        return Screen(_("Stopped. /book — book a crossing time"), follow_ups(book()))
    return Screen(_("Nothing to stop. /help — help"))


def stopped_but_holding(holds: list[HoldView], checkpoints: dict[str, Checkpoint], language: str) -> Screen:
    """/cancel while a hold runs: the step stops, the hold does not; each hold named, with a button
    to cancel it (one left to run out counts in the driver's rating)."""
    lines = [ngettext("Stopped. Your hold is still running:", "Stopped. Your holds are still running:", len(holds))]
    keyboard = Keyboard()
    for held in holds:
        checkpoint = checkpoints[held.checkpoint]
        lines.append("• " + _("{plate}: {when}, confirm by {until}").format(
            plate=plate_text(held.plate, language), when=where_and_when(checkpoint, held.starts_at, language),
            until=local_time_zoned(held.expires_at, checkpoint.tz, language)))
        keyboard.button(text=_("✖ Cancel the hold of {plate}").format(plate=plate_text(held.plate, language)),
                        callback_data=HoldCb(action=HoldAction.CANCEL, hold_id=held.id))
    lines.append(_("A hold left to run out counts in your rating (/myrating). /mybookings — confirm it"))
    keyboard.add(my_bookings())
    return Screen("\n".join(lines), keyboard.adjust(1).as_markup())

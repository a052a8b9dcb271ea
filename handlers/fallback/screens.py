"""Short answers for what no feature took: stray text, unknown commands, stickers and photos."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.common.screen import Screen


def unknown_command() -> Screen:
    return Screen(_("I do not know this command. /help — what I can do"))


def use_buttons() -> Screen:
    return Screen(_("Please tap one of the buttons above, or /cancel to stop."))


def not_understood() -> Screen:
    return Screen(_("I did not understand. /book — book a crossing time, /help — help"))


def unsupported_media() -> Screen:
    return Screen(_("I can read only text and buttons. /help — help"))

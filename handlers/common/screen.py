"""A screen is what a handler puts in front of the user: text and, maybe, buttons.

Every feature's `screens.py` returns these; rendering is pure (no Telegram calls, no database), so
screens are tested without a bot. Text comes from the catalogs in the current locale, set by the
locale middleware (or by `i18n.use_locale` in workers); values are escaped for HTML.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

MESSAGE_LIMIT = 4096  # Telegram's, in UTF-16 code units of the text once its HTML is parsed
_TAG = re.compile(r"<[^>]*>")


def shown_length(text: str) -> int:
    """How long Telegram counts an HTML text: its tags gone, each entity the character it stands
    for, in UTF-16 code units (an emoji beyond U+FFFF counts two)."""
    return len(html.unescape(_TAG.sub("", text)).encode("utf-16-le", "surrogatepass")) // 2


@dataclass(frozen=True)
class Screen:
    text: str
    # Inline buttons; or, for a message asking for the driver's contact, a reply keyboard (or its removal).
    reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "reply_markup": self.reply_markup}


class Keyboard(InlineKeyboardBuilder):
    """aiogram's keyboard builder, without its deep copy of every button on every `button()`,
    `attach()` and `as_markup()`: every answer in a rush builds a keyboard, and those copies were a
    cost of its hot path (docs/benchmarks.md). The buttons are this builder's own, made by it and
    never changed, so a copy of the rows is enough."""

    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]


def markup(builder: InlineKeyboardBuilder) -> InlineKeyboardMarkup | None:
    """The builder's keyboard, or none at all: an edit without a keyboard removes the old one."""
    return builder.as_markup() if builder.export() else None


def stale_button() -> str:
    """The alert for a tap on a button that no longer means anything (old, or forged)."""
    return _("This button is no longer valid.")


def server_error() -> Screen:
    return Screen(_("Something went wrong on our side; nothing was lost. Please try again in a minute."))


def database_busy() -> Screen:
    """When the database did not answer in time: a wait of seconds, not a fault to report."""
    return Screen(_("We are very busy right now; nothing was lost. Please try again in a few seconds."))


def not_own_contact() -> Screen:
    """Someone else's contact, or a forwarded one, where only the driver's own would do: while the
    bot asks for their phone, or from a driver with no ticket for the agents to pass it to."""
    return Screen(_("Only your own number can be linked: tap «Share my phone number» below."))


def too_many_messages() -> Screen:
    """Once, to a driver writing faster than the flood limit; what follows is not read for a while."""
    return Screen(_("Too many messages at once. Please wait a few seconds, then go on."))

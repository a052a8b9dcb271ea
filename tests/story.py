"""What a driver does, step by step, for the end-to-end tests; and the catalogs' words for buttons."""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

import locales
from services.kernel.rules import LANGUAGES

CHECKPOINT_NAMES = {
    "khorgos": {"kk": "Қорғас", "ru": "Хоргос", "fa": "خورگوس"},
    "dostyk": {"kk": "Достық", "ru": "Достык", "fa": "دوستیک"},
}


@cache
def _catalog(language: str) -> gettext.GNUTranslations:
    path = Path(locales.__file__).parent / language / "LC_MESSAGES" / "messages.mo"
    with path.open("rb") as fp:
        return gettext.GNUTranslations(fp)


def t(language: str, msgid: str) -> str:
    """A message as the driver sees it in that language (buttons are tapped by what they say)."""
    assert language in LANGUAGES
    return _catalog(language).gettext(msgid)


def tn(language: str, singular: str, plural: str, count: int) -> str:
    return _catalog(language).ngettext(singular, plural, count)


async def register(user, plate: str = "123ABC02") -> None:
    """/start, then /book adds the first truck and leads to the checkpoint choice."""
    await user.send("/start")
    await user.send("/book")
    await user.send(plate)
    await user.tap(t(user.language_code, "Skip"))


async def add_truck(user, plate: str) -> None:
    """Another truck, from /trucks, without a trailer."""
    await user.send("/trucks")
    await user.tap(t(user.language_code, "➕ Add truck"))
    await user.send(plate)
    await user.tap(t(user.language_code, "Skip"))


async def open_offer(user, checkpoint: str = "khorgos", plate: str = "123ABC02"):
    """A new driver gets as far as the first free time at the checkpoint."""
    await register(user, plate)
    await user.tap(CHECKPOINT_NAMES[checkpoint][user.language_code])
    return user.last_message()

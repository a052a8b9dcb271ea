"""The message catalogs as the wording tests read them: each msgid with its translation's forms."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

import locales

LOCALES = Path(locales.__file__).parent
LANGUAGES = ("kk", "ru", "fa")


@cache
def entries(language: str) -> dict[str, tuple[str, ...]]:
    """msgid (the singular for plurals) → its msgstr forms."""
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open(encoding="utf-8") as fp:
        catalog = read_po(fp, locale=language)
    found = {}
    for message in catalog:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        found[source] = message.string if isinstance(message.string, tuple) else (message.string,)
    return found


def all_text(language: str) -> list[tuple[str, str]]:
    """(msgid, one form of its translation), for every form of every entry."""
    return [(source, text) for source, forms in entries(language).items() for text in forms]


def one(language: str, msgid: str) -> str:
    """The translation of a msgid that has no plural forms."""
    forms = entries(language)[msgid]
    assert len(forms) == 1, msgid
    return forms[0]

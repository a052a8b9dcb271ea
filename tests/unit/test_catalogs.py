"""Every word a driver reads exists in Kazakh, Russian and Persian, and the compiled catalogs the
bot loads say exactly what the translators wrote."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import locales

ROOT = Path(__file__).resolve().parents[2]
LOCALES = Path(locales.__file__).parent
LANGUAGES = ("kk", "ru", "fa")
PLACEHOLDER = re.compile(r"\{\w+\}")
TAG = re.compile(r"</?(\w+)")


def _catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open(encoding="utf-8") as fp:
        return read_po(fp, locale=language)


def _messages_in_code() -> set[str]:
    found = set()
    for folder in ("bot", "handlers", "services"):
        method_map = [("**.py", "python")]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=method_map, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "__": None},
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_template_holds_every_message_in_the_code():
    with (LOCALES / "messages.pot").open(encoding="utf-8") as fp:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp) if m.id}
    assert _messages_in_code() == template, "run the catalog update described in docs/operations.md (Translating)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders_and_tags(language):
    catalog = _catalog(language)
    expected_forms = {"kk": 2, "ru": 3, "fa": 1}[language]
    assert catalog.num_plurals == expected_forms
    code = _messages_in_code()
    ids = set()
    for message in catalog:
        if not message.id:
            continue
        ids.add(message.id if isinstance(message.id, str) else message.id[0])
        assert not message.fuzzy, message.id
        source = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(message.id, tuple):
            assert len(strings) == expected_forms, message.id
        for text in strings:
            assert text, f"{language}: untranslated {source!r}"
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(source)), (language, source, text)
            assert sorted(TAG.findall(text)) == sorted(TAG.findall(source)), (language, source, text)
    assert ids == code


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogs_match_their_sources(language):
    catalog = _catalog(language)
    with (LOCALES / language / "LC_MESSAGES" / "messages.mo").open("rb") as fp:
        compiled = gettext.GNUTranslations(fp)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            for n in (1, 2, 5, 21):
                index = gettext.c2py(catalog.plural_expr)(n)
                assert compiled.ngettext(message.id[0], message.id[1], n) == message.string[index], message.id
        else:
            assert compiled.gettext(message.id) == message.string, "run pybabel compile (docs/operations.md)"


def test_russian_plurals_use_three_forms():
    with (LOCALES / "ru" / "LC_MESSAGES" / "messages.mo").open("rb") as fp:
        ru = gettext.GNUTranslations(fp)
    one, few, many = (ru.ngettext("{count} place free", "{count} places free", n) for n in (1, 3, 5))
    assert len({one, few, many}) == 3
    assert ru.ngettext("{count} place free", "{count} places free", 21) == one
    assert ru.ngettext("{count} place free", "{count} places free", 12) == many

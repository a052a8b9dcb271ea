"""Truck and trailer plates as they are written at these borders, and one canonical form for each.

Drivers type plates on Cyrillic, Latin, Persian or Chinese keyboards, with or without spaces, and
paste them from the bot's own messages; "А 123 ВС 77" typed in Cyrillic and "A123BC77" typed in
Latin are the same truck, so both must become the same string. The canonical form is what is
stored and compared: the plate's characters without separators, Latin capitals for the letters
of Latin-letter countries and for Russia's twelve Cyrillic letters (each has a Latin twin, which
is what the old normalization stored), the Persian letter for Iran, the province character for
China, Latin digits everywhere. `Plate.shown` writes it back the way its country writes it.

Formats overlap once separators are gone, so each canonical form is made to parse back to the
same country, and where two countries' plates read alike (an Uzbek "01 123 ABC" and a Kyrgyz
plate typed without its "KG") the country whose format it is without a marker wins.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class Country(StrEnum):
    KAZAKHSTAN = "KZ"
    RUSSIA = "RU"
    KYRGYZSTAN = "KG"
    UZBEKISTAN = "UZ"
    CHINA = "CN"
    IRAN = "IR"
    TURKIYE = "TR"


@dataclass(frozen=True, slots=True)
class Plate:
    country: Country
    canonical: str
    parts: tuple[str, ...]  # the groups its country writes apart, canonical characters
    trailer: bool = False  # a format only trailers carry

    def shown(self, language: str) -> str:
        """The plate as its country writes it, for a reader of `language`."""
        return _SHOWN[self.country](self.parts, language, self.trailer)


# Cyrillic letters that look like Latin ones on a plate (and are typed by habit on a Cyrillic
# keyboard), Arabic letters a Persian plate writes in their Persian form.
_LOOKALIKES = str.maketrans(
    "АВЕКМНОРСТУХІЈЅ" "авекмнорстухіјѕ" "يك",
    "ABEKMHOPCTYXIJS" "ABEKMHOPCTYXIJS" "یک",
)
_SEPARATORS = re.compile(r"[\s\-_.·•‧・|/\\\u2010-\u2015]+")
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_TO_CYRILLIC = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"

_RU = "ABEKMHOPCTYX"  # the twelve letters of Russian plates, by their Latin twins
_CN_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_CN = "A-HJ-NP-Z"  # Chinese plates leave out I and O, which read as 1 and 0
_TR = "A-PR-VYZ"  # Turkish plates use no Q, W, X (and none of Ç Ğ İ Ö Ş Ü)
_IR = "ابپتثجدزژسشصطعفقکگلمنوهی"
_IRAN = "(?:ایران|IRAN|IR)"


def _in(low: int, high: int) -> Callable[[str], bool]:
    return lambda code: low <= int(code) <= high


_KZ_REGION = _in(1, 20)  # 01 Astana … 17 Shymkent, 18–20 the regions formed in 2022
_TR_PROVINCE = _in(1, 81)
_UZ_REGION = _in(1, 99)  # 01–09 Tashkent city, 10–19 its region, … 95–99 Karakalpakstan
_KG_REGION = _in(1, 9)  # 01 Bishkek … 09 Issyk-Kul
_IR_REGION = _in(10, 99)


def _ru_region(code: str) -> bool:
    # Two digits, or three for the regions that ran out of numbers (102, 116, 750, 777, 977, ...).
    return code != "00" and (len(code) == 2 or code[0] in "179")


def _tr_serial(letters: str, digits: str) -> bool:
    # One letter takes 4–5 digits, two letters 3–4, three letters 2–3.
    return len(digits) in {1: (4, 5), 2: (3, 4), 3: (2, 3)}[len(letters)]


@dataclass(frozen=True, slots=True)
class _Format:
    country: Country
    pattern: re.Pattern[str]
    valid: Callable[[dict[str, str]], bool]
    parts: tuple[str, ...]  # group names, in the order the plate is written
    marker: dict[str, str] | None = None  # a country code kept in the canonical form after a part
    trailer: bool = False


def _format(country: Country, pattern: str, parts: str, valid: Callable[[dict[str, str]], bool] = lambda g: True,
            **options) -> _Format:
    return _Format(country, re.compile(pattern), valid, tuple(parts.split()), **options)


# Tried in order; the first that fits decides. The truck formats come before the trailer ones.
_FORMATS = (
    # Kazakhstan since 2012: 123 ABC 02 (a person's), 123 AB 02 (a company's); trailers 12 AB 02.
    _format(Country.KAZAKHSTAN, r"(?:KZ)?(?P<n>\d{3})(?P<s>[A-Z]{2,3})(?P<r>\d{2})", "n s r",
            lambda g: _KZ_REGION(g["r"])),
    # Russia: А 123 ВС 77 (or a three-digit region); trailers АВ 1234 77.
    _format(Country.RUSSIA, rf"(?P<a>[{_RU}])(?P<n>\d{{3}})(?P<s>[{_RU}]{{2}})(?P<r>\d{{2,3}})(?:RUS)?",
            "a n s r", lambda g: g["n"] != "000" and _ru_region(g["r"])),
    # Kyrgyzstan since 2016: 01 KG 123 ABC, the region, the flag with KG, the number.
    _format(Country.KYRGYZSTAN, r"(?P<r>\d{2})KG(?P<n>\d{3})(?P<s>[A-Z]{2,3})", "r n s",
            lambda g: _KG_REGION(g["r"]), marker={"r": "KG"}),
    # Uzbekistan since 2008: 01 A 123 BC (a person's), 01 123 ABC (a company's); trailers 01 1234 AB.
    _format(Country.UZBEKISTAN, r"(?P<r>\d{2})(?P<a>[A-Z])(?P<n>\d{3})(?P<s>[A-Z]{2})(?:UZ)?", "r a n s",
            lambda g: _UZ_REGION(g["r"])),
    _format(Country.UZBEKISTAN, r"(?P<r>\d{2})(?P<n>\d{3})(?P<s>[A-Z]{3})(?:UZ)?", "r n s",
            lambda g: _UZ_REGION(g["r"])),
    # Kyrgyzstan typed without its KG: only what no Uzbek plate reads as (a company's 01 123 AB).
    _format(Country.KYRGYZSTAN, r"(?P<r>\d{2})(?P<n>\d{3})(?P<s>[A-Z]{2})", "r n s",
            lambda g: _KG_REGION(g["r"]), marker={"r": "KG"}),
    # China: the province's character, a letter, five characters (six on new-energy plates).
    _format(Country.CHINA, rf"(?P<p>[{_CN_PROVINCES}])(?P<a>[{_CN}])(?P<n>[{_CN}0-9]{{5,6}})", "p a n"),
    # Iran: 12 ع 345 and the region 67 (with "ایران" above it); written also region first.
    _format(Country.IRAN, rf"(?P<b>\d{{2}})(?P<l>الف|[{_IR}])(?P<n>\d{{3}}){_IRAN}?(?P<r>\d{{2}})", "b l n r",
            lambda g: _IR_REGION(g["r"])),
    _format(Country.IRAN, rf"{_IRAN}(?P<r>\d{{2}})(?P<b>\d{{2}})(?P<l>الف|[{_IR}])(?P<n>\d{{3}})", "b l n r",
            lambda g: _IR_REGION(g["r"])),
    # Türkiye: 34 A 1234, 34 AB 123, 34 ABC 12 and their longer variants; trailers alike.
    _format(Country.TURKIYE, rf"(?:TR)?(?P<r>\d{{2}})(?P<s>[{_TR}]{{1,3}})(?P<n>\d{{2,5}})", "r s n",
            lambda g: _TR_PROVINCE(g["r"]) and _tr_serial(g["s"], g["n"])),
    # Trailers.
    _format(Country.KAZAKHSTAN, r"(?:KZ)?(?P<n>\d{2})(?P<s>[A-Z]{2})(?P<r>\d{2})", "n s r",
            lambda g: _KZ_REGION(g["r"]), trailer=True),
    _format(Country.RUSSIA, rf"(?P<s>[{_RU}]{{2}})(?P<n>\d{{4}})(?P<r>\d{{2,3}})(?:RUS)?", "s n r",
            lambda g: g["n"] != "0000" and _ru_region(g["r"]), trailer=True),
    _format(Country.UZBEKISTAN, r"(?P<r>\d{2})(?P<n>\d{4})(?P<s>[A-Z]{2})(?:UZ)?", "r n s",
            lambda g: _UZ_REGION(g["r"]), trailer=True),
    _format(Country.CHINA, rf"(?P<p>[{_CN_PROVINCES}])(?P<a>[{_CN}])(?P<n>[{_CN}0-9]{{4}})挂", "p a n",
            trailer=True),
)


def parse_plate(raw: str) -> Plate | None:
    """The plate written in `raw`, or None when it is none of these borders' plates."""
    text = _cleaned(raw)
    if text is None:
        return None
    for form in _FORMATS:
        found = form.pattern.fullmatch(text)
        if found is None or not form.valid(found.groupdict()):
            continue
        # A lone alef is how a phone keyboard types the letter plates write "الف".
        parts = tuple("الف" if part == "ا" else part for part in (found[name] for name in form.parts))
        marker = form.marker or {}
        canonical = "".join(part + marker.get(name, "") for name, part in zip(form.parts, parts, strict=True))
        if form.country is Country.CHINA and form.trailer:
            canonical += "挂"
        return Plate(form.country, canonical, parts, form.trailer)
    return None


def normalize_plate(raw: str) -> str | None:
    """The canonical form of the plate written in `raw`, or None."""
    plate = parse_plate(raw)
    return None if plate is None else plate.canonical


@lru_cache(maxsize=4096)
def stored_plate(canonical: str) -> Plate | None:
    """A stored canonical plate, parsed again to be shown (None for one stored before these
    formats, which is shown as it is)."""
    return parse_plate(canonical)


def _cleaned(raw: str) -> str | None:
    """The plate's characters: invisibles and separators gone, digits Latin, letters in capitals;
    None when a character would have to be rewritten into other letters to fit."""
    kept = []
    for ch in raw:
        if unicodedata.category(ch) == "Cf":
            # Bidi marks, isolates (the bot puts them around plates in Persian), zero-width
            # joiners and the BOM: invisible in the chat, and never part of a plate.
            continue
        if ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch) == "Nd":
            # A digit has one value in every script: Persian phones type ۱۲۳, Chinese input
            # methods in full-width mode type １２３.
            kept.append(str(unicodedata.digit(ch)))
        elif unicodedata.normalize("NFKC", ch) != ch or len(ch.upper()) != 1:
            # A ligature (ﬁ), a presentation form, ß (which capitalizes to SS): turning it into
            # other letters would be guessing at the plate, so it is refused, not rewritten.
            return None
        else:
            kept.append(ch)
    return _SEPARATORS.sub("", "".join(kept)).translate(_LOOKALIKES).upper()


def _spaced(parts: tuple[str, ...], language: str, trailer: bool) -> str:
    return " ".join(parts)


def _russian(parts: tuple[str, ...], language: str, trailer: bool) -> str:
    return " ".join(part.translate(_TO_CYRILLIC) for part in parts)


def _kyrgyz(parts: tuple[str, ...], language: str, trailer: bool) -> str:
    region, *rest = parts
    return " ".join([region, "KG", *rest])


def _chinese(parts: tuple[str, ...], language: str, trailer: bool) -> str:
    province, letter, serial = parts
    return f"{province}{letter}·{serial}" + ("挂" if trailer else "")


def _iranian(parts: tuple[str, ...], language: str, trailer: bool) -> str:
    first, letter, number, region = parts
    if language == "fa":
        # As Iranians write it, right to left in Persian digits: the region after "ایران".
        return f"{first} {letter} {number} ایران {region}".translate(_PERSIAN_DIGITS)
    # In left-to-right text, left to right as on the plate, the Persian letter isolated so that
    # the digits after it are not pulled into its right-to-left run.
    return f"{LRI}{first} {FSI}{letter}{PDI} {number}-{region}{PDI}"


_SHOWN: dict[Country, Callable[[tuple[str, ...], str, bool], str]] = {
    Country.KAZAKHSTAN: _spaced,
    Country.RUSSIA: _russian,
    Country.KYRGYZSTAN: _kyrgyz,
    Country.UZBEKISTAN: _spaced,
    Country.CHINA: _chinese,
    Country.IRAN: _iranian,
    Country.TURKIYE: _spaced,
}

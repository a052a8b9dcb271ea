"""Plates as they are written at these borders: each country's plates, typed as drivers type them,
become one canonical form and are shown the way their country writes them; what is no plate of
these countries is refused."""

from __future__ import annotations

import pytest

from services.accounts.plates import Country, normalize_plate, parse_plate

KZ, RU, KG, UZ, CN, IR, TR = (Country.KAZAKHSTAN, Country.RUSSIA, Country.KYRGYZSTAN, Country.UZBEKISTAN,
                              Country.CHINA, Country.IRAN, Country.TURKIYE)
LRI, FSI, PDI, LRM, RLM, ZWJ, ZWNJ, BOM = "\u2066", "\u2068", "\u2069", "\u200e", "\u200f", "\u200d", "\u200c", "\ufeff"

# typed, country, canonical, shown in Russian (and Kazakh), shown in Persian, a trailer's format
VALID = [
    # Kazakhstan: a person's, a company's, a trailer's; the old normalization's forms unchanged.
    ("123ABC02", KZ, "123ABC02", "123 ABC 02", "123 ABC 02", False),
    ("123 abc 02", KZ, "123ABC02", "123 ABC 02", "123 ABC 02", False),
    ("123 аbc 02", KZ, "123ABC02", "123 ABC 02", "123 ABC 02", False),  # a Cyrillic "а" typed by habit
    ("KZ 456 XYZ 17", KZ, "456XYZ17", "456 XYZ 17", "456 XYZ 17", False),
    ("777-KZ-02", KZ, "777KZ02", "777 KZ 02", "777 KZ 02", False),
    ("٥٥٥ XYZ ٠١", KZ, "555XYZ01", "555 XYZ 01", "555 XYZ 01", False),  # Arabic-Indic digits
    ("  88 tr 02 ", KZ, "88TR02", "88 TR 02", "88 TR 02", True),
    ("12 AB 20", KZ, "12AB20", "12 AB 20", "12 AB 20", True),
    # Russia: the twelve letters, typed in Cyrillic or their Latin twins; three-digit regions; trailers.
    ("А 123 ВС 77", RU, "A123BC77", "А 123 ВС 77", "А 123 ВС 77", False),
    ("a123bc77", RU, "A123BC77", "А 123 ВС 77", "А 123 ВС 77", False),
    ("Х 987 УО 777 RUS", RU, "X987YO777", "Х 987 УО 777", "Х 987 УО 777", False),
    ("м001кт 102", RU, "M001KT102", "М 001 КТ 102", "М 001 КТ 102", False),
    ("АВ 1234 77", RU, "AB123477", "АВ 1234 77", "АВ 1234 77", True),
    ("ет 5678 750", RU, "ET5678750", "ЕТ 5678 750", "ЕТ 5678 750", True),
    # Kyrgyzstan: with its KG, or a company's plate without it.
    ("01KG123ABC", KG, "01KG123ABC", "01 KG 123 ABC", "01 KG 123 ABC", False),
    ("08 kg 456 xy", KG, "08KG456XY", "08 KG 456 XY", "08 KG 456 XY", False),
    ("02 123 AB", KG, "02KG123AB", "02 KG 123 AB", "02 KG 123 AB", False),
    # Uzbekistan: a person's, a company's (which a Kyrgyz plate without its KG reads as), a trailer's.
    ("01A123BC", UZ, "01A123BC", "01 A 123 BC", "01 A 123 BC", False),
    ("40 z 777 aa uz", UZ, "40Z777AA", "40 Z 777 AA", "40 Z 777 AA", False),
    ("01 123 ABC", UZ, "01123ABC", "01 123 ABC", "01 123 ABC", False),
    ("10 1234 AB", UZ, "101234AB", "10 1234 AB", "10 1234 AB", True),
    # China: the province's character; a trailer's 挂; the middle dot and full-width digits typed.
    ("新A12345", CN, "新A12345", "新A·12345", "新A·12345", False),
    ("新a·d1234", CN, "新AD1234", "新A·D1234", "新A·D1234", False),
    ("粤B 1234挂", CN, "粤B1234挂", "粤B·1234挂", "粤B·1234挂", True),
    ("京B １２３４５", CN, "京B12345", "京B·12345", "京B·12345", False),  # full-width digits
    # Iran: Persian or Latin digits, with or without "ایران", region first or last; the Arabic ي.
    ("۱۲ ع ۳۴۵ ایران ۶۷", IR, "12ع34567", f"{LRI}12 {FSI}ع{PDI} 345-67{PDI}", "۱۲ ع ۳۴۵ ایران ۶۷", False),
    ("12ع345-67", IR, "12ع34567", f"{LRI}12 {FSI}ع{PDI} 345-67{PDI}", "۱۲ ع ۳۴۵ ایران ۶۷", False),
    ("ایران ۶۷ ۱۲ ع ۳۴۵", IR, "12ع34567", f"{LRI}12 {FSI}ع{PDI} 345-67{PDI}", "۱۲ ع ۳۴۵ ایران ۶۷", False),
    ("٣٤ ي ٥٦٧ ١٠", IR, "34ی56710", f"{LRI}34 {FSI}ی{PDI} 567-10{PDI}", "۳۴ ی ۵۶۷ ایران ۱۰", False),
    ("55 الف 123 IR 11", IR, "55الف12311", f"{LRI}55 {FSI}الف{PDI} 123-11{PDI}", "۵۵ الف ۱۲۳ ایران ۱۱", False),
    # Türkiye: one, two or three letters with their numbers.
    ("34 ABC 123", TR, "34ABC123", "34 ABC 123", "34 ABC 123", False),
    ("TR 06 a 12345", TR, "06A12345", "06 A 12345", "06 A 12345", False),
    ("35 KL 4567", TR, "35KL4567", "35 KL 4567", "35 KL 4567", False),
    ("۱۲ IR ۳۴۵", TR, "12IR345", "12 IR 345", "12 IR 345", False),  # Persian digits
    # Invisible characters: bidi marks, zero-width joiners, the BOM, and the bot's own isolates.
    (f"{BOM}123{ZWJ}ABC{ZWNJ}02{LRM}", KZ, "123ABC02", "123 ABC 02", "123 ABC 02", False),
    (f"{RLM}А123ВС77{RLM}", RU, "A123BC77", "А 123 ВС 77", "А 123 ВС 77", False),
    (f"{FSI}123 ABC 02{PDI}", KZ, "123ABC02", "123 ABC 02", "123 ABC 02", False),
    # A Persian plate copied from the bot's Persian message, and from its Russian one.
    (f"{FSI}۱۲ ع ۳۴۵ ایران ۶۷{PDI}", IR, "12ع34567", f"{LRI}12 {FSI}ع{PDI} 345-67{PDI}", "۱۲ ع ۳۴۵ ایران ۶۷", False),
    (f"{LRI}12 {FSI}ع{PDI} 345-67{PDI}", IR, "12ع34567", f"{LRI}12 {FSI}ع{PDI} 345-67{PDI}", "۱۲ ع ۳۴۵ ایران ۶۷",
     False),
]

INVALID = [
    "hello",  # no number
    "AB1CDE",  # a single digit
    "12",  # too short
    "1234567890ABC",  # too long
    "12 ABC 02 !",  # punctuation that is no separator
    "",
    "123ABC",  # Kazakhstan without its region
    "123ABC99",  # no region 99 in Kazakhstan
    "1234ABC02",  # four digits
    "А123ЖК77",  # Ж is not on Russian plates
    "A123BC",  # Russia without its region
    "A123BC00",  # no region 00
    "A000BC77",  # number 000 is not issued
    "A123BC877",  # three-digit regions start with 1, 7 or 9
    "10KG123ABC",  # no Kyrgyz region 10
    "01KG1234ABC",
    "00A123BC",  # no Uzbek region 00
    "新I12345",  # Chinese plates have no I or O after the province
    "汉A12345",  # no such province character
    "新A1234",  # too short for a Chinese truck
    "12ع345",  # Iran without its region
    "12ع34509",  # no Iranian region 09
    "12Ø34567",  # not a Persian letter
    "34 ABC 1234",  # three letters take at most three digits in Türkiye
    "34 A 123",  # one letter takes at least four
    "82 ABC 123",  # 81 provinces
    "34 QWX 12",  # no Q, W, X on Turkish plates
    "34 ÇAB 123",  # nor Ç
    "123 ABß 02",  # ß would become "SS": refused, not rewritten
    "123 AﬁB 02",  # a ligature would become "FI"
    "新Ａ12345",  # a full-width letter would become another character
    "12 ﻉ 345 67",  # an Arabic presentation form of ع
]


@pytest.mark.parametrize("typed, country, canonical, shown_ru, shown_fa, trailer", VALID)
def test_a_plate_of_these_borders_becomes_its_canonical_form_and_is_shown_as_its_country_writes_it(
        typed, country, canonical, shown_ru, shown_fa, trailer):
    plate = parse_plate(typed)
    assert plate is not None, typed
    assert (plate.country, plate.canonical, plate.trailer) == (country, canonical, trailer)
    assert normalize_plate(typed) == canonical
    assert plate.shown("ru") == plate.shown("kk") == shown_ru
    assert plate.shown("fa") == shown_fa
    # What is stored parses back to the same plate, and what is shown can be typed again.
    assert parse_plate(canonical) == plate
    assert parse_plate(shown_ru) == parse_plate(shown_fa) == plate


@pytest.mark.parametrize("typed", INVALID)
def test_what_is_no_plate_of_these_borders_is_refused(typed):
    assert parse_plate(typed) is None
    assert normalize_plate(typed) is None


def test_every_country_has_valid_and_refused_examples():
    assert {row[1] for row in VALID} == set(Country)
    assert {row[1] for row in VALID if row[5]} == {KZ, RU, UZ, CN}, "the countries whose trailers have their own format"

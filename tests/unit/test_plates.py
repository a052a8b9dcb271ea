"""Plates as drivers type them become one canonical form; what cannot be a plate is refused."""

from __future__ import annotations

import pytest

from services.plates import normalize_plate


@pytest.mark.parametrize("typed, canonical", [
    ("123ABC02", "123ABC02"),
    ("123 abc 02", "123ABC02"),
    ("123 аbc 02", "123ABC02"),  # a Cyrillic "а" typed by habit
    ("А 123 ВС 77", "A123BC77"),  # all Cyrillic look-alikes
    ("777-KZ-02", "777KZ02"),
    ("۱۲ IR ۳۴۵", "12IR345"),  # Persian digits
    ("٥٥ XYZ ٠١", "55XYZ01"),  # Arabic-Indic digits
    ("  88 tr 02 ", "88TR02"),
])
def test_a_typed_plate_becomes_its_canonical_form(typed, canonical):
    assert normalize_plate(typed) == canonical


@pytest.mark.parametrize("typed", [
    "hello",  # no number
    "AB1CDE",  # a single digit
    "12",  # too short
    "1234567890ABC",  # too long
    "12 ABC 02 !",  # punctuation that is no separator
    "",
])
def test_what_cannot_be_a_plate_is_refused(typed):
    assert normalize_plate(typed) is None

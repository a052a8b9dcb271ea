"""Truck plates as drivers type them, turned into one canonical form.

Drivers type plates on Cyrillic, Latin or Persian keyboards; "А 123 ВС" typed in Cyrillic and
"A123BC" typed in Latin are the same truck, so both must become the same string.
"""

from __future__ import annotations

import re

# Cyrillic letters that look like Latin ones on a plate, and Persian/Arabic-Indic digits.
_LOOKALIKES = str.maketrans(
    "АВЕКМНОРСТУХІЈЅ" "авекмнорстухіјѕ" "۰۱۲۳۴۵۶۷۸۹" "٠١٢٣٤٥٦٧٨٩",
    "ABEKMHOPCTYXIJS" "ABEKMHOPCTYXIJS" "0123456789" "0123456789",
)
_SEPARATORS = re.compile(r"[\s\-_.·|/\\]+")
_VALID = re.compile(r"^[A-Z0-9]{4,10}$")


def normalize_plate(raw: str) -> str | None:
    """The canonical plate, or None when the text cannot be a plate."""
    plate = _SEPARATORS.sub("", raw.strip()).translate(_LOOKALIKES).upper()
    if not _VALID.match(plate):
        return None
    digits = sum(ch.isdigit() for ch in plate)
    if digits < 2:  # every plate format on these borders carries a number
        return None
    return plate

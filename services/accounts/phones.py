"""Phone numbers as Telegram shares them and as the border system registers them, in one form:
the digits of the international number, country code first ("+7 701 234-56-78" → "77012345678")."""

from __future__ import annotations

import re

_TYPED = re.compile(r"\+?[\d\s().-]{6,32}")
# Kazakhstan and Russia dial 8 where the international form has 7: 8 701... and 8 912... .
_TRUNK_EIGHT = re.compile(r"8([79]\d{9})")


def normalize_phone(typed: str | None) -> str | None:
    """The canonical form, or None for something that is not an international phone number."""
    kept = (typed or "").strip()
    if not _TYPED.fullmatch(kept):
        return None
    digits = re.sub(r"\D", "", kept)
    if not kept.startswith("+") and (local := _TRUNK_EIGHT.fullmatch(digits)):
        digits = "7" + local.group(1)
    return digits if 8 <= len(digits) <= 15 else None

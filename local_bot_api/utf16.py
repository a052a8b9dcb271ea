"""UTF-16 code units: the unit of Telegram's entity offsets and lengths and of its text length limits."""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: 1 for most characters, 2 for those beyond U+FFFF (most emoji)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_slice(text: str, start: int, end: int) -> str:
    """The part of `text` between two UTF-16 offsets, as an entity's offset and length name it."""
    return text.encode("utf-16-le", "surrogatepass")[2 * start : 2 * end].decode("utf-16-le", "surrogatepass")

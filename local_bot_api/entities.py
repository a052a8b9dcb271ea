"""Message entities: their order, the ones a bot passes explicitly, and the ones Telegram finds itself.

Offsets and lengths count UTF-16 code units, as the Bot API documents for MessageEntity.
"""

from __future__ import annotations

import re
from typing import Any

from local_bot_api.errors import bad_request
from local_bot_api.utf16 import utf16_len

Entity = dict[str, Any]

# MessageEntity types of the Bot API; an explicit entity of another type is refused.
KNOWN_TYPES = {
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold", "italic",
    "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote", "code", "pre",
    "text_link", "text_mention", "custom_emoji", "date_time",
}
# The documented nesting rules: these may contain, and be part of, other entities; all other
# entities cannot overlap one another.
_STYLES = {"bold", "italic", "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote"}

# What Telegram marks in every message by itself, as the MessageEntity examples show them:
# "/start@jobs_bot", "@username", "https://telegram.org".  Hashtags, cashtags, e-mail addresses and
# phone numbers are found by Telegram too, but nothing here needs them.
_FOUND_BY_TELEGRAM = (
    ("url", re.compile(r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?![\w@])")),  # usernames have 5-32 characters
)
_URL_TRAILER = ".,;:!?)'\"»"  # punctuation after a link ends the sentence, not the link


def entity(kind: str, offset: int, length: int, **fields: Any) -> Entity:
    """A MessageEntity; fields given as None are left out, as the Bot API leaves out empty fields."""
    return {"type": kind, "offset": offset, "length": length, **{k: v for k, v in fields.items() if v is not None}}


def in_text_order(entities: list[Entity]) -> list[Entity]:
    """Entities by where they start, an outer one before the inner ones it contains."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def explicit_entities(text: str, raw: Any) -> list[Entity]:
    """The ``entities`` (or ``caption_entities``) a bot passed instead of a parse mode, checked."""
    if not isinstance(raw, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    result = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_request("can't parse MessageEntity: Field \"type\" must be of type String")
        if item["type"] not in KNOWN_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise bad_request("can't parse MessageEntity: Field \"offset\" must be a valid Number")
        if offset > total:
            raise bad_request(
                f"can't parse entities: Entity begins after the end of the text at UTF-16 offset {offset}"
            )
        if offset + length > total:
            raise bad_request(
                f"can't parse entities: Entity beginning at UTF-16 offset {offset} ends after the end of the "
                f"text at UTF-16 offset {offset + length}"
            )
        if length:
            result.append(dict(item))
    return in_text_order(result)


def with_entities_found_by_telegram(text: str, entities: list[Entity]) -> list[Entity]:
    """`entities` plus the links, commands and mentions Telegram marks in `text` on its own.

    One is added only where the nesting rules allow it: inside styles (bold, a quote...), never
    across a code block, a link or another entity of its kind.
    """
    taken = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] not in _STYLES]
    found = []
    for kind, pattern in _FOUND_BY_TELEGRAM:
        for match in pattern.finditer(text):
            start, end = match.start(), match.end()
            if kind == "url":
                end = start + len(match.group().rstrip(_URL_TRAILER))
            offset, length = utf16_len(text[:start]), utf16_len(text[start:end])
            if any(offset < other_end and other_start < offset + length for other_start, other_end in taken):
                continue
            taken.append((offset, offset + length))
            found.append(entity(kind, offset, length))
    return in_text_order(entities + found)

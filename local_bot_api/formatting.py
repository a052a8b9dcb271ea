"""What a bot sends (text with a parse mode, or text with explicit entities) into what people see.

The Bot API's rules, in the order Telegram applies them: the parse mode wins over explicit entities
("none" in any case means no parsing); the text is stripped of the whitespace around it and must
keep something visible; then the length limit applies to what is left after parsing (4096 UTF-16
code units for a text, 1024 for a caption; tags and entities do not count); last, Telegram marks
links, commands and mentions on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local_bot_api.entities import Entity, explicit_entities, with_entities_found_by_telegram
from local_bot_api.errors import EntityParseError, bad_request
from local_bot_api.html_mode import parse_html
from local_bot_api.limits import MAX_CAPTION_LENGTH, MAX_MESSAGE_LENGTH
from local_bot_api.utf16 import utf16_len, utf16_slice

_WHITESPACE = " \t\n\r\f\v"


@dataclass
class FormattedText:
    """Visible text and its entities, as Telegram stores a message."""

    text: str
    entities: list[Entity]


def format_text(
    text: str,
    parse_mode: str | None = None,
    entities: Any = None,
    *,
    caption: bool = False,
    detect_entities: bool = True,
) -> FormattedText:
    """The message (or, with ``caption=True``, the caption) Telegram makes of what a bot sent.

    Raises `ApiError` as Telegram answers: entities it cannot parse, an empty text, a text too long.
    A caption may be empty.
    """
    mode = (parse_mode or "").strip().lower()
    if mode and mode != "none":
        if mode != "html":
            raise bad_request(_unsupported_parse_mode(mode, parse_mode))
        try:
            text, found = parse_html(text)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif entities not in (None, "", []):
        found = explicit_entities(text, entities)
    else:
        found = []
    text, found = _strip(text, found)
    if not text:
        if caption:
            return FormattedText("", [])
        raise bad_request("text must be non-empty")
    if utf16_len(text) > (MAX_CAPTION_LENGTH if caption else MAX_MESSAGE_LENGTH):
        raise bad_request("message caption is too long" if caption else "message is too long")
    if detect_entities:
        found = with_entities_found_by_telegram(text, found)
    return FormattedText(text, found)


def _unsupported_parse_mode(mode: str, parse_mode: str | None) -> str:
    if mode in ("markdown", "markdownv2"):
        return f"unsupported parse_mode (the local Bot API server implements only HTML, not {parse_mode})"
    return "unsupported parse_mode"


def _strip(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram drops the whitespace around a message, and entities left marking nothing visible."""
    stripped = text.strip(_WHITESPACE)
    if not stripped:
        return "", []
    lead = len(text) - len(text.lstrip(_WHITESPACE))  # whitespace is one UTF-16 unit a character
    end = lead + utf16_len(stripped)
    kept = []
    for entity in entities:
        start, stop = max(entity["offset"], lead), min(entity["offset"] + entity["length"], end)
        if utf16_slice(text, start, stop).strip(_WHITESPACE):
            kept.append({**entity, "offset": start - lead, "length": stop - start})
    return stripped, kept

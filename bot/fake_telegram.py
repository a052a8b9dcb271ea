"""A local stand-in for the Telegram Bot API, for tests and the terminal demo.

`FakeTelegram` is an aiohttp web server that speaks the Bot API wire format at
``/bot<token>/<method>``, so the bot talks to it through aiogram's real HTTP session::

    fake = FakeTelegram()
    url = await fake.start()
    bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))

Why a fake server rather than mocking aiogram: the bot's whole stack (serialisation, multipart
encoding, error classes such as ``TelegramBadRequest``/``TelegramRetryAfter``, polling) runs for
real, and the server enforces the rules Telegram enforces and that bite bots in production —
entity parsing of HTML, 4096-character texts, 64-byte callback data, "message is not modified",
flood limits, blocked users.  A test that passes here exercises the same code paths as production.

Simulated people are `SimUser` (a private chat with the bot) and `SimGroup` (a supergroup the bot is
in).  Users send text, stickers, photos, contacts and locations, tap inline and reply-keyboard
buttons, and wait — event-driven, no sleeping — for the bot to answer.

What the server does, per method, follows the Bot API (version 9/10 era).  Deliberate
simplifications are documented where they are made; the main ones:

* only ``parse_mode=HTML`` is implemented (Markdown modes answer 400 so nobody relies on them);
* inline mode, payments, games, business connections and webhooks delivery are not simulated;
* edits and ``answerCallbackQuery`` are not rate limited (Telegram limits them far more loosely
  than sends, and a bot that misbehaves there shows up in its send pattern first);
* simulated people act at a human pace: every action they take advances their chat's rate
  limiter clock by `FakeTelegram.user_think_time` (3 s), so a test typing at machine speed does
  not trip per-chat limits that no real conversation would — while bursts the bot makes on its
  own, and many people acting at once (the global limit), still do;
* every group is a supergroup in which the bot is an administrator with privacy mode off.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import math
import re
import secrets
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = [
    "CallbackAnswer",
    "ChatMessage",
    "FakeTelegram",
    "FormattedText",
    "Limits",
    "SimGroup",
    "SimUser",
    "UploadedFile",
    "parse_html",
    "format_text",
    "utf16_len",
]

logger = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units after entity parsing, like Telegram's own clients count
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_LONG_POLL_SECONDS = 50.0  # Telegram caps getUpdates timeouts at about 50 s as well

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class _ApiError(Exception):
    """An error answer: raised anywhere inside a method handler, rendered as Telegram renders it."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


class _EntityParseError(ValueError):
    """HTML that Telegram refuses; the message becomes "can't parse entities: <reason>"."""


# --------------------------------------------------------------------------------------------------
# Text: UTF-16 helpers, HTML parsing, cleaning and entity detection
# --------------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's entity offsets and length limits."""
    return len(text.encode("utf-16-le")) // 2


def _to_units(text: str) -> array:
    units = array("H")
    units.frombytes(text.encode("utf-16-le", "surrogatepass"))
    return units


def _from_units(units: Iterable[int]) -> str:
    return array("H", units).tobytes().decode("utf-16-le", "surrogatepass")


def _utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of every code point index of `text` (plus one past the end)."""
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return offsets


def _entity(kind: str, offset: int, length: int, **extra: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    entity.update({key: value for key, value in extra.items() if value is not None})
    return entity


# Entities whose meaning lives in hidden data, so Telegram keeps them even over whitespace only.
_HIDDEN_DATA_ENTITIES = {"text_link", "text_mention", "custom_emoji"}
# Entities that other entities may not cross; automatically found ones are dropped if they would.
_CONTINUOUS_ENTITIES = {
    "code", "pre", "text_link", "text_mention", "custom_emoji", "url", "email", "mention",
    "hashtag", "cashtag", "bot_command", "phone_number",
}
_ENTITY_PRIORITY = {
    "blockquote": 0, "expandable_blockquote": 0, "pre": 11, "code": 20, "text_link": 49,
    "text_mention": 49, "bold": 90, "italic": 91, "underline": 92, "strikethrough": 93,
    "spoiler": 94, "custom_emoji": 99,
}
_KNOWN_ENTITY_TYPES = {
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold", "italic",
    "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote", "code", "pre",
    "text_link", "text_mention", "custom_emoji", "date_time",
}


def _sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Telegram's order: by offset, longer first, then by type priority."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], _ENTITY_PRIORITY.get(e["type"], 50)))


_HTML_TAGS = {
    "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
    "span", "pre", "code", "blockquote",
}
_SIMPLE_TAG_ENTITIES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_HTML_ENTITIES = {b"lt": ord("<"), b"gt": ord(">"), b"amp": ord("&"), b"quot": ord('"')}


def _is_space(byte: int) -> bool:
    # tdlib's is_space() also counts the terminating NUL, which is how "end of input" is detected.
    return byte in (0x20, 0x09, 0x0D, 0x0A, 0x00, 0x0B, 0x0C)


def _is_alnum(byte: int) -> bool:
    return 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _decode_html_entity(src: bytes, pos: int) -> tuple[int, int]:
    """Decode ``&lt;``-style or numeric character references at `pos`.

    Returns ``(code_point, next_position)``, or ``(0, pos)`` when the ampersand does not start a
    reference — Telegram then keeps the "&" literally (it does *not* reject a bare ampersand).
    As in Telegram, the closing semicolon is optional.
    """

    def at(k: int) -> int:
        return src[k] if k < len(src) else 0

    end = pos + 1
    code = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                code = code * 16 + int(chr(at(end)), 16)
                end += 1
                if code >= 0x10FFFF:
                    return 0, pos
        else:
            while 0x30 <= at(end) <= 0x39:
                code = code * 10 + at(end) - 0x30
                end += 1
                if code >= 0x10FFFF:
                    return 0, pos
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while 0x41 <= at(end) <= 0x5A or 0x61 <= at(end) <= 0x7A:
            end += 1
        named = _NAMED_HTML_ENTITIES.get(src[pos + 1 : end])
        if named is None:
            return 0, pos
        code = named
    if at(end) == ord(";"):
        end += 1
    return code, end


def _checked_link(url: str) -> str | None:
    """Roughly tdlib's get_checked_link: keep web/tg links, add ``http://`` to bare domains."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", url)
    if scheme:
        return url if scheme.group(1).lower() in ("http", "https", "tg", "ton", "tonsite") else None
    if re.match(r"^[\w-]+(\.[\w-]+)*\.[a-zA-Z]{2,}([/:?#].*)?$", url):
        return "http://" + url
    return None


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into the visible text and Bot API entities.

    A port of tdlib's ``parse_html`` (the code behind ``parse_mode=HTML``), including its error
    messages and byte offsets, because bots tend to break exactly on these edge cases: an unescaped
    "<" in user-provided text, a tag that Telegram does not support, a tag cut by text truncation.
    Offsets and lengths of the returned entities are in UTF-16 code units.

    Raises `_EntityParseError` with Telegram's reason text.
    """
    src = text.encode("utf-8", "surrogatepass")
    size = len(src)

    def at(k: int) -> int:
        return src[k] if k < size else 0

    out = bytearray()
    utf16 = 0
    entities: list[dict[str, Any]] = []
    # Open tags: [tag name, argument, UTF-16 offset, byte offset in `out`, expandable]
    stack: list[list[Any]] = []
    saw_surrogate = False
    i = 0
    while i < size:
        c = src[i]
        if c == ord("&"):
            code, next_i = _decode_html_entity(src, i)
            if code:
                if 0xD800 <= code <= 0xDFFF:
                    saw_surrogate = True
                    out += b"?"
                else:
                    out += chr(code).encode("utf-8")
                utf16 += 2 if code > 0xFFFF else 1
                i = next_i
                continue
        if c != ord("<"):
            if c & 0xC0 != 0x80:  # first byte of a UTF-8 sequence
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            while not _is_space(at(i)) and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise _EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = src[begin + 1 : i].lower().decode("utf-8", "replace")
            if tag not in _HTML_TAGS:
                raise _EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')

            argument = ""
            expandable = False
            while at(i) != ord(">"):
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) == ord(">"):
                    break
                attribute_begin = i
                while not _is_space(at(i)) and at(i) not in (ord("="), ord(">"), ord("/"), ord('"'), ord("'")):
                    i += 1
                attribute = src[attribute_begin:i]
                if not attribute:
                    raise _EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) != ord("="):
                    # An attribute without a value: allowed (and meaningful for <blockquote expandable>).
                    if at(i) == 0:
                        raise _EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    if tag == "blockquote" and attribute == b"expandable":
                        expandable = True
                    continue
                i += 1
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) == 0:
                    raise _EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')

                if at(i) not in (ord("'"), ord('"')):
                    # An unquoted name token: letters, digits, periods and hyphens, case-insensitive.
                    token_begin = i
                    while _is_alnum(at(i)) or at(i) in (ord("."), ord("-")):
                        i += 1
                    value = src[token_begin:i].lower().decode("utf-8", "replace")
                    if not _is_space(at(i)) and at(i) != ord(">"):
                        raise _EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = at(i)
                    i += 1
                    buffer = bytearray()
                    while at(i) != quote and at(i) != 0:
                        if at(i) == ord("&"):
                            code, next_i = _decode_html_entity(src, i)
                            if code:
                                buffer += chr(code).encode("utf-8", "surrogatepass")
                                i = next_i
                                continue
                        buffer.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = buffer.decode("utf-8", "replace")
                if at(i) == 0:
                    raise _EntityParseError(f"Unclosed start tag at byte offset {begin}")

                if tag == "a" and attribute == b"href":
                    argument = value
                elif tag == "code" and attribute == b"class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attribute == b"class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attribute == b"emoji-id":
                    argument = value
                elif tag == "blockquote" and attribute == b"expandable":
                    expandable = True

            if tag == "span" and argument != "spoiler":
                raise _EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append([tag, argument, utf16, len(out), expandable])
            i += 1  # past ">"
            continue

        # An end tag.
        if not stack:
            raise _EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while not _is_space(at(i)) and at(i) != ord(">"):
            i += 1
        end_tag = src[begin + 2 : i].lower().decode("utf-8", "replace")
        while _is_space(at(i)) and at(i) != 0:
            i += 1
        if at(i) != ord(">"):
            raise _EntityParseError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, offset, byte_begin, expandable = stack[-1]
        if end_tag and end_tag != tag:
            raise _EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"'
            )
        length = utf16 - offset
        if length > 0:
            if tag in _SIMPLE_TAG_ENTITIES:
                entities.append(_entity(_SIMPLE_TAG_ENTITIES[tag], offset, length))
            elif tag == "tg-emoji":
                if not argument.isdigit() or int(argument) == 0:
                    raise _EntityParseError("Invalid custom emoji identifier specified")
                entities.append(_entity("custom_emoji", offset, length, custom_emoji_id=argument))
            elif tag == "a":
                url = argument or out[byte_begin:].decode("utf-8", "replace")
                mention = re.fullmatch(r"tg://user\?id=(\d+)", url.strip())
                if mention:
                    user = {"id": int(mention.group(1)), "is_bot": False, "first_name": ""}
                    entities.append(_entity("text_mention", offset, length, user=user))
                else:
                    checked = _checked_link(url)
                    if checked:
                        entities.append(_entity("text_link", offset, length, url=checked))
            elif tag == "pre":
                # <pre><code class="language-x"> becomes one "pre" entity with a language.
                last = entities[-1] if entities else None
                if _same_span(last, offset, length, "code") and last.get("language"):
                    last["type"] = "pre"
                else:
                    entities.append(_entity("pre", offset, length))
            elif tag == "code":
                last = entities[-1] if entities else None
                if _same_span(last, offset, length, "pre") and argument:
                    last["language"] = argument
                else:
                    entities.append(_entity("code", offset, length, language=argument or None))
            elif tag == "blockquote":
                entities.append(_entity("expandable_blockquote" if expandable else "blockquote", offset, length))
        stack.pop()
        i += 1  # past ">"

    if stack:
        raise _EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    if saw_surrogate:
        raise _EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched "
            "surrogate code units"
        )
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # only <pre><code class="language-..."> keeps a language
    return out.decode("utf-8", "surrogatepass"), _sort_entities(entities)


def _same_span(entity: dict[str, Any] | None, offset: int, length: int, kind: str) -> bool:
    return entity is not None and entity["type"] == kind and entity["offset"] == offset and entity["length"] == length


def _clean_and_trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """What Telegram does to every message text after parsing (tdlib's fix_formatted_text).

    Control characters become spaces, "\\r" and the bidi embedding/override characters
    U+2028..U+202E disappear, entities lose leading whitespace and whitespace-only entities are
    dropped, and the text is trimmed of spaces and newlines (on the left only up to the first
    entity).  Raises `_ApiError` "text must be non-empty" when nothing visible remains.
    """
    units = _to_units(text)
    kept = array("H")
    position = [0] * (len(units) + 1)  # old UTF-16 offset -> new UTF-16 offset
    for index, unit in enumerate(units):
        position[index] = len(kept)
        if unit == 0x0D or 0x2028 <= unit <= 0x202E or unit in (0x0333, 0x033F, 0x030A):
            continue
        kept.append(0x20 if unit < 0x20 and unit != 0x0A else unit)
    position[len(units)] = len(kept)

    def is_blank(unit: int) -> bool:
        return unit in (0x20, 0x0A)

    fixed: list[dict[str, Any]] = []
    for entity in entities:
        start = position[min(entity["offset"], len(units))]
        end = position[min(entity["offset"] + entity["length"], len(units))]
        if entity["type"] not in _HIDDEN_DATA_ENTITIES:
            while start < end and is_blank(kept[start]):
                start += 1
            if not any(not is_blank(kept[k]) for k in range(start, end)):
                continue
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})

    visible = [k for k, unit in enumerate(kept) if not is_blank(unit)]
    if not visible:
        raise _bad("text must be non-empty")
    last = visible[-1]
    trimmed: list[dict[str, Any]] = []
    for entity in fixed:
        if entity["offset"] > last:
            continue
        end = min(entity["offset"] + entity["length"], last + 1)
        trimmed.append({**entity, "length": end - entity["offset"]})
    first_entity = min((e["offset"] for e in trimmed), default=last + 1)
    lead = 0
    while lead < first_entity and is_blank(kept[lead]):
        lead += 1
    for entity in trimmed:
        entity["offset"] -= lead
    return _from_units(kept[lead : last + 1]), _sort_entities(trimmed)


def _find_auto_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram detects on its own in every message: commands, mentions, links, hashtags.

    A simplified version of tdlib's find_entities — enough that "/start" from a user arrives with a
    ``bot_command`` entity (aiogram's Command filter does not need it, but deep links and
    handlers inspecting entities do) and that URLs in bot messages come back as ``url`` entities.
    """
    found: list[tuple[int, int, str]] = []  # (start, end) in code points

    for match in re.finditer(r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"]+", text, re.IGNORECASE):
        end = match.end()
        while end > match.start() and text[end - 1] in ".,;:!?)'\"»":
            end -= 1
        found.append((match.start(), end, "url"))
    for match in re.finditer(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", text):
        found.append((match.start(), match.end(), "email"))
    for match in re.finditer(r"(?<!\w)@([A-Za-z0-9_]+)(?!\w)", text):
        if 2 <= len(match.group(1)) <= 32:
            found.append((match.start(), match.end(), "mention"))
    for match in re.finditer(r"(?<![\w/<>])/([A-Za-z0-9_]+)(@[A-Za-z0-9_]*)?", text):
        command, bot_name = match.group(1), match.group(2)
        following = text[match.end() : match.end() + 1]
        if len(command) > 64 or (bot_name is not None and not 4 <= len(bot_name) <= 33):
            continue
        if following and (re.match(r"\w", following) or following in "/<>"):
            continue
        found.append((match.start(), match.end(), "bot_command"))
    for match in re.finditer(r"(?<!\w)#(\w{1,256})(?!\w*#)", text):
        if any(ch.isalpha() for ch in match.group(1)):
            found.append((match.start(), match.end(), "hashtag"))

    offsets = _utf16_offsets(text)
    taken: list[tuple[int, int]] = []
    result = []
    for start, end, kind in sorted(found, key=lambda item: (item[0], -(item[1] - item[0]))):
        if end <= start or any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        result.append(_entity(kind, offsets[start], offsets[end] - offsets[start]))
    return result


def _merge_auto_entities(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    blocked = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _CONTINUOUS_ENTITIES]
    merged = list(entities)
    for entity in _find_auto_entities(text):
        start, end = entity["offset"], entity["offset"] + entity["length"]
        if not any(start < b_end and b_start < end for b_start, b_end in blocked):
            merged.append(entity)
    return _sort_entities(merged)


def _validate_explicit_entities(text: str, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise _bad("can't parse entities JSON object")
    total = utf16_len(text)
    result = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise _bad("can't parse MessageEntity: Field \"type\" must be of type String")
        if item["type"] not in _KNOWN_ENTITY_TYPES:
            raise _bad("can't parse MessageEntity: Unsupported type specified")
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise _bad("can't parse MessageEntity: Field \"offset\" must be a valid Number")
        if offset > total:
            raise _bad(f"can't parse entities: Entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + length > total:
            raise _bad(
                f"can't parse entities: Entity beginning at UTF-16 offset {offset} ends after the end of the "
                f"text at UTF-16 offset {offset + length}"
            )
        if length:
            result.append(dict(item))
    return _sort_entities(result)


@dataclass
class FormattedText:
    """Visible text and its entities, as Telegram stores a message."""

    text: str
    entities: list[dict[str, Any]]


def format_text(
    text: str,
    parse_mode: str | None = None,
    entities: Any = None,
    *,
    allow_empty: bool = False,
    detect_entities: bool = True,
) -> FormattedText:
    """Turn what a bot sends (text + parse_mode or explicit entities) into what the user sees.

    Mirrors the Bot API: parse_mode wins over explicit entities, "none" (any case) means no
    parsing, the result is cleaned and trimmed, then Telegram's automatic entities are added.
    Raises `_ApiError` exactly as Telegram answers.  Length limits are checked by the caller,
    since they differ between texts and captions.
    """
    mode = (parse_mode or "").strip().lower()
    if mode and mode != "none":
        if mode == "html":
            try:
                text, parsed = parse_html(text)
            except _EntityParseError as error:
                raise _bad(f"can't parse entities: {error}") from None
        elif mode in ("markdown", "markdownv2"):
            raise _bad(f"unsupported parse_mode (the fake Telegram server implements only HTML, not {parse_mode})")
        else:
            raise _bad("unsupported parse_mode")
    elif entities not in (None, "", []):
        parsed = _validate_explicit_entities(text, entities)
    else:
        parsed = []
    try:
        text, parsed = _clean_and_trim(text, parsed)
    except _ApiError:
        if allow_empty:
            return FormattedText("", [])
        raise
    if detect_entities:
        parsed = _merge_auto_entities(text, parsed)
    return FormattedText(text, parsed)


_DIGITS_TO_LATIN = {code: str(digit) for digit in range(10) for code in (0x06F0 + digit, 0x0660 + digit)}
_DIGITS_TO_LATIN.update({code: None for code in (0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C)})


# --------------------------------------------------------------------------------------------------
# Public data classes
# --------------------------------------------------------------------------------------------------


@dataclass
class Limits:
    """Telegram's flood limits, which the fake enforces with token buckets.

    Telegram answers 429 "Too Many Requests: retry after N" when a bot sends faster than these
    (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).  A bot
    that broadcasts (queue notifications to every driver, say) must pace itself; these limits make
    a test fail the same way production would, instead of silently passing.  Tests may change the
    fields at any time, e.g. lower `global_per_s` to exercise the global limit with few users.
    """

    global_per_s: float = 30.0  # messages sent by the bot per second, all chats together
    chat_per_s: float = 1.0  # per private chat: about one message a second
    chat_burst: int = 3  # Telegram tolerates short bursts in a private chat before it answers 429
    group_per_min: float = 20.0  # per group/supergroup chat (chat id < 0): 20 messages a minute
    group_burst: int = 5
    enabled: bool = True


@dataclass
class UploadedFile:
    """A file the bot uploaded in a multipart request (e.g. ``sendPhoto`` with an ``InputFile``)."""

    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class CallbackAnswer:
    """How the bot answered a callback query (the toast or alert the user sees after a tap)."""

    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int = 0
    query_id: str = ""
    data: str | None = None  # callback_data of the tapped button


@dataclass(eq=False)
class ChatMessage:
    """One message in a simulated chat, as the user would see it.

    Objects are live: an edit by the bot updates the same object, a deletion sets `deleted`.
    `raw` is the Bot API Message object as Telegram would send it now.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    text: str  # visible text (HTML parsed); a media message's caption, or ""
    html: str | None = None  # the raw text as the bot sent it, when it used parse_mode=HTML
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None  # inline or reply keyboard, as sent
    edited: bool = False
    edit_count: int = 0
    deleted: bool = False
    date: int = 0
    kind: str = "text"  # text, photo, sticker, document, contact, location
    sender_id: int | None = None
    parse_mode: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of ``(text, callback_data or None)``."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[(button.get("text", ""), button.get("callback_data")) for button in row] for row in rows]

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    @property
    def reply_buttons(self) -> list[str]:
        """Texts of the reply keyboard (the one that replaces the user's keyboard), flattened."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [button if isinstance(button, str) else button.get("text", "") for row in rows for button in row]

    @property
    def text_digits_latin(self) -> str:
        """Text with Persian/Arabic-Indic digits as ASCII and bidi isolates/marks removed.

        Lets tests assert on numbers ("slot 14:30") whatever the locale renders.
        """
        return self.text.translate(_DIGITS_TO_LATIN)

    def describe(self) -> str:
        """One readable transcript entry, used in timeout dumps and by the terminal demo."""
        who = "bot" if self.from_bot else "user"
        flags = []
        if self.edited:
            flags.append(f"edited x{self.edit_count}")
        if self.deleted:
            flags.append("deleted")
        head = f"#{self.message_id} {who}" + (f" ({', '.join(flags)})" if flags else "")
        body = self.text if self.kind == "text" else f"[{self.kind}] {self.text}".rstrip()
        lines = [f"{head}: {body}"]
        for row in self.buttons:
            lines.append("    " + " ".join(f"[{text} | {data}]" for text, data in row))
        if self.reply_buttons:
            lines.append("    keyboard: " + " ".join(f"[{text}]" for text in self.reply_buttons))
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Internals: rate limiting, change notification, chats, request parameters
# --------------------------------------------------------------------------------------------------


class _TokenBucket:
    """A token bucket read with the current limits on every use (tests change limits at runtime).

    Starts full, so a bot that just started may send a burst, as on Telegram.
    """

    def __init__(self) -> None:
        self.tokens: float | None = None
        self.stamp = 0.0

    def seconds_until_token(self, rate: float, capacity: float, now: float) -> float:
        capacity = max(1.0, float(capacity))
        if self.tokens is None:
            self.tokens = capacity
        elif rate > 0:
            self.tokens = min(capacity, self.tokens + max(0.0, now - self.stamp) * rate)
        else:
            self.tokens = min(capacity, self.tokens)
        self.stamp = now
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / rate if rate > 0 else 3600.0

    def take(self) -> None:
        assert self.tokens is not None
        self.tokens -= 1.0


class _ChangeFeed:
    """Wakes every waiter whenever the simulated world changes; each waiter re-checks its condition.

    Simpler than one condition per kind of event, and cheap at test scale.  Waiting is
    event-driven: nobody polls with sleeps.
    """

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_until(self, check: Callable[[], Any], timeout: float) -> Any:
        """Return the first non-None result of `check()`; raise TimeoutError after `timeout` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                pass  # check once more, then give up
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)


@dataclass(eq=False)
class _Chat:
    chat_id: int
    info: dict[str, Any]  # the Bot API Chat object
    messages: list[ChatMessage] = field(default_factory=list)
    activity: list[ChatMessage] = field(default_factory=list)  # every bot send/edit, in order
    next_message_id: int = 1
    blocked: bool = False
    reply_keyboard: dict[str, Any] | None = None  # the reply keyboard currently shown to the user
    bucket: _TokenBucket = field(default_factory=_TokenBucket)
    think_skew: float = 0.0  # simulated thinking time of this chat's people so far (rate limiting)
    actions: list[str] = field(default_factory=list)  # sendChatAction log
    menu_button: dict[str, Any] | None = None

    @property
    def is_private(self) -> bool:
        return self.info["type"] == "private"

    def find(self, message_id: int | None) -> ChatMessage | None:
        for message in self.messages:
            if message.message_id == message_id:
                return message
        return None


_INT_PARAMS = {
    "chat_id", "message_id", "from_chat_id", "offset", "limit", "timeout", "reply_to_message_id",
    "cache_time", "message_thread_id", "user_id", "max_connections", "live_period", "heading",
    "proximity_alert_radius",
}
_BOOL_PARAMS = {
    "disable_notification", "protect_content", "show_alert", "disable_web_page_preview",
    "allow_sending_without_reply", "drop_pending_updates", "has_spoiler", "show_caption_above_media",
    "allow_paid_broadcast", "disable_content_type_detection", "remove_caption",
}
_JSON_PARAMS = {
    "reply_markup", "entities", "caption_entities", "commands", "scope", "reply_parameters",
    "link_preview_options", "menu_button", "allowed_updates", "message_ids", "rights",
}


class _Params:
    """Parameters of one call, from any encoding the Bot API accepts.

    aiogram posts multipart/form-data where every value is a string and complex values are JSON
    strings; other clients post JSON or urlencoded bodies, or use the query string.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, UploadedFile):
            return None
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def int(self, name: str, *, invalid: str | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(invalid or f"invalid {name} specified") from None

    def float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json(self, name: str, *, error: str | None = None) -> Any:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(error or f"can't parse {name} JSON object") from None
        return value

    def file(self, name: str) -> str | UploadedFile | None:
        """A file parameter: a file_id/URL string, or an upload (directly or via ``attach://``)."""
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.values.get(value[len("attach://") :])
        if value in (None, ""):
            return None
        return value

    def decoded(self) -> dict[str, Any]:
        """A readable copy for the request log: numbers as ints, flags as bools, JSON decoded."""
        result: dict[str, Any] = {}
        for name, value in self.values.items():
            if isinstance(value, str):
                if name in _INT_PARAMS and re.fullmatch(r"-?\d+", value.strip()):
                    value = int(value)
                elif name in _BOOL_PARAMS and value.lower() in ("true", "false", "1", "0"):
                    value = value.lower() in ("true", "1")
                elif name in _JSON_PARAMS:
                    try:
                        value = json.loads(value)
                    except ValueError:
                        pass
            result[name] = value
        return result


# --------------------------------------------------------------------------------------------------
# Simulated people and groups
# --------------------------------------------------------------------------------------------------


class _ChatView:
    """What SimUser and SimGroup share: reading a chat and waiting for the bot in it."""

    def __init__(self, fake: FakeTelegram, chat: _Chat) -> None:
        self._fake = fake
        self._chat = chat

    @property
    def chat_id(self) -> int:
        return self._chat.chat_id

    @property
    def messages(self) -> list[ChatMessage]:
        """Every message of the chat in order, the bot's and the people's; deleted ones included."""
        return self._chat.messages

    def bot_messages(self) -> list[ChatMessage]:
        """The bot's messages that are still there (not deleted), oldest first."""
        return [m for m in self._chat.messages if m.from_bot and not m.deleted]

    def last_message(self, from_bot: bool = True) -> ChatMessage | None:
        """Newest non-deleted message sent by the bot (or, with from_bot=False, by a person)."""
        for message in reversed(self._chat.messages):
            if message.from_bot == from_bot and not message.deleted:
                return message
        return None

    def transcript(self) -> str:
        """The chat as readable text, for failure messages and debugging."""
        if not self._chat.messages:
            return "(no messages)"
        return "\n".join(message.describe() for message in self._chat.messages)

    async def wait_for(
        self,
        predicate: Callable[[ChatMessage], bool],
        timeout: float = 5.0,
        *,
        new_only: bool = False,
    ) -> ChatMessage:
        """Wait until one of the bot's messages here satisfies `predicate`; return it.

        Re-checked on every change, so a message that only later gets edited into shape counts.
        Newest messages are tried first.  With ``new_only=True`` only messages the bot sends or
        edits after this call are considered.  Raises TimeoutError with a transcript of the chat.
        """
        mark = len(self._chat.activity)

        def check() -> ChatMessage | None:
            if new_only:
                candidates = reversed(self._chat.activity[mark:])
            else:
                candidates = (m for m in reversed(self._chat.messages) if m.from_bot)
            for message in candidates:
                if not message.deleted and predicate(message):
                    return message
            return None

        try:
            return await self._fake._feed.wait_until(check, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no bot message in chat {self.chat_id} matched within {timeout:g}s; the chat:\n{self.transcript()}"
            ) from None

    async def wait_idle(self, timeout: float = 5.0, quiet: float = 0.05) -> bool:
        """See `FakeTelegram.wait_idle`."""
        return await self._fake.wait_idle(timeout, quiet)

    async def _await_bot(self, mark: int, wait: bool, timeout: float) -> ChatMessage | None:
        """The first message the bot sent or edited here after `mark`, or None at timeout."""
        if not wait:
            return None
        activity = self._chat.activity
        try:
            return await self._fake._feed.wait_until(
                lambda: activity[mark] if len(activity) > mark else None, timeout
            )
        except TimeoutError:
            return None


class SimUser(_ChatView):
    """A Telegram user with a private chat with the bot.

    ``send*`` methods inject updates the way Telegram would deliver them and, with ``wait=True``,
    return the first message the bot sends or edits in this chat afterwards (None at timeout —
    they never raise on timeout, so a test can assert on silence).
    """

    def __init__(
        self,
        fake: FakeTelegram,
        chat: _Chat,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None,
        last_name: str | None = None,
    ) -> None:
        super().__init__(fake, chat)
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.language_code = language_code
        self.username = username
        # Telegram delivers the phone of a shared own contact without the "+" on most clients.
        self.phone_number = f"98912{user_id % 10_000_000:07d}"
        self.callback_answers: list[CallbackAnswer] = []

    def __repr__(self) -> str:
        return f"SimUser({self.user_id}, {self.first_name!r})"

    @property
    def blocked(self) -> bool:
        return self._chat.blocked

    def as_user(self) -> dict[str, Any]:
        """The Bot API User object of this person."""
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def block(self) -> None:
        self._fake.block(self.user_id)

    def unblock(self) -> None:
        self._fake.unblock(self.user_id)

    # ---- sending ----------------------------------------------------------------------------

    async def _post(
        self,
        kind: str,
        text: str = "",
        entities: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        *,
        wait: bool,
        timeout: float,
        reply_to: ChatMessage | int | None = None,
        chat: _Chat | None = None,
    ) -> ChatMessage | None:
        target = chat or self._chat
        if target is self._chat and self._chat.blocked:
            # Writing to a bot you blocked means pressing "Restart" first, which unblocks it.
            self._fake.unblock(self.user_id)
        mark = len(target.activity)
        self._fake._post_user_message(
            target, self, kind=kind, text=text, entities=entities or [], extra=extra or {}, reply_to=reply_to
        )
        if not wait:
            return None
        view = self if target is self._chat else _ChatView(self._fake, target)
        return await view._await_bot(mark, wait, timeout)

    async def send(
        self,
        text: str,
        *,
        wait: bool = True,
        timeout: float = 5.0,
        reply_to: ChatMessage | int | None = None,
    ) -> ChatMessage | None:
        """Send a text message to the bot (commands get a ``bot_command`` entity, as on Telegram)."""
        formatted = _user_text(text)
        return await self._post(
            "text", formatted.text, formatted.entities, wait=wait, timeout=timeout, reply_to=reply_to
        )

    async def send_sticker(
        self,
        emoji: str = "👍",
        *,
        set_name: str | None = "HotCherry",
        animated: bool = False,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a sticker (a bot must cope with non-text input without crashing)."""
        file_id, unique_id = _file_ids("sticker")
        sticker: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": animated,
            "is_video": False,
            "emoji": emoji,
            "file_size": 23_456,
        }
        if set_name:
            sticker["set_name"] = set_name
        return await self._post("sticker", extra={"sticker": sticker}, wait=wait, timeout=timeout)

    async def send_photo(
        self,
        caption: str | None = None,
        *,
        width: int = 1280,
        height: int = 960,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a photo (several PhotoSize entries, smallest first, like Telegram)."""
        extra = {"photo": _photo_sizes(width, height)}
        formatted = _user_text(caption) if caption else FormattedText("", [])
        return await self._post("photo", formatted.text, formatted.entities, extra, wait=wait, timeout=timeout)

    async def send_contact(
        self,
        phone: str | None = None,
        *,
        own: bool = True,
        first_name: str | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Share a contact.  ``own=True`` is what a request_contact button sends: user_id is the sender.

        ``own=False`` shares somebody else's contact (another user_id), which a bot asking for
        the user's own phone must reject.
        """
        contact: dict[str, Any] = {
            "phone_number": phone or self.phone_number,
            "first_name": first_name or (self.first_name if own else "Friend"),
            "user_id": self.user_id if own else self.user_id + 1_000_000_000,
        }
        if own and self.last_name:
            contact["last_name"] = self.last_name
        return await self._post("contact", extra={"contact": contact}, wait=wait, timeout=timeout)

    async def send_location(
        self,
        latitude: float = 44.2183,
        longitude: float = 80.4106,
        *,
        horizontal_accuracy: float | None = None,
        live_period: int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Share a location (default: the Khorgos border crossing)."""
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        if live_period is not None:
            location["live_period"] = live_period
        return await self._post("location", extra={"location": location}, wait=wait, timeout=timeout)

    async def send_to_group(
        self, group: SimGroup, text: str, *, wait: bool = True, timeout: float = 5.0
    ) -> ChatMessage | None:
        """Write `text` in a group; returns the bot's first message or edit in that group after it."""
        formatted = _user_text(text)
        return await self._post(
            "text", formatted.text, formatted.entities, wait=wait, timeout=timeout, chat=group._chat
        )

    # ---- buttons ----------------------------------------------------------------------------

    def _find_inline_button(
        self, button: str | None, callback_data: str | None, message: ChatMessage | int | None
    ) -> tuple[ChatMessage, dict[str, Any]] | None:
        if message is not None:
            target = message if isinstance(message, ChatMessage) else self._chat.find(message)
            if target is None:
                raise LookupError(f"message {message} is not in chat {self.chat_id}")
            if target.deleted:
                raise LookupError(f"message {target.message_id} was deleted: its buttons are gone")
            candidates = [target]
        else:
            candidates = [m for m in reversed(self._chat.messages) if m.from_bot and not m.deleted]

        def buttons_of(candidate: ChatMessage) -> list[dict[str, Any]]:
            rows = (candidate.reply_markup or {}).get("inline_keyboard") or []
            return [b for row in rows for b in row]

        if callback_data is not None:
            for candidate in candidates:
                for spec in buttons_of(candidate):
                    if spec.get("callback_data") == callback_data:
                        return candidate, spec
            return None
        assert button is not None
        for matches in (
            lambda label: label == button,
            lambda label: button.casefold() in label.casefold(),
        ):
            for candidate in candidates:
                for spec in buttons_of(candidate):
                    if matches(spec.get("text", "")):
                        return candidate, spec
        return None

    def _find_reply_button(self, button: str) -> dict[str, Any] | None:
        rows = (self._chat.reply_keyboard or {}).get("keyboard") or []
        specs = [{"text": b} if isinstance(b, str) else b for row in rows for b in row]
        for matches in (
            lambda label: label == button,
            lambda label: button.casefold() in label.casefold(),
        ):
            for spec in specs:
                if matches(spec.get("text", "")):
                    return spec
        return None

    async def tap(
        self,
        button: str | None = None,
        *,
        callback_data: str | None = None,
        message: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> CallbackAnswer | ChatMessage | None:
        """Press a button the bot showed.

        `button` is matched against button texts, exact match first, then case-insensitive
        substring; or pass ``callback_data=``.  The inline keyboard of `message` is searched, or
        else the bot's messages newest first.  A callback button injects a callback_query and
        (wait=True) returns the bot's `CallbackAnswer`, or None if it never answers in time.
        A button of the reply keyboard currently shown sends its text (or the user's contact /
        location for request_contact / request_location buttons) and behaves like `send`.
        Raises LookupError when no such button is visible.
        """
        if (button is None) == (callback_data is None):
            raise TypeError("tap() needs exactly one of a button text or callback_data=")
        found = self._find_inline_button(button, callback_data, message)
        if found is not None:
            target, spec = found
            if "callback_data" not in spec:
                action = next((k for k in spec if k not in ("text", "style", "icon_custom_emoji_id")), "?")
                raise ValueError(
                    f"button {spec.get('text')!r} is a {action} button: tapping it sends nothing to the bot"
                )
            return await self._press(target.raw, spec["callback_data"], wait=wait, timeout=timeout)
        if button is not None and message is None:
            spec = self._find_reply_button(button)
            if spec is not None:
                if spec.get("request_contact"):
                    return await self.send_contact(wait=wait, timeout=timeout)
                if spec.get("request_location"):
                    return await self.send_location(wait=wait, timeout=timeout)
                unsupported = [k for k in spec if k.startswith("request_") or k == "web_app"]
                if unsupported:
                    raise ValueError(f"the fake cannot press a {unsupported[0]} keyboard button")
                return await self.send(spec["text"], wait=wait, timeout=timeout)
        wanted = f"callback_data={callback_data!r}" if callback_data is not None else repr(button)
        raise LookupError(f"no button {wanted} in chat {self.chat_id}; the chat:\n{self.transcript()}")

    async def tap_data(
        self, data: str, message_id: int, *, wait: bool = True, timeout: float = 5.0
    ) -> CallbackAnswer | None:
        """Inject a callback query with arbitrary data on `message_id` — a forged tap.

        Telegram lets modified clients send any callback data for any message, so bots must
        validate it; this is how security tests do that.  A message that does not exist (or was
        deleted) is delivered as an InaccessibleMessage, as Telegram does.
        """
        target = self._chat.find(message_id)
        if target is not None and not target.deleted:
            raw = target.raw
        else:
            raw = {"chat": dict(self._chat.info), "message_id": message_id, "date": 0}
        return await self._press(raw, data, wait=wait, timeout=timeout)

    async def _press(
        self, raw_message: dict[str, Any], data: str, *, wait: bool, timeout: float
    ) -> CallbackAnswer | None:
        query_id = self._fake._post_callback_query(self, raw_message, data)
        if not wait:
            return None
        try:
            return await self._fake._feed.wait_until(lambda: self._fake._answers.get(query_id), timeout)
        except TimeoutError:
            return None


class SimGroup(_ChatView):
    """A supergroup the bot is in (as administrator, privacy mode off); people post via SimUser."""

    def __init__(self, fake: FakeTelegram, chat: _Chat, title: str) -> None:
        super().__init__(fake, chat)
        self.title = title

    def __repr__(self) -> str:
        return f"SimGroup({self.chat_id}, {self.title!r})"


def _user_text(text: str) -> FormattedText:
    try:
        return format_text(text)
    except _ApiError:
        raise ValueError("Telegram clients do not send empty messages") from None


def _file_ids(kind: str) -> tuple[str, str]:
    prefix = {"photo": "AgACAgIAAxkBAAI", "sticker": "CAACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}.get(
        kind, "AAMCAgADGQEAAg"
    )
    return prefix + secrets.token_urlsafe(45)[:60], "AQAD" + secrets.token_urlsafe(9)[:12]


def _photo_sizes(width: int, height: int, largest_file_id: str | None = None) -> list[dict[str, Any]]:
    sizes = []
    for side in (90, 320, 800, 1280):
        scale = min(1.0, side / max(width, height))
        file_id, unique_id = _file_ids("photo")
        sizes.append(
            {
                "file_id": file_id,
                "file_unique_id": unique_id,
                "width": max(1, round(width * scale)),
                "height": max(1, round(height * scale)),
                "file_size": max(1000, round(width * height * scale * scale / 8)),
            }
        )
        if scale == 1.0:
            break
    if largest_file_id:
        sizes[-1]["file_id"] = largest_file_id
    return sizes


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


@dataclass
class _PendingQuery:
    user: SimUser
    data: str | None
    created: float
    answered: bool = False


_DEFAULT_EXCLUDED_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}
_SCOPE_TYPES = {
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
}
_INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)


class FakeTelegram:
    """A local Telegram Bot API server holding simulated users and groups.

    ``token=None`` accepts any token (the bot's id is then taken from the first request).
    Everything the bot does is recorded: `requests` (every call, in order, parameters decoded),
    `errors` (every error answer), the chats (`chat_messages`, `SimUser.messages`), `commands`.
    `listeners` receive ``(event, message)`` for every message event — "user", "sent", "edited",
    "deleted" — which is how the terminal demo renders the conversation.
    """

    def __init__(
        self,
        token: str | None = "123456:TEST",
        *,
        limits: Limits | None = None,
        bot_username: str = "nobat_test_bot",
        bot_first_name: str = "Nobat",
    ) -> None:
        self.token = token
        self.limits = limits if limits is not None else Limits()
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.base_url = ""
        self.limit_violations = 0
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, dict[str, Any], int, str]] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}  # (setMyName|setMyDescription|..., language)
        self.default_menu_button: dict[str, Any] = {"type": "commands"}
        self.webhook_url = ""
        self.callback_query_ttl = 15.0  # Telegram stops accepting answers to a query after a while
        # Simulated seconds a person takes between two actions in a chat.  Tests drive users at
        # machine speed; without this, a bot answering its fourth message within milliseconds
        # would hit the per-chat limit, which no human conversation can cause.  It only moves
        # that chat's limiter clock: many people acting at once are still a real burst for the
        # global limit, and bursts the bot makes on its own are still limited.  0 = machine speed.
        self.user_think_time = 3.0
        self.listeners: list[Callable[[str, ChatMessage], Any]] = []
        self.clock: Callable[[], float] = time.monotonic  # replaceable by tests that fake time
        self._bot_id: int | None = _token_bot_id(token) if token else None
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self._chats: dict[int, _Chat] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 700_000_001
        self._fetched_update_id = 0
        self._allowed_updates: set[str] | None = None
        self._queries: dict[str, _PendingQuery] = {}
        self._answers: dict[str, CallbackAnswer] = {}
        self._query_counter = itertools.count(1)
        self._global_bucket = _TokenBucket()
        self._feed = _ChangeFeed()
        self._poll_generation = 0
        self._activity = 0
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, Callable[[_Params], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setMyName": self._set_bot_text("name"),
                "getMyName": self._get_bot_text("name"),
                "setMyDescription": self._set_bot_text("description"),
                "getMyDescription": self._get_bot_text("description"),
                "setMyShortDescription": self._set_bot_text("short_description"),
                "getMyShortDescription": self._get_bot_text("short_description"),
                "setChatMenuButton": self._set_chat_menu_button,
                "getChatMenuButton": self._get_chat_menu_button,
                "getChat": self._get_chat,
                "sendMessage": self._send_message,
                "sendPhoto": self._media_sender("photo"),
                "sendDocument": self._media_sender("document"),
                "sendSticker": self._media_sender("sticker"),
                "sendLocation": self._media_sender("location"),
                "sendContact": self._media_sender("contact"),
                "copyMessage": self._copy_message,
                "forwardMessage": self._forward_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "deleteMessages": self._delete_messages,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
            }.items()
        }

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening; returns the base URL (port 0 picks a free port)."""
        if self._runner is not None:
            return self.base_url
        self._stopping = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/{path:.*}", self._handle_file)
        # handler_cancellation: a long poll whose client went away (polling stopped) ends at once.
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop the server; pending long polls return [] right away instead of at their timeout."""
        self._stopping = True
        self._feed.notify()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def create_bot(self, **bot_kwargs: Any) -> Any:
        """An aiogram ``Bot`` wired to this server (aiogram is imported only here)."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        if not self.base_url:
            raise RuntimeError("start() the fake server before creating a bot")
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(self.token or "123456:TEST", session=session, **bot_kwargs)

    # ---- the simulated world ------------------------------------------------------------------

    @property
    def bot_id(self) -> int:
        return self._bot_id if self._bot_id is not None else 123456

    def bot_user(self) -> dict[str, Any]:
        """The bot's User object, as in the `from` field of its messages."""
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name, "username": self.bot_username}

    def user(
        self,
        user_id: int,
        first_name: str = "Driver",
        language_code: str | None = "ru",
        username: str | None = None,
        last_name: str | None = None,
    ) -> SimUser:
        """The simulated user `user_id`, created on first use (later calls return the same one)."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        if user_id <= 0:
            raise ValueError("user ids are positive")
        info: dict[str, Any] = {"id": user_id, "first_name": first_name, "type": "private"}
        if last_name:
            info["last_name"] = last_name
        if username:
            info["username"] = username
        chat = _Chat(user_id, info)
        self._chats[user_id] = chat
        sim = SimUser(self, chat, user_id, first_name, language_code, username, last_name)
        self._users[user_id] = sim
        return sim

    def group(self, chat_id: int, title: str = "Agents") -> SimGroup:
        """The supergroup `chat_id` (negative, e.g. -1001234567890), created on first use."""
        existing = self._groups.get(chat_id)
        if existing is not None:
            return existing
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = _Chat(chat_id, {"id": chat_id, "title": title, "type": "supergroup"})
        self._chats[chat_id] = chat
        sim = SimGroup(self, chat, title)
        self._groups[chat_id] = sim
        return sim

    @property
    def users(self) -> list[SimUser]:
        return list(self._users.values())

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends and edits to the chat answer 403 from now on.

        Telegram also sends the bot a my_chat_member update (status "kicked"), so this does too.
        """
        user = self._require_user(user_id)
        if user._chat.blocked:
            return
        user._chat.blocked = True
        self._post_member_update(user, old="member", new="kicked")

    def unblock(self, user_id: int) -> None:
        """The user restarts the bot (my_chat_member update back to "member")."""
        user = self._require_user(user_id)
        if not user._chat.blocked:
            return
        user._chat.blocked = False
        self._post_member_update(user, old="kicked", new="member")

    def chat_messages(self, chat_id: int) -> list[ChatMessage]:
        """All messages of a chat in order (deleted ones included, flagged); [] for unknown chats."""
        chat = self._chats.get(chat_id)
        return chat.messages if chat else []

    def chat_actions(self, chat_id: int) -> list[str]:
        """Chat actions ("typing", ...) the bot sent to a chat, in order."""
        chat = self._chats.get(chat_id)
        return chat.actions if chat else []

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call of `method` (case-insensitive), in order."""
        return [params for name, params in self.requests if name.lower() == method.lower()]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (delivered ones stay until the next offset)."""
        return list(self._updates)

    async def wait_until(self, condition: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until ``condition()`` returns something other than None/False; return that.

        Re-evaluated whenever the bot calls the API or a person acts (no polling).  Raises
        TimeoutError after `timeout` seconds.
        """

        def check() -> Any:
            result = condition()
            return None if result is False else result

        return await self._feed.wait_until(check, timeout)

    async def wait_idle(self, timeout: float = 5.0, quiet: float = 0.05) -> bool:
        """Wait until the bot fetched every update and made no API call for `quiet` seconds.

        A heuristic — the fake cannot see inside the bot — but a useful one after ``wait=False``
        injections.  Returns False if that did not happen within `timeout`.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            try:
                await self._feed.wait_until(lambda: True if self._all_fetched() else None, remaining)
            except TimeoutError:
                return False
            stamp = self._activity
            window = min(quiet, max(0.0, deadline - loop.time()))
            try:
                await self._feed.wait_until(lambda: True if self._activity != stamp else None, window)
            except TimeoutError:
                if self._all_fetched():
                    return True
            if loop.time() >= deadline:
                return False

    def _all_fetched(self) -> bool:
        return all(update["update_id"] <= self._fetched_update_id for update in self._updates)

    def _require_user(self, user_id: int) -> SimUser:
        user = self._users.get(user_id)
        if user is None:
            raise KeyError(f"no simulated user {user_id}; create it with fake.user({user_id})")
        return user

    def _emit(self, event: str, message: ChatMessage) -> None:
        for listener in list(self.listeners):
            try:
                listener(event, message)
            except Exception:  # a broken demo renderer must not break the server
                logger.exception("fake telegram listener failed")

    # ---- injecting updates --------------------------------------------------------------------

    def _post_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: payload})
        self._feed.notify()
        return update_id

    def _new_message(
        self,
        chat: _Chat,
        *,
        from_bot: bool,
        sender: dict[str, Any],
        kind: str,
        text: str,
        entities: list[dict[str, Any]],
        extra: dict[str, Any] | None = None,
        reply_to: ChatMessage | None = None,
        inline_markup: dict[str, Any] | None = None,
    ) -> tuple[ChatMessage, dict[str, Any]]:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        date = int(time.time())
        raw: dict[str, Any] = {"message_id": message_id, "from": sender, "chat": dict(chat.info), "date": date}
        if reply_to is not None:
            replied = {k: v for k, v in reply_to.raw.items() if k != "reply_to_message"}
            raw["reply_to_message"] = copy.deepcopy(replied)
        if kind == "text":
            raw["text"] = text
            if entities:
                raw["entities"] = entities
        else:
            raw.update(copy.deepcopy(extra or {}))
            if text:
                raw["caption"] = text
                if entities:
                    raw["caption_entities"] = entities
        if inline_markup is not None:
            raw["reply_markup"] = inline_markup
        message = ChatMessage(
            message_id=message_id,
            chat_id=chat.chat_id,
            from_bot=from_bot,
            text=text,
            entities=list(entities),
            date=date,
            kind=kind,
            sender_id=sender["id"],
            raw=raw,
        )
        chat.messages.append(message)
        return message, raw

    def _post_user_message(
        self,
        chat: _Chat,
        user: SimUser,
        *,
        kind: str,
        text: str,
        entities: list[dict[str, Any]],
        extra: dict[str, Any],
        reply_to: ChatMessage | int | None,
    ) -> ChatMessage:
        chat.think_skew += self.user_think_time
        target = chat.find(reply_to) if isinstance(reply_to, int) else reply_to
        message, raw = self._new_message(
            chat, from_bot=False, sender=user.as_user(), kind=kind, text=text, entities=entities,
            extra=extra, reply_to=target,
        )
        self._emit("user", message)
        self._post_update("message", copy.deepcopy(raw))
        return message

    def _post_callback_query(self, user: SimUser, raw_message: dict[str, Any], data: str | None) -> str:
        query_id = str(4_000_000_000_000_000_000 + self.bot_id * 1_000_003 + next(self._query_counter))
        self._queries[query_id] = _PendingQuery(user=user, data=data, created=self.clock())
        chat_id = raw_message["chat"]["id"]
        chat = self._chats.get(chat_id)
        if chat is not None:
            chat.think_skew += self.user_think_time
        query: dict[str, Any] = {
            "id": query_id,
            "from": user.as_user(),
            "message": copy.deepcopy(raw_message),
            "chat_instance": str(-(abs(chat_id) * 2_654_435_761 % 9_000_000_000_000_000_000) - 1),
        }
        if data is not None:
            query["data"] = data
        self._post_update("callback_query", query)
        return query_id

    def _post_member_update(self, user: SimUser, *, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            payload: dict[str, Any] = {"status": status, "user": self.bot_user()}
            if status == "kicked":
                payload["until_date"] = 0
            return payload

        self._post_update(
            "my_chat_member",
            {
                "chat": dict(user._chat.info),
                "from": user.as_user(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    # ---- HTTP -------------------------------------------------------------------------------------

    async def _handle_file(self, request: web.Request) -> web.Response:
        """File downloads are not simulated; Telegram answers unknown files with 404 too."""
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if self.token is not None and token != self.token:
            return _json_error(_ApiError(401, "Unauthorized"))
        if self._bot_id is None:
            self._bot_id = _token_bot_id(token)
        try:
            params = _Params(await _read_params(request))
        except _ApiError as error:
            return _json_error(error)

        entry = self._methods.get(request.match_info["method"].lower())
        name = entry[0] if entry else request.match_info["method"]
        decoded = params.decoded()
        self.requests.append((name, decoded))
        if entry is None:
            logger.warning("fake telegram: unknown or unimplemented method %s", name)
            return _json_error(_ApiError(404, "Not Found"))
        if name != "getUpdates":
            self._activity += 1
        try:
            result = await entry[1](params)
        except _ApiError as error:
            self.errors.append((name, decoded, error.code, error.description))
            return _json_error(error)
        except Exception as error:  # a bug in the fake: say so loudly instead of a bare 500 page
            logger.exception("fake telegram failed in %s", name)
            failure = _ApiError(500, f"Internal Server Error: fake telegram bug in {name}: {error!r}")
            self.errors.append((name, decoded, failure.code, failure.description))
            return _json_error(failure)
        finally:
            if name != "getUpdates":
                self._feed.notify()
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    # ---- shared validation ----------------------------------------------------------------------

    def _chat(self, params: _Params, name: str = "chat_id") -> _Chat:
        raw = params.values.get(name)
        if raw in (None, ""):
            raise _bad(f"{name} is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise _bad("chat not found") from None  # @username works only for public channels/groups
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad("chat not found")
        return chat

    @staticmethod
    def _check_writable(chat: _Chat) -> None:
        if chat.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")

    def _check_rate(self, chat: _Chat) -> None:
        """Consume one send from the global and the per-chat bucket, or answer 429.

        Nothing is consumed when refused: a refused message is not delivered, exactly like on
        Telegram, so a bot that ignores 429 visibly loses messages in tests.
        """
        limits = self.limits
        if not limits.enabled:
            return
        now = self.clock()
        if chat.is_private:
            chat_rate, chat_capacity = limits.chat_per_s, limits.chat_burst
        else:
            chat_rate, chat_capacity = limits.group_per_min / 60.0, limits.group_burst
        wait = max(
            # One second's worth of burst globally.
            self._global_bucket.seconds_until_token(limits.global_per_s, limits.global_per_s, now),
            # The chat's clock runs ahead by the time its people spent thinking.
            chat.bucket.seconds_until_token(chat_rate, chat_capacity, now + chat.think_skew),
        )
        if wait > 0:
            self.limit_violations += 1
            retry_after = max(1, math.ceil(wait - 1e-9))
            raise _ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        self._global_bucket.take()
        chat.bucket.take()

    def _format(self, params: _Params, text: str, *, caption: bool = False) -> FormattedText:
        entities_name = "caption_entities" if caption else "entities"
        formatted = format_text(
            text,
            params.str("parse_mode"),
            params.json(entities_name, error="can't parse entities JSON object"),
            allow_empty=caption,
        )
        limit = MAX_CAPTION_LENGTH if caption else MAX_MESSAGE_LENGTH
        if utf16_len(formatted.text) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        for entity in formatted.entities:
            if entity["type"] == "text_mention":
                known = self._users.get(entity["user"]["id"])
                if known is not None:
                    entity["user"] = known.as_user()
        return formatted

    def _reply_markup(self, params: _Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        raw = params.values.get("reply_markup")
        if raw in (None, ""):
            return None
        if isinstance(raw, str):
            try:
                markup = json.loads(raw)
            except ValueError:
                raise _bad("can't parse reply keyboard markup JSON object") from None
        else:
            markup = raw
        if not isinstance(markup, dict):
            raise _bad("object expected as reply markup")
        if "inline_keyboard" in markup:
            return _validate_inline_keyboard(markup)
        if inline_only:
            if any(key in markup for key in ("keyboard", "remove_keyboard", "hide_keyboard", "force_reply")):
                raise _bad("inline keyboard expected")
            return None
        if "keyboard" in markup:
            return _validate_reply_keyboard(markup)
        if markup.get("remove_keyboard") or markup.get("hide_keyboard"):
            return {"remove_keyboard": True, **({"selective": True} if markup.get("selective") else {})}
        if "force_reply" in markup:
            return dict(markup)
        return None  # an object without a known markup field is ignored, as by Telegram

    def _reply_target(self, chat: _Chat, params: _Params) -> ChatMessage | None:
        reply = params.json("reply_parameters", error="can't parse reply parameters JSON object")
        allow = params.bool("allow_sending_without_reply")
        message_id: Any = None
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = allow or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat.chat_id, str(chat.chat_id)):
                return None  # replies across chats are not simulated
        elif reply is not None:
            raise _bad("object expected as reply parameters")
        elif params.has("reply_to_message_id"):
            message_id = params.int("reply_to_message_id")
        if message_id in (None, 0):
            return None
        target = chat.find(int(message_id))
        if target is None or target.deleted:
            if allow:
                return None
            raise _bad("message to be replied not found")
        return target

    def _deliver_bot_message(
        self,
        chat: _Chat,
        params: _Params,
        *,
        kind: str,
        formatted: FormattedText,
        raw_text: str | None,
        markup: dict[str, Any] | None,
        reply_to: ChatMessage | None,
        extra: dict[str, Any] | None = None,
    ) -> ChatMessage:
        """Store a message the bot sent (all checks passed) and tell whoever waits for it."""
        inline = markup if markup and "inline_keyboard" in markup else None
        message, raw = self._new_message(
            chat, from_bot=True, sender=self.bot_user(), kind=kind, text=formatted.text,
            entities=formatted.entities, extra=extra, reply_to=reply_to, inline_markup=inline,
        )
        parse_mode = params.str("parse_mode")
        message.parse_mode = parse_mode
        if raw_text is not None and (parse_mode or "").lower() == "html":
            message.html = raw_text
        message.reply_markup = markup
        if params.bool("protect_content"):
            raw["has_protected_content"] = True
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        chat.activity.append(message)
        self._emit("sent", message)
        return message

    def _message_to_edit(self, params: _Params) -> tuple[_Chat, ChatMessage]:
        if params.has("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")  # inline mode is not simulated
        if not params.has("message_id"):
            raise _bad("message identifier is not specified")
        chat = self._chat(params)
        self._check_writable(chat)
        message = chat.find(params.int("message_id", invalid="message identifier is not specified"))
        if message is None or message.deleted:
            raise _bad("message to edit not found")
        if not message.from_bot:
            raise _bad("message can't be edited")
        return chat, message

    def _apply_edit(
        self,
        chat: _Chat,
        message: ChatMessage,
        *,
        formatted: FormattedText | None,
        raw_text: str | None,
        params: _Params,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Change a bot message, refusing edits that change nothing, as Telegram does."""
        old_inline = message.reply_markup if "inline_keyboard" in (message.reply_markup or {}) else None
        same_content = formatted is None or (
            formatted.text == message.text and formatted.entities == message.entities
        )
        if same_content and markup == old_inline:
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        raw = message.raw
        if formatted is not None:
            message.text = formatted.text
            message.entities = list(formatted.entities)
            parse_mode = params.str("parse_mode")
            message.parse_mode = parse_mode
            message.html = raw_text if raw_text is not None and (parse_mode or "").lower() == "html" else None
            text_key, entities_key = ("text", "entities") if message.kind == "text" else ("caption", "caption_entities")
            raw.pop(text_key, None)
            raw.pop(entities_key, None)
            if formatted.text:
                raw[text_key] = formatted.text
            if formatted.entities:
                raw[entities_key] = formatted.entities
        # Without reply_markup an edit removes the inline keyboard (a reply keyboard is not
        # attached to the message and stays).
        if markup is not None:
            message.reply_markup = markup
            raw["reply_markup"] = markup
        else:
            if old_inline is not None:
                message.reply_markup = None
            raw.pop("reply_markup", None)
        message.edited = True
        message.edit_count += 1
        raw["edit_date"] = int(time.time())
        chat.activity.append(message)
        self._emit("edited", message)
        return copy.deepcopy(raw)

    # ---- methods: bot, updates, webhook -----------------------------------------------------------

    async def _true(self, params: _Params) -> bool:
        return True

    async def _get_me(self, params: _Params) -> dict[str, Any]:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": True,  # every group message reaches the bot here
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: _Params) -> list[dict[str, Any]]:
        """Long polling with Telegram's semantics.

        Updates stay queued until confirmed by a later call with ``offset`` above their id; a
        negative offset keeps only the last ``-offset`` ones.  ``allowed_updates`` is remembered
        across calls (as on Telegram) and updates of other types are dropped.  A new getUpdates
        ends an older one still waiting (Telegram answers that one 409; here it gets []).
        """
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.int("offset")
        limit = min(100, max(1, params.int("limit") or 100))
        timeout = max(0.0, params.float("timeout") or 0.0)
        if "allowed_updates" in params.values:
            allowed = params.json("allowed_updates", error="can't parse allowed_updates JSON object")
            self._allowed_updates = set(allowed) if allowed else None
        if offset is not None and offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

        self._poll_generation += 1
        generation = self._poll_generation
        self._feed.notify()  # supersede an older poll

        def ready() -> list[dict[str, Any]] | None:
            self._drop_disallowed_updates()
            if self._updates:
                return self._updates[:limit]
            if self._stopping or generation != self._poll_generation:
                return []
            return None

        try:
            batch = await self._feed.wait_until(ready, min(timeout, MAX_LONG_POLL_SECONDS))
        except TimeoutError:
            batch = []
        if batch:
            self._fetched_update_id = max(self._fetched_update_id, batch[-1]["update_id"])
            self._feed.notify()
        return copy.deepcopy(batch)

    def _drop_disallowed_updates(self) -> None:
        allowed = self._allowed_updates

        def deliverable(update: dict[str, Any]) -> bool:
            kind = next(key for key in update if key != "update_id")
            return kind in allowed if allowed is not None else kind not in _DEFAULT_EXCLUDED_UPDATES

        self._updates = [update for update in self._updates if deliverable(update)]

    async def _set_webhook(self, params: _Params) -> bool:
        url = params.str("url") or ""
        if url and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        if params.bool("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: _Params) -> bool:
        self.webhook_url = ""
        if params.bool("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: _Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    # ---- methods: commands, menu, profile ----------------------------------------------------

    def _commands_key(self, params: _Params) -> tuple[str, str]:
        scope = params.json("scope", error="can't parse BotCommandScope JSON object")
        language = params.str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("invalid language code specified")
        return _scope_key(scope), language

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.json("commands", error="can't parse commands JSON object")
        if commands is None:
            raise _bad("commands is empty")
        if not isinstance(commands, list):
            raise _bad("field \"commands\" must be an Array")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad("BotCommand must be an Object")
            command, description = item.get("command"), item.get("description")
            if not isinstance(command, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", command):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command, "description": description})
        key = self._commands_key(params)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)  # an empty list deletes the commands, as on Telegram
        return True

    async def _get_my_commands(self, params: _Params) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: _Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _set_bot_text(self, field_name: str) -> Callable[[_Params], Any]:
        async def handler(params: _Params) -> bool:
            language = params.str("language_code") or ""
            value = params.str(field_name) or ""
            if value:
                self.descriptions[(field_name, language)] = value
            else:
                self.descriptions.pop((field_name, language), None)
            return True

        return handler

    def _get_bot_text(self, field_name: str) -> Callable[[_Params], Any]:
        async def handler(params: _Params) -> dict[str, str]:
            language = params.str("language_code") or ""
            default = self.bot_first_name if field_name == "name" else ""
            value = self.descriptions.get((field_name, language), self.descriptions.get((field_name, ""), default))
            return {field_name: value}

        return handler

    async def _set_chat_menu_button(self, params: _Params) -> bool:
        button = params.json("menu_button", error="can't parse menu button JSON object") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise _bad("unsupported menu button type")
        if params.has("chat_id"):
            chat = self._chat(params)
            chat.menu_button = button
        else:
            self.default_menu_button = button
        return True

    async def _get_chat_menu_button(self, params: _Params) -> dict[str, Any]:
        if params.has("chat_id"):
            chat = self._chat(params)
            if chat.menu_button and chat.menu_button.get("type") != "default":
                return chat.menu_button
        if self.default_menu_button.get("type") == "default":
            return {"type": "commands"}
        return self.default_menu_button

    async def _get_chat(self, params: _Params) -> dict[str, Any]:
        chat = self._chat(params)
        info = {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                "premium_subscription": False, "gifts_from_channels": False,
            },
        }
        return info

    # ---- methods: sending --------------------------------------------------------------------

    async def _send_message(self, params: _Params) -> dict[str, Any]:
        if not params.has("chat_id"):
            raise _bad("chat_id is empty")
        text = params.str("text")
        if not text:
            raise _bad("message text is empty")
        formatted = self._format(params, text)
        message = self._send_to_chat(params, kind="text", formatted=formatted, raw_text=text)
        return copy.deepcopy(message.raw)

    def _media_sender(self, kind: str) -> Callable[[_Params], Any]:
        async def handler(params: _Params) -> dict[str, Any]:
            return await self._send_media(params, kind)

        return handler

    async def _send_media(self, params: _Params, kind: str) -> dict[str, Any]:
        if not params.has("chat_id"):
            raise _bad("chat_id is empty")
        extra: dict[str, Any]
        caption = ""
        if kind in ("photo", "document", "sticker"):
            source = params.file(kind)
            if source is None:
                raise _bad(f"there is no {kind} in the request")
            reused_id = source if isinstance(source, str) and not source.startswith(("http://", "https://")) else None
            if kind == "photo":
                extra = {"photo": _photo_sizes(1280, 960, reused_id)}
            elif kind == "document":
                file_id, unique_id = _file_ids("document")
                upload = source if isinstance(source, UploadedFile) else None
                extra = {
                    "document": {
                        "file_id": reused_id or file_id,
                        "file_unique_id": unique_id,
                        "file_name": (upload.filename if upload else None) or "document",
                        "mime_type": (upload.content_type if upload else None) or "application/octet-stream",
                        "file_size": upload.size if upload else 1024,
                    }
                }
            else:
                file_id, unique_id = _file_ids("sticker")
                extra = {
                    "sticker": {
                        "file_id": reused_id or file_id, "file_unique_id": unique_id, "type": "regular",
                        "width": 512, "height": 512, "is_animated": False, "is_video": False,
                        "emoji": params.str("emoji") or "🙂",
                    }
                }
            if kind != "sticker":
                caption = params.str("caption") or ""
        elif kind == "location":
            latitude, longitude = params.float("latitude"), params.float("longitude")
            if latitude is None or longitude is None:
                raise _bad("latitude is empty" if latitude is None else "longitude is empty")
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise _bad("wrong latitude or longitude specified")
            extra = {"location": {"latitude": latitude, "longitude": longitude}}
        else:  # contact
            phone, first_name = params.str("phone_number"), params.str("first_name")
            if not phone:
                raise _bad("phone_number is empty")
            if not first_name:
                raise _bad("first_name is empty")
            contact = {"phone_number": phone, "first_name": first_name}
            if params.has("last_name"):
                contact["last_name"] = params.str("last_name") or ""
            extra = {"contact": contact}
        formatted = self._format(params, caption, caption=True) if caption else FormattedText("", [])
        message = self._send_to_chat(params, kind=kind, formatted=formatted, raw_text=caption or None, extra=extra)
        return copy.deepcopy(message.raw)

    def _source_message(self, params: _Params, verb: str) -> ChatMessage:
        if not params.has("from_chat_id"):
            raise _bad("from_chat_id is empty")
        if not params.has("message_id"):
            raise _bad("message identifier is not specified")
        source_chat = self._chat(params, "from_chat_id")
        source = source_chat.find(params.int("message_id"))
        if source is None or source.deleted:
            raise _bad(f"message to {verb} not found")
        return source

    def _copy_content(self, source: ChatMessage) -> tuple[str, dict[str, Any]]:
        extra = {
            key: copy.deepcopy(value)
            for key, value in source.raw.items()
            if key in ("photo", "document", "sticker", "location", "contact")
        }
        return source.kind, extra

    def _send_to_chat(self, params: _Params, *, kind: str, formatted: FormattedText, raw_text: str | None,
                      extra: dict[str, Any] | None = None) -> ChatMessage:
        """What every send shares, in Telegram's order: the markup and the chat are checked, then
        whether the bot may write there and whether it is within the flood limits; only then is the
        message delivered, so a refused message never appears in the chat."""
        markup = self._reply_markup(params)
        chat = self._chat(params)
        reply_to = self._reply_target(chat, params)
        self._check_writable(chat)
        self._check_rate(chat)
        return self._deliver_bot_message(
            chat, params, kind=kind, formatted=formatted, raw_text=raw_text, markup=markup, reply_to=reply_to,
            extra=extra,
        )

    async def _copy_message(self, params: _Params) -> dict[str, Any]:
        if not params.has("chat_id"):
            raise _bad("chat_id is empty")
        source = self._source_message(params, "copy")
        kind, extra = self._copy_content(source)
        if kind != "text" and "caption" in params.values:
            caption = params.str("caption") or ""
            formatted = self._format(params, caption, caption=True) if caption else FormattedText("", [])
            raw_text = caption or None
        else:
            formatted = FormattedText(source.text, copy.deepcopy(source.entities))
            raw_text, params.values["parse_mode"] = source.html, source.parse_mode
        message = self._send_to_chat(params, kind=kind, formatted=formatted, raw_text=raw_text, extra=extra)
        return {"message_id": message.message_id}

    async def _forward_message(self, params: _Params) -> dict[str, Any]:
        if not params.has("chat_id"):
            raise _bad("chat_id is empty")
        source = self._source_message(params, "forward")
        kind, extra = self._copy_content(source)
        chat = self._chat(params)
        self._check_writable(chat)
        self._check_rate(chat)
        params.values["parse_mode"] = source.parse_mode
        message = self._deliver_bot_message(
            chat, params, kind=kind, formatted=FormattedText(source.text, copy.deepcopy(source.entities)),
            raw_text=source.html, markup=None, reply_to=None, extra=extra,
        )
        message.raw["forward_origin"] = {"type": "user", "sender_user": source.raw["from"], "date": source.date}
        return copy.deepcopy(message.raw)

    async def _send_chat_action(self, params: _Params) -> bool:
        chat = self._chat(params)
        action = params.str("action")
        if not action:
            raise _bad("action is empty")
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._check_writable(chat)
        chat.actions.append(action)
        return True

    # ---- methods: editing and deleting ---------------------------------------------------------

    async def _edit_message_text(self, params: _Params) -> dict[str, Any]:
        text = params.str("text")
        if not params.has("inline_message_id") and not params.has("message_id"):
            raise _bad("message identifier is not specified")
        if not text:
            raise _bad("message text is empty")
        formatted = self._format(params, text)
        markup = self._reply_markup(params, inline_only=True)
        chat, message = self._message_to_edit(params)
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        return self._apply_edit(chat, message, formatted=formatted, raw_text=text, params=params, markup=markup)

    async def _edit_message_caption(self, params: _Params) -> dict[str, Any]:
        caption = params.str("caption") or ""
        formatted = self._format(params, caption, caption=True) if caption else FormattedText("", [])
        markup = self._reply_markup(params, inline_only=True)
        chat, message = self._message_to_edit(params)
        if message.kind in ("text", "sticker", "location", "contact"):
            raise _bad("there is no caption in the message to edit")
        return self._apply_edit(
            chat, message, formatted=formatted, raw_text=caption or None, params=params, markup=markup
        )

    async def _edit_message_reply_markup(self, params: _Params) -> dict[str, Any]:
        markup = self._reply_markup(params, inline_only=True)
        chat, message = self._message_to_edit(params)
        return self._apply_edit(chat, message, formatted=None, raw_text=None, params=params, markup=markup)

    async def _delete_message(self, params: _Params) -> bool:
        chat = self._chat(params)
        if not params.has("message_id"):
            raise _bad("message identifier is not specified")
        message = chat.find(params.int("message_id", invalid="message identifier is not specified"))
        if message is None or message.deleted:
            raise _bad("message to delete not found")
        self._mark_deleted(message)
        return True

    async def _delete_messages(self, params: _Params) -> bool:
        chat = self._chat(params)
        ids = params.json("message_ids", error="can't parse message identifiers JSON object")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad("message_ids must be a non-empty Array of at most 100 identifiers")
        for message_id in ids:  # messages that cannot be found are skipped, as on Telegram
            message = chat.find(int(message_id)) if str(message_id).lstrip("-").isdigit() else None
            if message is not None and not message.deleted:
                self._mark_deleted(message)
        return True

    def _mark_deleted(self, message: ChatMessage) -> None:
        message.deleted = True
        self._emit("deleted", message)

    # ---- methods: callback queries --------------------------------------------------------------

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.str("callback_query_id") or ""
        query = self._queries.get(query_id)
        if query is None or query.answered or self.clock() - query.created > self.callback_query_ttl:
            raise _ApiError(400, QUERY_INVALID)
        text = params.str("text")
        if text and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        answer = CallbackAnswer(
            text=text or None,
            show_alert=params.bool("show_alert"),
            url=params.str("url"),
            cache_time=params.int("cache_time") or 0,
            query_id=query_id,
            data=query.data,
        )
        self._answers[query_id] = answer
        query.user.callback_answers.append(answer)
        return True


# --------------------------------------------------------------------------------------------------
# Module helpers
# --------------------------------------------------------------------------------------------------


def _token_bot_id(token: str) -> int | None:
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_error(error: _ApiError) -> web.Response:
    return web.json_response(error.payload(), status=error.code, dumps=_dumps)


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query-string and body parameters (multipart, urlencoded or JSON), like the Bot API."""
    values: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return values
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad("can't parse JSON encoded request body") from None
        if not isinstance(body, dict):
            raise _bad("JSON object expected as request body")
        values.update(body)
    elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                values[name] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                values[name] = value
    return values


def _scope_key(scope: Any) -> str:
    """Key of a BotCommandScope in `FakeTelegram.commands`.

    Scopes bound to a chat or member include it ("chat:42", "chat_member:-100:42"), otherwise
    commands for different chats would overwrite each other.
    """
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
        raise _bad("unsupported bot command scope type")
    kind = scope["type"]
    if kind in ("chat", "chat_administrators"):
        if scope.get("chat_id") in (None, ""):
            raise _bad("chat_id is empty")
        return f"{kind}:{scope['chat_id']}"
    if kind == "chat_member":
        return f"{kind}:{scope.get('chat_id')}:{scope.get('user_id')}"
    return kind


def _validate_inline_keyboard(markup: dict[str, Any]) -> dict[str, Any]:
    """Check an InlineKeyboardMarkup like Telegram and return it as Telegram echoes it back.

    A button keeps only its first action (Telegram's order: url before callback_data, ...),
    so a bot that sets two actions sees what users would actually get.
    """
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    normalized_rows = []
    for row in rows:
        if not isinstance(row, list):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        normalized_row = []
        for button in row:
            prefix = "can't parse inline keyboard button: "
            if not isinstance(button, dict):
                raise _bad(prefix + "InlineKeyboardButton must be an Object")
            if "text" not in button:
                raise _bad(prefix + 'Can\'t find field "text"')
            text = button["text"]
            if not isinstance(text, str):
                raise _bad(prefix + 'Field "text" must be of type String')
            action = next((name for name in _INLINE_ACTIONS if _has_inline_action(button, name)), None)
            if action is None:
                raise _bad(prefix + "Text buttons are unallowed in the inline keyboard")
            if not text.strip():
                raise _bad("text buttons are unallowed in the inline keyboard")
            if action == "callback_data" and len(button["callback_data"].encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                raise _bad("BUTTON_DATA_INVALID")
            if action == "url" and _checked_link(button["url"]) is None:
                raise _bad("BUTTON_URL_INVALID")
            normalized = {"text": text, action: button[action]}
            for optional in ("style", "icon_custom_emoji_id"):
                if button.get(optional):
                    normalized[optional] = button[optional]
            normalized_row.append(normalized)
        normalized_rows.append(normalized_row)
    return {"inline_keyboard": normalized_rows}


def _has_inline_action(button: dict[str, Any], name: str) -> bool:
    value = button.get(name)
    if name in ("url", "callback_data"):
        return isinstance(value, str) and value != ""
    if name in ("switch_inline_query", "switch_inline_query_current_chat"):
        return isinstance(value, str)  # an empty query is valid: it just inserts the bot's name
    if name == "pay":
        return bool(value)
    return isinstance(value, dict)


def _validate_reply_keyboard(markup: dict[str, Any]) -> dict[str, Any]:
    rows = markup.get("keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            text = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
            if not isinstance(text, str):
                raise _bad("can't parse keyboard button: KeyboardButton must be a String or an Object")
            if not text.strip():
                raise _bad("keyboard button text must be non-empty")
    return dict(markup)

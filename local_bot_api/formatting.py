"""Text as Telegram stores it: HTML parsing, explicit entities, cleaning and automatic entities."""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from local_bot_api.errors import ApiError, EntityParseError, bad_request

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


def checked_link(url: str) -> str | None:
    """Roughly tdlib's getchecked_link: keep web/tg links, add ``http://`` to bare domains."""
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

    Raises `EntityParseError` with Telegram's reason text.
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
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = src[begin + 1 : i].lower().decode("utf-8", "replace")
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')

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
                    raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) != ord("="):
                    # An attribute without a value: allowed (and meaningful for <blockquote expandable>).
                    if at(i) == 0:
                        raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    if tag == "blockquote" and attribute == b"expandable":
                        expandable = True
                    continue
                i += 1
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) == 0:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')

                if at(i) not in (ord("'"), ord('"')):
                    # An unquoted name token: letters, digits, periods and hyphens, case-insensitive.
                    token_begin = i
                    while _is_alnum(at(i)) or at(i) in (ord("."), ord("-")):
                        i += 1
                    value = src[token_begin:i].lower().decode("utf-8", "replace")
                    if not _is_space(at(i)) and at(i) != ord(">"):
                        raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
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
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")

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
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append([tag, argument, utf16, len(out), expandable])
            i += 1  # past ">"
            continue

        # An end tag.
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while not _is_space(at(i)) and at(i) != ord(">"):
            i += 1
        end_tag = src[begin + 2 : i].lower().decode("utf-8", "replace")
        while _is_space(at(i)) and at(i) != 0:
            i += 1
        if at(i) != ord(">"):
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, offset, byte_begin, expandable = stack[-1]
        if end_tag and end_tag != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"'
            )
        length = utf16 - offset
        if length > 0:
            if tag in _SIMPLE_TAG_ENTITIES:
                entities.append(_entity(_SIMPLE_TAG_ENTITIES[tag], offset, length))
            elif tag == "tg-emoji":
                if not argument.isdigit() or int(argument) == 0:
                    raise EntityParseError("Invalid custom emoji identifier specified")
                entities.append(_entity("custom_emoji", offset, length, custom_emoji_id=argument))
            elif tag == "a":
                url = argument or out[byte_begin:].decode("utf-8", "replace")
                mention = re.fullmatch(r"tg://user\?id=(\d+)", url.strip())
                if mention:
                    user = {"id": int(mention.group(1)), "is_bot": False, "first_name": ""}
                    entities.append(_entity("text_mention", offset, length, user=user))
                else:
                    checked = checked_link(url)
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
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    if saw_surrogate:
        raise EntityParseError(
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
    entity).  Raises `ApiError` "text must be non-empty" when nothing visible remains.
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
        raise bad_request("text must be non-empty")
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
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    result = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_request("can't parse MessageEntity: Field \"type\" must be of type String")
        if item["type"] not in _KNOWN_ENTITY_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise bad_request("can't parse MessageEntity: Field \"offset\" must be a valid Number")
        if offset > total:
            raise bad_request(f"can't parse entities: Entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + length > total:
            raise bad_request(
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
    Raises `ApiError` exactly as Telegram answers.  Length limits are checked by the caller,
    since they differ between texts and captions.
    """
    mode = (parse_mode or "").strip().lower()
    if mode and mode != "none":
        if mode == "html":
            try:
                text, parsed = parse_html(text)
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        elif mode in ("markdown", "markdownv2"):
            raise bad_request(f"unsupported parse_mode (the local Bot API server implements only HTML, not {parse_mode})")
        else:
            raise bad_request("unsupported parse_mode")
    elif entities not in (None, "", []):
        parsed = _validate_explicit_entities(text, entities)
    else:
        parsed = []
    try:
        text, parsed = _clean_and_trim(text, parsed)
    except ApiError:
        if allow_empty:
            return FormattedText("", [])
        raise
    if detect_entities:
        parsed = _merge_auto_entities(text, parsed)
    return FormattedText(text, parsed)

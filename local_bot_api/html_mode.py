"""``parse_mode=HTML``: the HTML a bot sends, turned into the text people see and its entities.

Written from the "HTML style" part of the Bot API's formatting options:

* the tags are b/strong, i/em, u/ins, s/strike/del, tg-spoiler and span class="tg-spoiler", a href
  (``tg://user?id=`` mentions a user), tg-emoji emoji-id, tg-time unix/format, code, pre (with a
  ``<code class="language-…">`` inside it for the language; a lone code has none), blockquote and
  blockquote expandable; no other tag is supported;
* ``<``, ``>`` and ``&`` that are not part of a tag or an HTML entity must be written as entities;
  every numeric character reference works, and of the named ones only ``&lt;``, ``&gt;``,
  ``&amp;`` and ``&quot;``;
* entity offsets and lengths count UTF-16 code units.

Python's `html.parser` splits the source into tags, text and references.  It is lenient where
Telegram is strict: a stray "<" or "&" passes as text, a tag cut off at the end is dropped,
comments are skipped.  So the parser here checks that every character of the source was read as
text, a supported tag or a supported reference, and refuses anything else with a reason in
Telegram's words ("can't parse entities: ...").  Two leniencies are kept because Telegram has
them too: ">" may stand as itself, and so may an "&" that could not begin a reference ("Tom & co");
an "&" before a letter or "#" must be a supported reference ("AT&T" and "&nbsp;" are refused).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from local_bot_api.entities import Entity, entity, in_text_order
from local_bot_api.errors import EntityParseError
from local_bot_api.links import checked_link
from local_bot_api.utf16 import utf16_len

_STYLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler",  # with class="tg-spoiler", checked where it opens
}
_TAGS = {*_STYLE_TAGS, "a", "tg-emoji", "tg-time", "code", "pre", "blockquote"}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_REFERENCE = re.compile(r"&(#?)([0-9A-Za-z]*)(;?)")
_NUMBER = re.compile(r"[xX](?P<hex>[0-9A-Fa-f]+)|(?P<decimal>[0-9]+)")
_TAG_NAME = re.compile(r"[^\s>]*")  # what Telegram names in "Unsupported start tag" reasons
_USER_LINK = re.compile(r"tg://user\?id=(\d+)")
_DATE_TIME_FORMAT = re.compile(r"r|w?[dD]?[tT]?")  # the documented date-time entity formats


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """The visible text of `source` and its entities (UTF-16 offsets), or `EntityParseError`."""
    return _TelegramHTML(source).parse()


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str | None]
    byte_offset: int  # where the tag starts in the UTF-8 source, for error reasons
    offset: int  # UTF-16 offset of the first character inside it
    first_piece: int  # index of the first text piece inside it (an <a> without href links its text)
    order: int  # entities of the same span keep the order their tags were opened in
    language: str | None = None  # of a <code class="language-…"> right inside a <pre>


class _TelegramHTML(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)  # references come to handle_*ref, to be checked
        self._source = source
        self._line_starts = [0] + [index + 1 for index, char in enumerate(source) if char == "\n"]
        self._read = 0  # every character before this index was read as text, a tag or a reference
        self._pieces: list[str] = []
        self._units = 0  # UTF-16 length of the text so far
        self._open: list[_OpenTag] = []
        self._entities: list[tuple[int, Entity]] = []  # (order of the tag, entity)
        self._languages: dict[int, str] = {}  # order of a <code class="language-…"> in a <pre> -> language
        self._order = itertools.count()

    def parse(self) -> tuple[str, list[Entity]]:
        self.feed(self._source)
        self.close()
        if self._read < len(self._source):
            self._refuse_unread(self._read)
        if self._open:
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{self._open[-1].name}"')
        ordered = sorted(self._entities, key=lambda item: item[0])
        return "".join(self._pieces), in_text_order([found for _order, found in ordered])

    # ---- where we are ---------------------------------------------------------------------------

    def _here(self) -> int:
        """Index in the source of what html.parser hands over now."""
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _byte_offset(self, index: int) -> int:
        return len(self._source[:index].encode("utf-8", "surrogatepass"))

    def _read_through(self, start: int, length: int) -> None:
        """Account for source[start:start+length]; anything skipped before it was not understood."""
        if start != self._read:
            self._refuse_unread(self._read)
        self._read = start + length

    def _append(self, text: str) -> None:
        self._pieces.append(text)
        self._units += utf16_len(text)

    # ---- text and references --------------------------------------------------------------------

    def handle_data(self, data: str) -> None:
        start = self._here()
        self._read_through(start, len(data))
        if "<" in data:  # html.parser passes a "<" that begins no tag as text
            self._refuse_markup(start + data.index("<"))
        done = 0
        while (ampersand := data.find("&", done)) >= 0:  # likewise an "&" that begins no reference
            char, length = self._reference_at(start + ampersand) or ("&", 1)
            self._append(data[done:ampersand] + char)
            done = ampersand + length
        self._append(data[done:])

    def handle_entityref(self, name: str) -> None:
        start = self._here()
        char, length = self._reference_at(start) or ("&", 1)
        self._read_through(start, length)
        self._append(char)

    handle_charref = handle_entityref

    def _reference_at(self, index: int) -> tuple[str, int] | None:
        """The character an "&" at `index` stands for and the length of its reference.

        None when the "&" cannot begin a reference (a space or punctuation follows): it is then
        an ampersand, as in Telegram.  Raises for a reference Telegram does not support.
        """
        match = _REFERENCE.match(self._source, index)
        hash_sign, name, semicolon = match.groups()
        if not hash_sign and not name[:1].isalpha():
            return None
        if semicolon and not hash_sign and name in _NAMED_REFERENCES:
            return _NAMED_REFERENCES[name], match.end() - index
        if semicolon and hash_sign and (char := _numbered_character(name)):
            return char, match.end() - index
        raise EntityParseError(f'Unsupported HTML entity "{match.group()}" at byte offset {self._byte_offset(index)}')

    # ---- tags -----------------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._here()
        raw = self.get_starttag_text() or ""
        self._read_through(start, len(raw))
        byte_offset = self._byte_offset(start)
        if tag not in _TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {byte_offset}')
        for index, char in enumerate(raw):
            if char == "&":  # html.parser decoded attribute values with every HTML entity it knows
                self._reference_at(start + index)
        attributes: dict[str, str | None] = {}
        for name, value in attrs:
            attributes.setdefault(name, value)  # the first of repeated attributes counts, as in HTML
        opened = _OpenTag(tag, attributes, byte_offset, self._units, len(self._pieces), next(self._order))
        self._check_attributes(opened)
        if tag == "code" and self._open and self._open[-1].name == "pre":
            css_class = attributes.get("class") or ""
            if css_class.startswith("language-"):
                opened.language = css_class.removeprefix("language-")
        self._open.append(opened)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Telegram's tags always enclose text; "<br/>" or "<b/>" is not a tag it knows.
        start = self._here()
        self._read_through(start, len(self.get_starttag_text() or ""))
        raise EntityParseError(f'Unsupported start tag "{tag}/" at byte offset {self._byte_offset(start)}')

    def handle_endtag(self, tag: str) -> None:
        start = self._here()
        end = self._source.find(">", start)  # html.parser reads an end tag through its ">"
        self._read_through(start, (end + 1 if end >= 0 else len(self._source)) - start)
        byte_offset = self._byte_offset(start)
        if not self._open:
            raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset}")
        if tag != self._open[-1].name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {byte_offset}, expected "</{self._open[-1].name}>", '
                f'found "</{tag}>"'
            )
        self._close(self._open.pop())

    def handle_comment(self, data: str) -> None:
        self._refuse_markup(self._here())

    handle_decl = handle_pi = unknown_decl = handle_comment

    def _refuse_unread(self, index: int) -> None:
        """Refuse what html.parser passed over without a word: an unfinished tag or reference."""
        if self._source[index] == "&":
            self._reference_at(index)
        self._refuse_markup(index)

    def _refuse_markup(self, index: int) -> None:
        """Refuse a "<" at `index` that html.parser did not read as a tag Telegram supports."""
        name = _TAG_NAME.match(self._source, index + 1).group()
        byte_offset = self._byte_offset(index)
        if name.startswith("/"):
            raise EntityParseError(f'Can\'t parse end tag "<{name}" at byte offset {byte_offset}')
        if name.lower() in _TAGS:
            raise EntityParseError(f'Unclosed start tag "{name.lower()}" at byte offset {byte_offset}')
        raise EntityParseError(f'Unsupported start tag "{name.lower()}" at byte offset {byte_offset}')

    def _check_attributes(self, tag: _OpenTag) -> None:
        attributes, where = tag.attributes, f"at byte offset {tag.byte_offset}"
        if tag.name == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" {where}')
        if tag.name == "tg-emoji" and not _is_positive_number(attributes.get("emoji-id")):
            raise EntityParseError("Invalid custom emoji identifier specified")
        if tag.name == "tg-time":
            if not _is_positive_number(attributes.get("unix")):
                raise EntityParseError(f'Tag "tg-time" must have a Unix time in attribute "unix" {where}')
            if not _DATE_TIME_FORMAT.fullmatch(attributes.get("format") or ""):
                raise EntityParseError(f'Unsupported date-time format in tag "tg-time" {where}')

    def _close(self, tag: _OpenTag) -> None:
        length = self._units - tag.offset
        if length == 0:
            return  # an empty tag marks nothing
        attributes = tag.attributes
        if tag.name in _STYLE_TAGS:
            found: Entity | None = entity(_STYLE_TAGS[tag.name], tag.offset, length)
        elif tag.name == "a":
            found = self._link(tag, length)
        elif tag.name == "tg-emoji":
            found = entity("custom_emoji", tag.offset, length, custom_emoji_id=attributes["emoji-id"])
        elif tag.name == "tg-time":
            found = entity(
                "date_time", tag.offset, length, unix_time=int(attributes["unix"] or 0),
                date_time_format=attributes.get("format") or None,
            )
        elif tag.name == "blockquote":
            quote = "expandable_blockquote" if "expandable" in attributes else "blockquote"
            found = entity(quote, tag.offset, length)
        elif tag.name == "pre" and self._wraps_code(tag, length):
            # <pre><code class="language-x">…</code></pre> is one pre entity, in language x.
            code_order, _code = self._entities.pop()
            found = entity("pre", tag.offset, length, language=self._languages.get(code_order))
        else:  # pre, or code: a language is only for a pre, given by the code inside it
            found = entity(tag.name, tag.offset, length)
            if tag.language:
                self._languages[tag.order] = tag.language
        if found is not None:
            self._entities.append((tag.order, found))

    def _wraps_code(self, pre: _OpenTag, length: int) -> bool:
        if not self._entities:
            return False
        code = self._entities[-1][1]
        return code["type"] == "code" and code["offset"] == pre.offset and code["length"] == length

    def _link(self, tag: _OpenTag, length: int) -> Entity | None:
        """A text_mention for tg://user?id=…, else a text_link; None for a URL Telegram would not open."""
        # <a> without href links its own text
        url = tag.attributes.get("href") or "".join(self._pieces[tag.first_piece :])
        mention = _USER_LINK.fullmatch(url.strip())
        if mention:
            user = {"id": int(mention.group(1)), "is_bot": False, "first_name": ""}
            return entity("text_mention", tag.offset, length, user=user)
        checked = checked_link(url)
        return entity("text_link", tag.offset, length, url=checked) if checked else None


def _numbered_character(number: str) -> str | None:
    """The character "&#<number>;" names, or None when it names none (NUL, a surrogate, past U+10FFFF)."""
    match = _NUMBER.fullmatch(number)
    if match is None:
        return None
    code = int(match["hex"], 16) if match["hex"] else int(match["decimal"])
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def _is_positive_number(value: str | None) -> bool:
    return value is not None and value.isascii() and value.isdigit() and int(value) > 0

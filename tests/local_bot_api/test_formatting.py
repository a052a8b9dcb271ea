"""Text formatting without a server: HTML into text and entities, as the Bot API documents it.

Each rule of the "Formatting options" section (HTML style) has a test here; the tests that send
the same HTML through aiogram to the server are in test_messages.py.
"""

from __future__ import annotations

import pytest

from local_bot_api import EntityParseError, format_text, parse_html, utf16_len
from local_bot_api.errors import ApiError


def test_html_parsing_matches_telegram() -> None:
    text, entities = parse_html('<b>Hi</b> 👋 <i>there</i> &amp; Tom &lt;3 & co <a href="https://t.me/x">link</a>')
    assert text == "Hi 👋 there & Tom <3 & co link"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "italic", "offset": 6, "length": 5},  # the emoji is two UTF-16 code units
        {"type": "text_link", "offset": 26, "length": 4, "url": "https://t.me/x"},
    ]
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre><blockquote expandable>q</blockquote>'
    )
    assert text == "x = 1q"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 5, "length": 1},
    ]
    with pytest.raises(EntityParseError, match="Unexpected end tag at byte offset 0"):
        parse_html("</b>")


# --------------------------------------------------------------------------------------------------
# Supported tags
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "kind"),
    [
        ("<b>x</b>", "bold"),
        ("<strong>x</strong>", "bold"),
        ("<i>x</i>", "italic"),
        ("<em>x</em>", "italic"),
        ("<u>x</u>", "underline"),
        ("<ins>x</ins>", "underline"),
        ("<s>x</s>", "strikethrough"),
        ("<strike>x</strike>", "strikethrough"),
        ("<del>x</del>", "strikethrough"),
        ('<span class="tg-spoiler">x</span>', "spoiler"),
        ("<tg-spoiler>x</tg-spoiler>", "spoiler"),
        ("<code>x</code>", "code"),
        ("<pre>x</pre>", "pre"),
        ("<blockquote>x</blockquote>", "blockquote"),
        ("<blockquote expandable>x</blockquote>", "expandable_blockquote"),
        ("<B>x</B>", "bold"),  # tag names are case-insensitive, as in HTML
    ],
)
def test_each_supported_tag_makes_its_entity(html: str, kind: str) -> None:
    assert parse_html(f"a {html} b") == ("a x b", [{"type": kind, "offset": 2, "length": 1}])


def test_offsets_and_lengths_count_utf16_code_units() -> None:
    # 🙂 and 𝄞 lie beyond U+FFFF: two code units each; é and س are one.
    text, entities = parse_html("🙂 <b>é𝄞</b> <i>سلام 🙂</i>")
    assert text == "🙂 é𝄞 سلام 🙂"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 3},
        {"type": "italic", "offset": 7, "length": 7},
    ]
    assert utf16_len(text) == 14


def test_nested_tags_give_nested_entities_outer_first() -> None:
    assert parse_html("<b>bold <i>both <u>all</u></i></b><i><s>x</s></i>") == (
        "bold both allx",
        [
            {"type": "bold", "offset": 0, "length": 13},
            {"type": "italic", "offset": 5, "length": 8},
            {"type": "underline", "offset": 10, "length": 3},
            {"type": "italic", "offset": 13, "length": 1},  # the same span: the tag opened first comes first
            {"type": "strikethrough", "offset": 13, "length": 1},
        ],
    )


def test_links_and_user_mentions() -> None:
    text, entities = parse_html('<a href="https://t.me/nobat">site</a> <a href="tg://user?id=42">Ali</a>')
    assert text == "site Ali"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://t.me/nobat"},
        {"type": "text_mention", "offset": 5, "length": 3, "user": {"id": 42, "is_bot": False, "first_name": ""}},
    ]
    # A link without a scheme is a web link; one Telegram would not open marks nothing.
    assert parse_html('<a href="t.me/x">x</a>')[1] == [
        {"type": "text_link", "offset": 0, "length": 1, "url": "http://t.me/x"}
    ]
    assert parse_html('<a href="javascript:alert(1)">x</a>') == ("x", [])


def test_custom_emoji_and_date_time() -> None:
    assert parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>') == (
        "👍",
        [{"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}],
    )
    with pytest.raises(EntityParseError, match="Invalid custom emoji identifier specified"):
        parse_html('<tg-emoji emoji-id="thumbs">👍</tg-emoji>')
    assert parse_html('<tg-time unix="1647531900" format="wDT">22:45 tomorrow</tg-time>')[1] == [
        {"type": "date_time", "offset": 0, "length": 14, "unix_time": 1647531900, "date_time_format": "wDT"}
    ]
    with pytest.raises(EntityParseError, match="date-time format"):
        parse_html('<tg-time unix="1647531900" format="rt">now</tg-time>')  # "r" stands alone


def test_a_language_is_given_to_pre_only() -> None:
    assert parse_html('<pre><code class="language-python">x</code></pre>')[1] == [
        {"type": "pre", "offset": 0, "length": 1, "language": "python"}
    ]
    assert parse_html("<pre><code>x</code></pre>")[1] == [{"type": "pre", "offset": 0, "length": 1}]
    # "Programming language can't be specified for standalone code tags."
    assert parse_html('<code class="language-python">x</code>')[1] == [{"type": "code", "offset": 0, "length": 1}]


def test_empty_tags_mark_nothing() -> None:
    assert parse_html("<b></b>x<i></i>") == ("x", [])


# --------------------------------------------------------------------------------------------------
# HTML entities
# --------------------------------------------------------------------------------------------------


def test_the_four_named_entities_and_every_numeric_one() -> None:
    assert parse_html("&lt;b&gt; &amp; &quot;q&quot;") == ('<b> & "q"', [])
    assert parse_html("&#1587;&#x644;&#X627;&#1605;") == ("سلام", [])
    text, entities = parse_html("<b>&#128578;</b>x")  # an astral character from a reference: 2 units
    assert (text, entities) == ("🙂x", [{"type": "bold", "offset": 0, "length": 2}])


def test_an_ampersand_that_cannot_begin_an_entity_stays_as_it_is() -> None:
    # Telegram keeps these, as the server did before this parser; the first test relies on it.
    assert parse_html("Tom & co, 1&2, &") == ("Tom & co, 1&2, &", [])
    assert parse_html("1 > 0") == ("1 > 0", [])


# --------------------------------------------------------------------------------------------------
# What Telegram refuses
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),  # a bare "<"
        ("a<3", 'Unsupported start tag "3" at byte offset 1'),
        ("é<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 2'),  # byte offsets count UTF-8
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("<!-- note -->", 'Unsupported start tag "!--" at byte offset 0'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x <b", 'Unclosed start tag "b" at byte offset 2'),
        ("<b>x</b", 'Can\'t parse end tag "</b" at byte offset 4'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<span class="spoiler">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        # HTML entities: only &lt; &gt; &amp; &quot; by name, and numbers that name a character
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ("AT&T", 'Unsupported HTML entity "&T" at byte offset 2'),  # a bare "&" before a letter
        ("&amp", 'Unsupported HTML entity "&amp" at byte offset 0'),  # an entity ends with ";"
        ("&#;", 'Unsupported HTML entity "&#;" at byte offset 0'),
        ("&#xD800;", 'Unsupported HTML entity "&#xD800;" at byte offset 0'),  # half a UTF-16 pair
        ("&#0;", 'Unsupported HTML entity "&#0;" at byte offset 0'),
        ('<a href="https://x.com/?a=1&b=2">x</a>', 'Unsupported HTML entity "&b" at byte offset 27'),
    ],
)
def test_what_telegram_refuses(html: str, reason: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(html)
    assert str(caught.value) == reason


# --------------------------------------------------------------------------------------------------
# After parsing: whitespace, length, entities Telegram finds
# --------------------------------------------------------------------------------------------------


def test_the_length_limit_counts_the_text_after_parsing() -> None:
    accepted = format_text("<b>" + "x" * 4090 + "</b>🙂🙂🙂", "HTML")  # 4096 units; the tags do not count
    assert utf16_len(accepted.text) == 4096 and accepted.entities == [{"type": "bold", "offset": 0, "length": 4090}]
    with pytest.raises(ApiError, match="Bad Request: message is too long"):
        format_text("<b>" + "x" * 4091 + "</b>🙂🙂🙂", "HTML")  # 4097 units
    format_text("&amp;" * 4096, "HTML")  # each entity is one character
    with pytest.raises(ApiError, match="Bad Request: message caption is too long"):
        format_text("x" * 1025, caption=True)


def test_whitespace_around_the_text_is_dropped_and_entities_follow() -> None:
    formatted = format_text("\n  <b>Booked</b> \n<i> </i>\n", "HTML")
    assert formatted.text == "Booked"
    assert formatted.entities == [{"type": "bold", "offset": 0, "length": 6}]  # the blank italic is gone
    with pytest.raises(ApiError, match="Bad Request: text must be non-empty"):
        format_text("<b> </b>\n", "HTML")
    assert format_text(" ", caption=True).text == ""  # a caption may be empty


def test_parse_errors_become_bad_requests() -> None:
    with pytest.raises(ApiError) as caught:
        format_text("<foo>", "html")
    reason = 'Unsupported start tag "foo" at byte offset 0'
    assert caught.value.description == f"Bad Request: can't parse entities: {reason}"
    assert format_text("<b>x</b>", "None").text == "<b>x</b>"  # "none" in any case means no parsing
    with pytest.raises(ApiError, match="unsupported parse_mode"):
        format_text("*x*", "MarkdownV2")


def test_telegram_marks_commands_mentions_and_links() -> None:
    formatted = format_text("/start@nobat_bot or @nobat_support, see https://t.me/nobat.")
    assert formatted.entities == [
        {"type": "bot_command", "offset": 0, "length": 16},
        {"type": "mention", "offset": 20, "length": 14},
        {"type": "url", "offset": 40, "length": 18},  # the full stop ends the sentence, not the link
    ]
    assert format_text("wake up").entities == []
    # Inside a style it is found; inside code or a link it is not.
    assert format_text("<b>/help</b> <code>/help</code>", "HTML").entities == [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "bot_command", "offset": 0, "length": 5},
        {"type": "code", "offset": 6, "length": 5},
    ]

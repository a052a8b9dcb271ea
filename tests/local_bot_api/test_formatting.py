"""Text formatting without a server: HTML into text and entities, as Telegram's documentation says."""

from __future__ import annotations

import pytest

from local_bot_api import EntityParseError, parse_html


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

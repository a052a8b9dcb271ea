"""Which URLs Telegram takes for a link (``<a href>``, a text_link entity) or a URL button."""

from __future__ import annotations

import re

# The Bot API documents HTTP(S) and tg:// links for buttons and inline links; Telegram's apps also
# open TON links, so those pass too.
_SCHEMES = {"http", "https", "tg", "ton", "tonsite"}
_DOMAIN_LABEL = re.compile(r"[\w-]+")


def checked_link(url: str) -> str | None:
    """The URL as Telegram keeps it, or None when Telegram would not open it.

    A link without a scheme that starts with a domain name ("t.me/x") is a web link: Telegram's
    apps add "http://" to it, and so does this.
    """
    url = url.strip()
    if not url or any(char.isspace() for char in url):
        return None
    scheme, separator, rest = url.partition("://")
    if separator:
        return url if scheme.lower() in _SCHEMES and rest else None
    host = re.split(r"[/?#:]", url, maxsplit=1)[0]
    *names, top_level = host.split(".")
    if names and all(_DOMAIN_LABEL.fullmatch(name) for name in names) and len(top_level) >= 2 and top_level.isalpha():
        return "http://" + url
    return None

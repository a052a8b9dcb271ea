"""Files as the Bot API shows them: uploads the bot makes, and the file ids and photo sizes of media."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

# Real file ids start with a prefix that says what the file is; bots sometimes log or compare them.
_FILE_ID_PREFIXES = {
    "photo": "AgACAgIAAxkBAAI", "sticker": "CAACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI", "voice": "AwACAgIAAxkBAAI",
}


@dataclass
class UploadedFile:
    """A file the bot uploaded in a multipart request (e.g. ``sendPhoto`` with an ``InputFile``)."""

    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


def file_ids(kind: str) -> tuple[str, str]:
    """A fresh ``(file_id, file_unique_id)`` pair shaped like Telegram's."""
    prefix = _FILE_ID_PREFIXES.get(kind, "AAMCAgADGQEAAg")
    return prefix + secrets.token_urlsafe(45)[:60], "AQAD" + secrets.token_urlsafe(9)[:12]


def photo_sizes(width: int, height: int, largest_file_id: str | None = None) -> list[dict[str, Any]]:
    """PhotoSize entries of one photo, smallest first, as Telegram stores every photo."""
    sizes = []
    for side in (90, 320, 800, 1280):
        scale = min(1.0, side / max(width, height))
        file_id, unique_id = file_ids("photo")
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

"""Files as the Bot API shows them: uploads the bot makes, and the file ids and photo sizes of media."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

# Real file ids start with a prefix that says what the file is (its first byte is the file's type);
# bots sometimes log or compare them.
_FILE_ID_PREFIXES = {
    "photo": "AgACAgIAAxkBAAI", "voice": "AwACAgIAAxkBAAI", "video": "BAACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI", "audio": "CQACAgIAAxkBAAI", "animation": "CgACAgIAAxkBAAI",
    "video_note": "DQACAgIAAxkBAAI",
}
# The fields of an animation that its message's `document` repeats (Telegram sets both, for bots
# older than animations).
_DOCUMENT_FIELDS = ("file_id", "file_unique_id", "thumbnail", "file_name", "mime_type", "file_size")


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


def thumbnail(width: int, height: int) -> dict[str, Any]:
    """The PhotoSize Telegram makes of a video's first frame, at most 320 pixels a side."""
    scale = min(1.0, 320 / max(width, height, 1))
    file_id, unique_id = file_ids("photo")
    return {"file_id": file_id, "file_unique_id": unique_id, "width": max(1, round(width * scale)),
            "height": max(1, round(height * scale)), "file_size": 9_000}


def _file(kind: str, file_id: str | None, **fields: Any) -> dict[str, Any]:
    new_id, unique_id = file_ids(kind)
    found = {"file_id": file_id or new_id, "file_unique_id": unique_id}
    found.update((name, value) for name, value in fields.items() if value is not None)
    return found


def video(duration: int, width: int, height: int, *, file_name: str | None = None, mime_type: str = "video/mp4",
          size: int | None = None, file_id: str | None = None) -> dict[str, Any]:
    """A Video (MPEG-4, as Telegram's apps send one), with its thumbnail."""
    return _file("video", file_id, width=width, height=height, duration=duration, thumbnail=thumbnail(width, height),
                 file_name=file_name, mime_type=mime_type, file_size=size or 250_000 * max(1, duration))


def video_note(duration: int, length: int = 384, *, size: int | None = None,
               file_id: str | None = None) -> dict[str, Any]:
    """A VideoNote: a round video up to a minute long, `length` its diameter; no name, type or caption."""
    return _file("video_note", file_id, length=length, duration=duration, thumbnail=thumbnail(length, length),
                 file_size=size or 60_000 * max(1, duration))


def animation(duration: int, width: int, height: int, *, file_name: str | None = "animation.gif.mp4",
              mime_type: str = "video/mp4", size: int | None = None, file_id: str | None = None) -> dict[str, Any]:
    """An Animation: a GIF, which Telegram turns into a silent MPEG-4 video."""
    return _file("animation", file_id, width=width, height=height, duration=duration,
                 thumbnail=thumbnail(width, height), file_name=file_name, mime_type=mime_type,
                 file_size=size or 120_000 * max(1, duration))


def animation_message(found: dict[str, Any]) -> dict[str, Any]:
    """What a message with that animation carries: the animation, and the same file as a document."""
    return {"animation": found, "document": {name: found[name] for name in _DOCUMENT_FIELDS if name in found}}


def audio(duration: int, *, performer: str | None = None, title: str | None = None, file_name: str | None = None,
          mime_type: str = "audio/mpeg", size: int | None = None, file_id: str | None = None) -> dict[str, Any]:
    """An Audio: a music file (MP3 or M4A) the apps play in their player."""
    return _file("audio", file_id, duration=duration, performer=performer, title=title, file_name=file_name,
                 mime_type=mime_type, file_size=size or 16_000 * max(1, duration))

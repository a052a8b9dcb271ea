"""What simulated people send as files: stickers, photos, documents, voice messages, videos, round
video notes, animations (GIFs) and audio files, each with the fields Telegram's apps give it.

`MediaSending` is a mixin of `SimUser` (`local_bot_api.people`), whose `_post` and `_post_media`
deliver them; each method returns, with ``wait=True``, the bot's first message or edit in the chat
afterwards, like `SimUser.send`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_bot_api.media import animation, animation_message, audio, file_ids, photo_sizes, video, video_note

if TYPE_CHECKING:
    from local_bot_api.chat import ChatMessage
    from local_bot_api.groups import SimGroup, SimTopic


class MediaSending:
    """A person's files: in their private chat with the bot, or with ``group=`` (and ``thread=``, a
    topic) posted there, like `SimUser.send_to_group`."""

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
        file_id, unique_id = file_ids("sticker")
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
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a photo (several PhotoSize entries, smallest first, like Telegram) to the bot, or
        with ``group=`` (and ``thread=``, a topic) post it there, like `send_to_group`."""
        extra = {"photo": photo_sizes(width, height)}
        return await self._post_media("photo", caption, extra, group=group, thread=thread, reply_to=reply_to,
                                      wait=wait, timeout=timeout)

    async def send_document(
        self,
        file_name: str = "invoice.pdf",
        caption: str | None = None,
        *,
        mime_type: str = "application/pdf",
        size: int = 48_213,
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a file (a scan of a paper, say) to the bot, or post it in a group like `send_photo`."""
        file_id, unique_id = file_ids("document")
        extra = {
            "document": {
                "file_name": file_name, "mime_type": mime_type, "file_id": file_id, "file_unique_id": unique_id,
                "file_size": size,
            }
        }
        return await self._post_media("document", caption, extra, group=group, thread=thread, reply_to=reply_to,
                                      wait=wait, timeout=timeout)

    async def send_voice(
        self,
        duration: int = 4,
        caption: str | None = None,
        *,
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a voice message (OGG/Opus, as Telegram's apps record them), or post it in a group."""
        file_id, unique_id = file_ids("voice")
        extra = {
            "voice": {
                "duration": duration, "mime_type": "audio/ogg", "file_id": file_id, "file_unique_id": unique_id,
                "file_size": 1_600 * max(1, duration),
            }
        }
        return await self._post_media("voice", caption, extra, group=group, thread=thread, reply_to=reply_to,
                                      wait=wait, timeout=timeout)

    async def send_video(
        self,
        duration: int = 12,
        caption: str | None = None,
        *,
        width: int = 1280,
        height: int = 720,
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a video (MPEG-4, with the thumbnail Telegram makes), or post it in a group."""
        extra = {"video": video(duration, width, height, file_name=f"VID_{duration:04d}.mp4")}
        return await self._post_media("video", caption, extra, group=group, thread=thread, reply_to=reply_to,
                                      wait=wait, timeout=timeout)

    async def send_video_note(
        self,
        duration: int = 8,
        *,
        length: int = 384,
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a video note (the round video the apps record, up to a minute; it has no caption),
        or post it in a group."""
        extra = {"video_note": video_note(min(duration, 60), length)}
        return await self._post_media("video_note", None, extra, group=group, thread=thread, reply_to=reply_to,
                                      wait=wait, timeout=timeout)

    async def send_animation(
        self,
        caption: str | None = None,
        *,
        duration: int = 3,
        width: int = 480,
        height: int = 270,
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a GIF (Telegram makes it a silent MPEG-4; the message carries it as `animation` and,
        for older bots, as `document` too), or post it in a group."""
        extra = animation_message(animation(duration, width, height))
        return await self._post_media("animation", caption, extra, group=group, thread=thread, reply_to=reply_to,
                                      wait=wait, timeout=timeout)

    async def send_audio(
        self,
        duration: int = 185,
        caption: str | None = None,
        *,
        performer: str | None = "Dimash",
        title: str | None = "Daididau",
        file_name: str = "daididau.mp3",
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a music file (MP3, with its tags), or post it in a group."""
        extra = {"audio": audio(duration, performer=performer, title=title, file_name=file_name)}
        return await self._post_media("audio", caption, extra, group=group, thread=thread, reply_to=reply_to,
                                      wait=wait, timeout=timeout)

"""Videos, round video notes, GIFs and music files: sent by people and by the bot with the fields
Telegram gives them, copied and forwarded whole, and a video note, like a sticker, without a caption
to send, edit or put on a copy."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.enums import ContentType
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, Update

from local_bot_api import BotAPIServer

pytestmark = pytest.mark.asyncio

AGENTS = -1001234567890


def last_update(server: BotAPIServer, kind: str = "message") -> Any:
    """The newest update of that kind, as aiogram reads it."""
    raw = next(u for u in reversed(server.pending_updates) if kind in u)
    return getattr(Update.model_validate(raw), kind)


async def test_people_send_videos_video_notes_gifs_and_music_as_telegram_delivers_them(server: BotAPIServer) -> None:
    driver = server.user(101, "Serik")

    await driver.send_video(14, "the queue at Khorgos, ask @khorgos_post", wait=False)
    clip = last_update(server)
    assert clip.content_type == ContentType.VIDEO and clip.caption == "the queue at Khorgos, ask @khorgos_post"
    assert [e.type for e in clip.caption_entities] == ["mention"]
    assert (clip.video.duration, clip.video.width, clip.video.height) == (14, 1280, 720)
    assert clip.video.mime_type == "video/mp4" and clip.video.thumbnail.width == 320
    assert clip.video.file_id.startswith("BAAC")  # a video's file id, as Telegram's say

    await driver.send_video_note(75, wait=False)  # the apps stop recording at a minute
    note = last_update(server)
    assert note.content_type == ContentType.VIDEO_NOTE and note.caption is None
    assert (note.video_note.duration, note.video_note.length) == (60, 384)
    assert note.video_note.file_id.startswith("DQAC")

    await driver.send_animation("stuck again", wait=False)
    gif = last_update(server)
    # A GIF comes as an animation and, for bots older than animations, as a document of the same file.
    assert gif.content_type == ContentType.ANIMATION and gif.caption == "stuck again"
    assert gif.animation.file_id.startswith("CgAC") and gif.document.file_id == gif.animation.file_id
    assert gif.document.file_unique_id == gif.animation.file_unique_id and gif.document.mime_type == "video/mp4"

    await driver.send_audio(200, performer="Dimash", title="Daididau", wait=False)
    song = last_update(server)
    assert song.content_type == ContentType.AUDIO and song.caption is None
    assert (song.audio.duration, song.audio.performer, song.audio.title) == (200, "Dimash", "Daididau")
    assert song.audio.mime_type == "audio/mpeg" and song.audio.file_id.startswith("CQAC")

    assert [m.kind for m in driver.messages] == ["video", "video_note", "animation", "audio"]
    assert [m.describe().split(": ", 1)[1] for m in driver.messages] == [
        "[video] the queue at Khorgos, ask @khorgos_post", "[video_note]", "[animation] stuck again", "[audio]"]


async def test_each_kind_is_posted_in_a_topic_and_copied_and_forwarded_whole(server: BotAPIServer, bot: Bot) -> None:
    server.limits.enabled = False  # a dozen sends to one group within milliseconds; limits are tested elsewhere
    group = server.group(AGENTS, title="Agents", forum=True)
    topic = group.topic((await bot.create_forum_topic(group.chat_id, "Driver 101")).message_thread_id)
    driver, agent = server.user(101, "Serik"), server.user(201, "Aigul")
    await driver.send_video(9, "my place", wait=False)
    await driver.send_video_note(wait=False)
    await driver.send_animation(wait=False)
    await driver.send_audio(wait=False)

    for original in driver.messages:
        copied = await bot.copy_message(group.chat_id, driver.chat_id, original.message_id,
                                        message_thread_id=topic.thread_id)
        copy = group.find(copied.message_id)
        assert (copy.kind, copy.text, copy.thread_id) == (original.kind, original.text, topic.thread_id)
        assert copy.raw[original.kind] == original.raw[original.kind]
    assert topic.bot_messages()[2].raw["document"] == driver.messages[2].raw["document"], "a GIF's document too"

    forwarded = await bot.forward_message(group.chat_id, driver.chat_id, driver.messages[1].message_id,
                                          message_thread_id=topic.thread_id)
    assert forwarded.video_note.file_id == driver.messages[1].raw["video_note"]["file_id"]
    assert forwarded.forward_origin.sender_user.id == driver.user_id

    # The agent answers in the topic with a video and a round video; the bot copies both to the
    # driver with a caption of its own, which Telegram puts on the video and drops from the round one.
    await agent.send_video(5, group=group, thread=topic, wait=False)
    await agent.send_video_note(3, group=group, thread=topic, wait=False)
    assert last_update(server).message_thread_id == topic.thread_id
    video, note = group.messages[-2:]
    answer = await bot.copy_message(driver.chat_id, group.chat_id, video.message_id, caption="<i>Support</i>")
    round_answer = await bot.copy_message(driver.chat_id, group.chat_id, note.message_id, caption="<i>Support</i>")
    shown = driver.find(answer.message_id)
    assert shown.kind == "video" and shown.text == "Support" and shown.raw["caption_entities"][0]["type"] == "italic"
    shown_round = driver.find(round_answer.message_id)
    assert shown_round.kind == "video_note" and shown_round.text == "" and "caption" not in shown_round.raw
    assert shown_round.raw["video_note"]["file_unique_id"] == note.raw["video_note"]["file_unique_id"]


async def test_the_bot_sends_videos_video_notes_gifs_and_music(server: BotAPIServer, bot: Bot) -> None:
    server.limits.enabled = False  # six sends to one chat within milliseconds
    driver = server.user(101)
    clip = await bot.send_video(driver.chat_id, BufferedInputFile(b"\x00\x00\x00\x18ftypmp42", filename="gate.mp4"),
                                duration=20, width=640, height=360, caption="How to reach <b>gate 3</b>")
    assert (clip.video.duration, clip.video.width, clip.video.height) == (20, 640, 360)
    assert clip.video.file_name == "gate.mp4" and clip.caption == "How to reach gate 3"
    again = await bot.send_video(driver.chat_id, clip.video.file_id)  # a file_id sent again
    assert again.video.file_id == clip.video.file_id and again.caption is None

    note = await bot.send_video_note(driver.chat_id, BufferedInputFile(b"\x00\x00\x00\x18ftyp", filename="n.mp4"),
                                     duration=7, length=240)
    assert (note.video_note.duration, note.video_note.length) == (7, 240) and note.caption is None
    gif = await bot.send_animation(driver.chat_id, "CgACAgIAAxkBAAIfake", caption="done")
    assert gif.animation.file_id == gif.document.file_id == "CgACAgIAAxkBAAIfake" and gif.caption == "done"
    song = await bot.send_audio(driver.chat_id, BufferedInputFile(b"ID3", filename="anthem.mp3"),
                                performer="Choir", title="Anthem", duration=150)
    assert (song.audio.performer, song.audio.title, song.audio.file_name) == ("Choir", "Anthem", "anthem.mp3")
    assert [m.kind for m in driver.bot_messages()] == ["video", "video", "video_note", "animation", "audio"]

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_video(driver.chat_id, "")
    assert caught.value.message == "Bad Request: there is no video in the request"
    assert len(driver.bot_messages()) == 5


async def test_a_video_note_has_no_caption_to_edit_and_a_video_has(server: BotAPIServer, bot: Bot) -> None:
    driver = server.user(101)
    note = await bot.send_video_note(driver.chat_id, "DQACAgIAAxkBAAIfake")
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_caption(chat_id=driver.chat_id, message_id=note.message_id, caption="late")
    assert caught.value.message == "Bad Request: there is no caption in the message to edit"
    clip = await bot.send_video(driver.chat_id, "BAACAgIAAxkBAAIfake", caption="v1")
    edited = await bot.edit_message_caption(chat_id=driver.chat_id, message_id=clip.message_id, caption="v2")
    assert edited.caption == "v2" and driver.find(clip.message_id).text == "v2"

    # People alike: a round video cannot be given words afterwards, a video's caption can be changed.
    await driver.send_video_note(wait=False)
    with pytest.raises(ValueError):
        await driver.edit(driver.messages[-1], "words", wait=False)
    await driver.send_animation("slow", wait=False)
    await driver.edit(driver.messages[-1], "very slow", wait=False)
    changed = last_update(server, "edited_message")
    assert changed.caption == "very slow" and changed.animation is not None and changed.edit_date

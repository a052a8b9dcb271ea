"""Forum supergroups: topics the bot creates, closes and renames, messages sent, posted and copied
into them, and who is a member of the group — refused exactly where Telegram refuses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import BufferedInputFile, ReplyParameters, Update

from local_bot_api import BotAPIServer, SimGroup, SimTopic

if TYPE_CHECKING:
    from tests.local_bot_api.conftest import FrozenClock

pytestmark = pytest.mark.asyncio

AGENTS = -1001234567890


async def forum_with_topic(server: BotAPIServer, bot: Bot, name: str = "Driver 101") -> tuple[SimGroup, SimTopic]:
    group = server.group(AGENTS, title="Agents", forum=True)
    created = await bot.create_forum_topic(group.chat_id, name)
    return group, group.topic(created.message_thread_id)


def last_update(server: BotAPIServer, kind: str = "message") -> Any:
    """The newest update of that kind, as aiogram reads it."""
    raw = next(u for u in reversed(server.pending_updates) if kind in u)
    return getattr(Update.model_validate(raw), kind)


async def test_a_forum_says_so_and_the_bot_creates_topics_there(server: BotAPIServer, bot: Bot) -> None:
    group = server.group(AGENTS, title="Agents", forum=True)
    assert (await bot.get_chat(group.chat_id)).is_forum

    created = await bot.create_forum_topic(group.chat_id, "Driver 101", icon_color=16766590)
    assert (created.name, created.icon_color) == ("Driver 101", 16766590)
    # The topic is the thread of the service message that created it.
    topic = group.find_topic("Driver 101")
    assert topic is not None and topic.thread_id == created.message_thread_id
    service = topic.messages[0]
    assert service.message_id == created.message_thread_id and service.is_service
    assert service.raw["forum_topic_created"] == {"name": "Driver 101", "icon_color": 16766590}
    assert service.raw["message_thread_id"] == created.message_thread_id and service.raw["is_topic_message"]
    assert topic.bot_messages() == [] and group.bot_messages() == []  # service messages are not the bot's words

    # Without a colour Telegram picks one of the six; a longer name is cut to 128 characters.
    second = await bot.create_forum_topic(group.chat_id, "  Driver\n102  " + "x" * 200)
    assert second.icon_color in (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
    assert second.name == ("Driver 102  " + "x" * 200)[:128]
    assert [t.thread_id for t in group.topics] == [created.message_thread_id, second.message_thread_id]


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        ({"name": "  \n "}, "Bad Request: title must be non-empty"),
        ({"name": "Driver", "icon_color": 0x123456}, "Bad Request: invalid icon color specified"),
    ],
)
async def test_topic_names_and_colours_are_checked(
    server: BotAPIServer, bot: Bot, kwargs: dict[str, Any], description: str
) -> None:
    group = server.group(AGENTS, forum=True)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.create_forum_topic(group.chat_id, **kwargs)
    assert caught.value.message == description and group.topics == []


async def test_topics_only_in_forums(server: BotAPIServer, bot: Bot) -> None:
    plain, driver = server.group(-1001111111111, title="Drivers"), server.user(101)
    for chat_id in (plain.chat_id, driver.chat_id):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.create_forum_topic(chat_id, "Driver 101")
        assert caught.value.message == "Bad Request: the chat is not a forum"
    assert not (await bot.get_chat(plain.chat_id)).is_forum
    # Turning topics on in a group that exists already, as an administrator can.
    assert server.group(plain.chat_id, forum=True) is plain and (await bot.get_chat(plain.chat_id)).is_forum


async def test_sends_go_to_the_topic_asked_for_or_to_general(server: BotAPIServer, bot: Bot) -> None:
    server.limits.enabled = False  # many sends to one group at once; the group limit is tested below
    group, topic = await forum_with_topic(server, bot)
    thread = topic.thread_id

    sent = await bot.send_message(group.chat_id, "Driver 101 asks about <b>Khorgos</b>", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    # Every message of a topic that replies to nothing else replies to the topic's creation.
    assert sent.reply_to_message.message_id == thread and sent.reply_to_message.forum_topic_created.name == "Driver 101"
    photo = await bot.send_photo(group.chat_id, "AgACAgIAAxkBAAIfake", caption="map", message_thread_id=thread)
    document = await bot.send_document(
        group.chat_id, BufferedInputFile(b"%PDF-1.4", filename="permit.pdf"), message_thread_id=thread
    )
    voice = await bot.send_voice(
        group.chat_id, BufferedInputFile(b"OggS", filename="note.ogg"), duration=3, message_thread_id=thread
    )
    assert {m.message_thread_id for m in (photo, document, voice)} == {thread}
    assert document.document.file_name == "permit.pdf" and voice.voice.duration == 3
    assert [m.kind for m in topic.bot_messages()] == ["text", "photo", "document", "voice"]

    general = await bot.send_message(group.chat_id, "to everyone")
    assert general.message_thread_id is None and not general.is_topic_message and general.reply_to_message is None
    assert group.last_message().thread_id is None

    # A reply goes into the topic of the message it answers.
    reply = await bot.send_message(group.chat_id, "noted", reply_parameters=ReplyParameters(message_id=photo.message_id))
    assert reply.message_thread_id == thread and reply.reply_to_message.message_id == photo.message_id
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(
            group.chat_id, "crossed", message_thread_id=thread,
            reply_parameters=ReplyParameters(message_id=general.message_id),
        )


async def test_an_unknown_thread_is_refused(server: BotAPIServer, bot: Bot) -> None:
    group, topic = await forum_with_topic(server, bot)
    plain = server.group(-1001111111111, title="Drivers")
    for chat_id, thread in ((group.chat_id, 999), (plain.chat_id, topic.thread_id)):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(chat_id, "lost", message_thread_id=thread)
        assert caught.value.message == "Bad Request: message thread not found"
    assert group.bot_messages() == [] and plain.messages == []


async def test_a_closed_topic_takes_the_bots_messages_but_not_peoples(server: BotAPIServer, bot: Bot) -> None:
    group, topic = await forum_with_topic(server, bot)
    driver_agent, lead = server.user(201, "Aigul"), server.user(202, "Serik")
    group.set_member_status(lead, "administrator")

    assert await bot.close_forum_topic(group.chat_id, topic.thread_id)
    assert topic.closed and "forum_topic_closed" in topic.messages[-1].raw
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(group.chat_id, topic.thread_id)
    await bot.send_message(group.chat_id, "closed: resolved", message_thread_id=topic.thread_id)  # the bot is an admin
    with pytest.raises(PermissionError, match="closed"):
        await driver_agent.send_to_group(group, "one more thing", thread=topic, wait=False)
    await lead.send_to_group(group, "reopening tomorrow", thread=topic, wait=False)  # admins may

    assert await bot.reopen_forum_topic(group.chat_id, topic.thread_id)
    assert not topic.closed and "forum_topic_reopened" in topic.messages[-1].raw
    await driver_agent.send_to_group(group, "one more thing", thread=topic, wait=False)
    assert [m.text for m in topic.messages if not m.is_service] == [
        "closed: resolved", "reopening tomorrow", "one more thing",
    ]
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.reopen_forum_topic(group.chat_id, topic.thread_id)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.close_forum_topic(group.chat_id, 999)
    assert caught.value.message == "Bad Request: TOPIC_ID_INVALID"


async def test_renaming_and_deleting_a_topic(server: BotAPIServer, bot: Bot) -> None:
    group, topic = await forum_with_topic(server, bot)
    assert await bot.edit_forum_topic(group.chat_id, topic.thread_id, name="Driver 101: resolved")
    assert topic.name == "Driver 101: resolved"
    assert topic.messages[-1].raw["forum_topic_edited"] == {"name": "Driver 101: resolved"}
    assert await bot.edit_forum_topic(group.chat_id, topic.thread_id)  # nothing asked, nothing done
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(group.chat_id, topic.thread_id, name="Driver 101: resolved")

    await bot.send_message(group.chat_id, "bye", message_thread_id=topic.thread_id)
    assert await bot.delete_forum_topic(group.chat_id, topic.thread_id)
    assert group.topics == [] and all(m.deleted for m in topic.messages)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(group.chat_id, "anyone?", message_thread_id=topic.thread_id)


async def test_people_post_text_media_and_replies_into_topics(server: BotAPIServer, bot: Bot) -> None:
    group, topic = await forum_with_topic(server, bot)
    agent = server.user(201, "Aigul")

    await agent.send_to_group(group, "I take it", thread=topic, wait=False)
    posted = last_update(server)
    assert posted.message_thread_id == topic.thread_id and posted.is_topic_message
    assert posted.reply_to_message.forum_topic_created is not None  # the topic's creation, not a real reply
    await agent.send_photo("the permit", group=group, thread=topic.thread_id, wait=False)
    assert last_update(server).photo[-1].width == 1280 and last_update(server).message_thread_id == topic.thread_id
    await agent.send_document("permit.pdf", "scan", group=group, thread=topic, wait=False)
    assert last_update(server).document.file_name == "permit.pdf"
    await agent.send_voice(5, group=group, thread=topic, wait=False)
    assert last_update(server).voice.duration == 5 and last_update(server).is_topic_message

    # A reply goes into the topic of the message it answers, with that message as reply_to_message.
    question = await bot.send_message(group.chat_id, "Which checkpoint?", message_thread_id=topic.thread_id)
    await agent.send_to_group(group, "Khorgos", reply_to=question.message_id, wait=False)
    reply = last_update(server)
    assert reply.message_thread_id == topic.thread_id and reply.reply_to_message.message_id == question.message_id
    assert reply.reply_to_message.text == "Which checkpoint?"

    await agent.send_to_group(group, "hello all", wait=False)  # General
    general = last_update(server)
    assert general.message_thread_id is None and general.reply_to_message is None

    with pytest.raises(LookupError):
        await agent.send_to_group(group, "lost", thread=999, wait=False)
    with pytest.raises(TypeError):
        await agent.send_photo(thread=topic, wait=False)  # a topic without its group


async def test_people_edit_what_they_posted(server: BotAPIServer, bot: Bot) -> None:
    group, topic = await forum_with_topic(server, bot)
    agent, other = server.user(201, "Aigul"), server.user(202, "Serik")
    await agent.send_to_group(group, "Khorgos, 14:00", thread=topic, wait=False)
    message = topic.last_message(from_bot=False)

    await agent.edit(message, "Khorgos, 15:00", wait=False)
    edited = last_update(server, "edited_message")
    assert edited.text == "Khorgos, 15:00" and edited.edit_date and edited.message_thread_id == topic.thread_id
    assert message.text == "Khorgos, 15:00" and message.edited
    with pytest.raises(PermissionError):
        await other.edit(message, "mine now", wait=False)
    with pytest.raises(ValueError):
        await agent.edit(message, "Khorgos, 15:00", wait=False)  # an app sends no edit that changes nothing


async def test_the_bot_answers_in_the_topic_it_was_written_in(
    server: BotAPIServer, bot: Bot, running: list[Any]
) -> None:
    group, topic = await forum_with_topic(server, bot)
    echo = await server.user(201).send_to_group(group, "ping", thread=topic)
    assert echo is not None and echo.text == "echo: ping" and echo.thread_id == topic.thread_id
    assert topic.last_message() is echo


async def test_copying_each_kind_between_a_private_chat_and_a_topic(server: BotAPIServer, bot: Bot) -> None:
    server.limits.enabled = False  # the limits on copies are tested below
    group, topic = await forum_with_topic(server, bot)
    driver, agent = server.user(101, "Driver"), server.user(201, "Aigul")
    await driver.send("Where is my <b>slot</b>?", wait=False)
    await driver.send_photo("my truck", wait=False)
    await driver.send_document("cmr.pdf", "CMR", wait=False)
    await driver.send_voice(7, "listen", wait=False)

    for original in driver.messages:
        copied = await bot.copy_message(
            group.chat_id, driver.chat_id, original.message_id, message_thread_id=topic.thread_id
        )
        copy = group.find(copied.message_id)
        assert copy.thread_id == topic.thread_id and copy.raw["is_topic_message"] and copy.from_bot
        assert (copy.kind, copy.text) == (original.kind, original.text)
        assert "forward_origin" not in copy.raw  # a copy has no "forwarded from" header
    assert [m.kind for m in topic.bot_messages()] == ["text", "photo", "document", "voice"]
    assert topic.bot_messages()[1].raw["photo"] == driver.messages[1].raw["photo"]

    # An agent's voice answer in the topic, copied to the driver with a caption of the bot's own.
    await agent.send_voice(4, group=group, thread=topic, wait=False)
    answer = topic.last_message(from_bot=False)
    copied = await bot.copy_message(driver.chat_id, group.chat_id, answer.message_id, caption="<i>Support</i>")
    copy = driver.find(copied.message_id)
    assert copy.kind == "voice" and copy.text == "Support" and copy.thread_id is None
    assert copy.raw["voice"]["file_unique_id"] == answer.raw["voice"]["file_unique_id"]
    assert "message_thread_id" not in copy.raw and "reply_to_message" not in copy.raw


async def test_what_cannot_be_copied(server: BotAPIServer, bot: Bot) -> None:
    group, topic = await forum_with_topic(server, bot)
    driver = server.user(101)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.copy_message(driver.chat_id, group.chat_id, 999)
    assert caught.value.message == "Bad Request: message to copy not found"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.copy_message(driver.chat_id, group.chat_id, topic.thread_id)  # "topic created"
    assert caught.value.message == "Bad Request: message can't be copied"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.forward_message(driver.chat_id, group.chat_id, topic.thread_id)
    assert caught.value.message == "Bad Request: message can't be forwarded"
    await driver.send("hello", wait=False)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.copy_message(group.chat_id, driver.chat_id, driver.messages[0].message_id, message_thread_id=999)
    assert driver.bot_messages() == [] and topic.bot_messages() == []


async def test_copies_count_against_the_group_limit(
    server: BotAPIServer, bot: Bot, frozen_clock: FrozenClock
) -> None:
    group, topic = await forum_with_topic(server, bot)
    driver = server.user(101)
    await driver.send("urgent", wait=False)
    source = driver.messages[0].message_id
    for _ in range(5):  # a group's burst
        await bot.copy_message(group.chat_id, driver.chat_id, source, message_thread_id=topic.thread_id)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.copy_message(group.chat_id, driver.chat_id, source, message_thread_id=topic.thread_id)
    assert caught.value.retry_after == 3  # 20 a minute
    assert len(topic.bot_messages()) == 5


async def test_chat_member_status_follows_joining_and_leaving(server: BotAPIServer, bot: Bot) -> None:
    group = server.group(AGENTS, forum=True)
    agent, stranger, owner, banned = server.user(201), server.user(202), server.user(203), server.user(204)
    group.set_member_status(owner, "creator")
    group.set_member_status(banned, "kicked")

    async def status(user_id: int) -> str:
        return (await bot.get_chat_member(group.chat_id, user_id)).status

    assert await status(stranger.user_id) == "left"  # never in the group
    await agent.join_group(group, wait=False)
    assert await status(agent.user_id) == "member"
    joined = last_update(server)
    assert [u.id for u in joined.new_chat_members] == [agent.user_id]
    change = last_update(server, "chat_member")
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "member")

    await agent.leave_group(group, wait=False)
    assert await status(agent.user_id) == "left" and last_update(server).left_chat_member.id == agent.user_id
    with pytest.raises(PermissionError):
        await agent.send_to_group(group, "still here?", wait=False)
    await agent.join_group(group, wait=False)
    assert await status(agent.user_id) == "member"

    assert await status(owner.user_id) == "creator"
    banned_member = await bot.get_chat_member(group.chat_id, banned.user_id)
    assert banned_member.status == "kicked" and banned_member.until_date is not None
    with pytest.raises(PermissionError):
        await banned.join_group(group, wait=False)
    me = await bot.get_chat_member(group.chat_id, server.bot_id)
    assert me.status == "administrator" and me.can_manage_topics

    # Someone who just writes in the group is a member from then on.
    await stranger.send_to_group(group, "hi", wait=False)
    assert await status(stranger.user_id) == "member"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.get_chat_member(group.chat_id, 777)
    assert caught.value.message == "Bad Request: user not found"


async def test_chat_member_updates_reach_only_a_bot_that_asks(server: BotAPIServer, bot: Bot) -> None:
    group = server.group(AGENTS)
    await server.user(201).join_group(group, wait=False)
    assert [kind for u in await bot.get_updates() for kind in ("message", "chat_member") if getattr(u, kind)] == [
        "message"
    ]
    await server.user(202).join_group(group, wait=False)
    updates = await bot.get_updates(allowed_updates=["message", "chat_member"])
    assert updates[-1].chat_member.new_chat_member.user.id == 202

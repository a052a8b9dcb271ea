"""Support through the chat: a driver writes /support and then text or photos; each ticket gets its
own topic in the agents' forum, with the driver's context; the agents' replies there come back to
that driver only; someone who is not a member of the agents' group is not heard; booking still works."""

from __future__ import annotations

import pytest

from tests.story import open_offer, register, t
from tests.support import AGENTS, ANSWERING, DELIVERED, agents_forum

WRITE = ("Write your question to support: text, a photo, a document or a voice message. "
         "An agent will answer in this chat.")


@pytest.fixture
def settings_overrides() -> dict:
    return {"support": {"group_id": AGENTS}}


async def test_each_driver_gets_a_topic_and_only_their_own_answers(tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Agent")
    ivan, ali = drivers("ru", first_name="Иван"), drivers("fa", first_name="Ali <3")
    await register(ivan, "123ABC02")
    await register(ali, "777XYZ05")
    for driver in (ivan, ali):
        await driver.send("/cancel")
        answer = await driver.send("/support")
        assert answer.text == t(driver.language_code, WRITE)

    told = await ivan.send("Где мой <груз>?")
    assert told.text == t("ru", DELIVERED)
    told = await ali.send_photo("permit")
    assert told.text == t("fa", DELIVERED)

    ivans = await group.wait_for_topic("🇷🇺 Иван · 123 ABC 02 · #1")
    alis = await group.wait_for_topic("🇮🇷 Ali <3 · 777 XYZ 05 · #2")
    card = ivans.bot_messages()[0]
    assert card.text.startswith(t("ru", "<b>Ticket #{number}</b>").format(number=1)[3:-4])
    assert "Русский" in card.text and "123 ABC 02" in card.text and "Иван" in card.text
    assert "Ali &lt;3" in alis.bot_messages()[0].html  # the driver's own words, escaped
    assert ivans.bot_messages()[1].text == "Где мой <груз>?"
    assert "فارسی" in alis.bot_messages()[0].text and alis.bot_messages()[1].kind == "photo"
    await ali.send("و یک سؤال دیگر")
    await alis.wait_for(lambda m: m.text == "و یک سؤال دیگر")

    await agent.send_to_group(group, "Груз на складе", thread=ivans, wait=False)
    await ivan.wait_for(lambda m: m.text == "Груз на складе")
    assert [m.text for m in ivan.bot_messages()[-2:]] == [t("ru", ANSWERING), "Груз на складе"]
    await agent.send_photo("map", group=group, thread=alis, wait=False)
    photo = await ali.wait_for(lambda m: m.kind == "photo")
    assert photo.text == "map" and ali.bot_messages()[-2].text == t("fa", ANSWERING)
    await agent.send_to_group(group, "second answer", thread=alis, wait=False)
    await ali.wait_for(lambda m: m.text == "second answer")
    assert await tg.wait_idle(timeout=10)
    assert not [m for m in ivan.bot_messages() if m.text in ("map", "second answer")]
    assert not [m for m in ali.bot_messages() if m.text == "Груз на складе"]
    assert [m.text for m in ivan.bot_messages()].count(t("ru", ANSWERING)) == 1


async def test_someone_not_in_the_agents_group_is_not_heard(tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Олег")
    await driver.send("/start")
    await driver.send("/support")
    await driver.send("Помогите")
    topic = await group.wait_for_topic("🇷🇺 Олег · #1")
    before = len(driver.bot_messages())

    gone = tg.user(990_200, first_name="Former agent")
    await gone.join_group(group, wait=False)
    await gone.send_to_group(group, "I am not an agent any more", thread=topic, wait=False)
    group.set_member_status(gone, "left")  # left before the bot asked Telegram who they are
    assert await tg.wait_idle(timeout=10)
    assert len(driver.bot_messages()) == before

    await agent.send_to_group(group, "Я здесь", thread=topic, wait=False)
    await driver.wait_for(lambda m: m.text == "Я здесь")
    assert "I am not an agent any more" not in [m.text for m in driver.bot_messages()]


async def test_a_driver_with_an_open_ticket_still_books(tg, drivers, nobat):
    await agents_forum(tg, "Agent")
    driver = drivers("ru")
    await driver.send("/start")
    await driver.send("/support")
    offer = await open_offer(driver)
    assert t("ru", "Next ▶") in offer.button_texts
    await driver.tap(t("ru", "Next ▶"))
    assert t("ru", "✅ Confirm") in driver.last_message().button_texts
    await driver.tap(t("ru", "✅ Confirm"))
    assert (await nobat.services.booking.upcoming(driver.user_id))[0].ref
    assert t("ru", DELIVERED) not in [m.text for m in driver.bot_messages()]
    assert (await nobat.services.support.counts(1)) == {}  # nothing of the booking went to support


@pytest.mark.parametrize("settings_overrides", [{}])
async def test_without_a_group_support_is_not_available(drivers, nobat):
    driver = drivers("kk")
    await driver.send("/start")
    answer = await driver.send("/support")
    assert answer.text == t("kk", "Support is not available right now. /help — what I can do")


async def test_documents_and_voice_reach_the_topic_and_a_reply_to_a_driver_who_blocked_the_bot_is_flagged(
        tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Agent")
    driver = drivers("kk", first_name="Асқар")
    await driver.send("/start")
    await driver.send("/support")
    # "Delivered" once the copy is in the topic: the first opens the topic and posts its card first.
    assert (await driver.send_document("permit.pdf", timeout=15)).text == t("kk", DELIVERED)
    assert (await driver.send_voice(3, timeout=15)).text == t("kk", DELIVERED)
    topic = await group.wait_for_topic("🇰🇿 Асқар · #1")
    await topic.wait_for(lambda m: m.kind == "voice")
    assert [m.kind for m in topic.bot_messages()] == ["text", "document", "voice"]

    driver.block()
    await agent.send_to_group(group, "Ответ", thread=topic, wait=False)
    flag = await topic.wait_for(lambda m: m.text == t("ru", "⚠️ Not delivered: the driver cannot be reached "
                                                            "(the bot may be blocked)."))
    assert flag.raw["reply_to_message"]["text"] == "Ответ"
    assert "Ответ" not in [m.text for m in driver.bot_messages()]


async def test_an_agents_command_in_a_topic_is_not_copied_to_the_driver(tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Пётр")
    await driver.send("/start")
    await driver.send("/support")
    await driver.send("Вопрос")
    topic = await group.wait_for_topic("🇷🇺 Пётр · #1")
    await agent.send_to_group(group, "/close", thread=topic, wait=False)
    await agent.send_to_group(group, "Ответ", thread=topic, wait=False)
    await driver.wait_for(lambda m: m.text == "Ответ")
    assert "/close" not in [m.text for m in driver.bot_messages()]


@pytest.mark.parametrize("settings_overrides", [{"support": {"group_id": -100888}}])
async def test_when_the_agents_group_is_no_forum_the_driver_is_told_and_the_message_is_kept(tg, drivers, nobat):
    tg.group(-100888, "Not a forum")
    driver = drivers("fa")
    await driver.send("/start")
    await driver.send("/support")
    answer = await driver.send("سلام")
    assert answer.text == t("fa", "Support cannot be reached just now. Your message is kept and will reach the "
                                  "agents as soon as possible.")
    assert [m.copy.value for m in await nobat.services.support.queued()] == ["queued"]

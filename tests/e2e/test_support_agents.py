"""The agents' commands in their forum (/assign, /tickets, /close, /reopen, /faq) and the driver's
side of a ticket's end (closing it, rating the answer once), through the local Bot API server."""

from __future__ import annotations

import pytest

from tests.story import t
from tests.support import AGENTS, DELIVERED, agents_forum, until

CLOSE = "✖ Close ticket"
RATE = ("✅ Your ticket #{number} is closed. How did support answer? Rate it from 1 (bad) to 5 (excellent).")
THANKS = "✅ Your ticket #{number} is closed. Thank you for your rating: {stars} of 5."
CANNOT_RATE = "Only a closed ticket of yours can be rated."


@pytest.fixture
def settings_overrides() -> dict:
    return {"support": {"group_id": AGENTS}}


async def ask(driver, text: str, topic_name: str, group):
    await driver.send("/start")
    await driver.send("/support")
    assert (await driver.send(text)).text == t(driver.language_code, DELIVERED)
    return await group.wait_for_topic(topic_name)


async def command(agent, group, text: str, topic=None):
    """An agent's command; the bot's answer in the group (in the topic, or in General)."""
    return await agent.send_to_group(group, text, thread=topic)


async def test_two_agents_take_a_ticket_from_each_other_and_the_list_shows_who_has_which(tg, drivers, nobat):
    # Agents whose apps speak Kazakh: the topic is answered in the bot's default language all the same.
    group, (aigerim, omid) = await agents_forum(tg, "Aigerim", "Omid", language="kk")
    ivan, ali = drivers("ru", first_name="Иван"), drivers("fa", first_name="Ali")
    ivans = await ask(ivan, "Где мой груз?", "🇷🇺 Иван · #1", group)
    await ask(ali, "سلام", "🇮🇷 Ali · #2", group)

    await aigerim.send_to_group(group, "Смотрю", thread=ivans, wait=False)
    await ivan.wait_for(lambda m: m.text == "Смотрю")
    answer = await command(omid, group, "/assign", ivans)
    assert answer.text == "🙋 Обращение №1 теперь ведёт Omid." and answer.thread_id == ivans.thread_id
    listed = await command(aigerim, group, "/tickets@nobat_test_bot")  # in General, with the bot's name
    assert listed.thread_id is None
    lines = listed.text.split("\n")
    assert lines[0] == "Открытых обращений: 2 (сначала самые старые)"
    assert lines[1].startswith("#1 · Иван · ") and lines[1].endswith(" · Omid")
    assert lines[2].startswith("#2 · Ali · ") and lines[2].endswith(" · никто")
    assert 'href="https://t.me/c/777/' in listed.html
    answer = await command(aigerim, group, "/assign", ivans)
    assert answer.text == "🙋 Обращение №1 теперь ведёт Aigerim."
    assert "/assign" not in [m.text for m in ivan.bot_messages()]


async def test_an_agent_closes_the_driver_rates_once_in_their_language_and_the_topic_sees_it(tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Aigerim", language="kk")
    ali, ivan = drivers("fa", first_name="Ali"), drivers("ru", first_name="Иван")
    alis = await ask(ali, "مدارک؟", "🇮🇷 Ali · #1", group)
    await ask(ivan, "Вопрос", "🇷🇺 Иван · #2", group)

    told = await command(agent, group, "/close", alis)
    assert told.text == "✅ Aigerim: обращение №1 закрыто. Водителя просят оценить ответ."
    rate = await ali.wait_for(lambda m: m.text == t("fa", RATE).format(number="۱"))
    assert rate.button_texts == ["۱ ⭐", "۲ ⭐", "۳ ⭐", "۴ ⭐", "۵ ⭐"]
    assert "/close" not in [m.text for m in ali.bot_messages()]
    assert await nobat.services.support.current(ali.user_id) is None

    # Ivan forges a rating of Ali's ticket, and of his own that is still open.
    for forged in ("sr:1:1", "sr:2:5"):
        refused = await ivan.tap_data(forged, ivan.last_message().message_id)
        assert refused.show_alert and refused.text == t("ru", CANNOT_RATE)
    out_of_range = await ali.tap_data("sr:1:9", rate.message_id)
    assert out_of_range.show_alert and out_of_range.text == t("fa", "This button is no longer valid.")

    await ali.tap("۴ ⭐", message=rate)
    assert ali.find(rate.message_id).text == t("fa", THANKS).format(number="۱", stars="۴")
    assert not ali.find(rate.message_id).button_texts
    # The topic hears of it through the outbox, in its turn of the group's 20 posts a minute (five
    # went into the group in the last seconds): the tap itself is not kept waiting for that.
    shown = await alis.wait_for(lambda m: m.text.startswith("⭐"), timeout=20)
    assert shown.text == "⭐ Водитель оценил ответ по обращению №1: 4 из 5 ★★★★☆"
    # A second tap (of a message still showing its buttons, as a fast double tap does) changes nothing.
    again = await ali.tap_data("sr:1:1", rate.message_id)
    assert again.show_alert and again.text == t("fa", "You have rated this ticket already: {stars} of 5. "
                                                      "Nothing changed.").format(stars="۴")
    async with nobat.db.reading() as session:
        from sqlalchemy import select

        from services.support.tables import Ticket
        assert await session.scalar(select(Ticket.rating).where(Ticket.id == 1)) == 4
    assert await tg.wait_idle(timeout=10)
    assert len([m for m in alis.bot_messages() if m.text.startswith("⭐")]) == 1

    # The topic is closed in Telegram now, where only administrators post: a member names the ticket in General.
    assert alis.closed
    assert (await command(agent, group, "/close 1")).text == "Обращение №1 уже закрыто. /reopen — открыть снова"


async def test_reopen_tells_the_driver_and_opens_the_topic_again(tg, drivers, nobat):
    group, (agent, member) = await agents_forum(tg, "Aigerim", "Bolat", language="kk")
    group.set_member_status(agent, "administrator")  # who may post in a closed topic, as in Telegram
    driver = drivers("kk", first_name="Асқар")
    topic = await ask(driver, "Сұрақ", "🇰🇿 Асқар · #1", group)
    assert (await command(agent, group, "/reopen", topic)).text == "Обращение №1 открыто."
    await command(agent, group, "/close@nobat_test_bot", topic)
    await driver.wait_for(lambda m: m.text == t("kk", RATE).format(number="1"))
    await until(lambda: topic.closed and topic.name == "✅ 🇰🇿 Асқар · #1")

    answer = await command(agent, group, "/reopen", topic)
    assert answer.text == "↩️ Aigerim: обращение №1 снова открыто; водителю сообщили."
    told = await driver.wait_for(lambda m: m.text.startswith("↩️"))
    assert told.text == t("kk", "↩️ Your ticket #{number} is open again. Write here: an agent will answer in "
                                "this chat.").format(number="1")
    assert told.button_texts == [t("kk", CLOSE)]
    assert not topic.closed and topic.name == "🇰🇿 Асқар · #1", "reopened before the driver heard of it"
    await driver.send("Тағы бір сұрақ")
    await topic.wait_for(lambda m: m.text == "Тағы бір сұрақ")

    await command(agent, group, "/close", topic)
    await until(lambda: topic.closed)
    assert (await command(member, group, "/reopen 77")).text == "Обращения №77 нет."
    assert (await command(member, group, "/reopen 1")).text.startswith("↩️ Bolat: обращение №1 снова открыто")
    await until(lambda: not topic.closed)


async def test_reopen_refuses_a_ticket_whose_driver_opened_another_and_the_second_names_the_first(
        tg, drivers, nobat):
    """Apart from the test above, in a group of its own: together they would wait out Telegram's 20
    posts a minute in one group."""
    group, (agent,) = await agents_forum(tg, "Aigerim", language="kk")
    group.set_member_status(agent, "administrator")
    driver = drivers("kk", first_name="Асқар")
    topic = await ask(driver, "Сұрақ", "🇰🇿 Асқар · #1", group)
    await command(agent, group, "/close", topic)
    await until(lambda: topic.closed)
    await driver.send("/support")
    await driver.send("Жаңа сұрақ")
    second = await group.wait_for_topic("🇰🇿 Асқар · #2")
    card = await second.wait_for(lambda m: m.text.startswith("Обращение №2"), timeout=30)  # 20 posts a minute
    assert "Продолжает обращение №1, закрытое ранее." in card.text, "a second ticket names the first"
    answer = await command(agent, group, "/reopen", topic)
    assert answer.text == "Обращение №1 остаётся закрытым: водитель тем временем открыл обращение №2."


async def test_a_canned_answer_reaches_a_persian_driver_in_persian_and_the_topic_sees_it_in_russian(
        tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Aigerim", language="kk")
    ali = drivers("fa", first_name="Ali")
    topic = await ask(ali, "چه مدارکی لازم است؟", "🇮🇷 Ali · #1", group)

    listed = await command(agent, group, "/faq", topic)
    assert listed.text.startswith("Готовые ответы отправляются водителю на его языке: /faq NAME\n• book — ")
    assert [line.split(" — ")[0] for line in listed.text.split("\n")[1:]] == [
        "• book", "• cancel", "• docs", "• hold", "• paused", "• notices"]
    unknown = await command(agent, group, "/faq visa", topic)
    assert unknown.text == "Готового ответа «visa» нет; ничего не отправлено.\n" + listed.text, "the unknown name"

    shown = await command(agent, group, "/faq docs", topic)
    assert shown.text.startswith("📋 Готовый ответ отправлен водителю (فارسی):\n\nДокументы на пункте пропуска\n")
    canned = await ali.wait_for(lambda m: m.text.startswith(t("fa", "Documents at the checkpoint")))
    assert "\u2068CMR\u2069" in canned.text and "گذرنامه" in canned.text
    assert ali.bot_messages()[-2].text == t("fa", "💬 An agent is answering.")
    assert await nobat.services.support.counts(1) == {"driver": 1, "agent": 1}
    await command(agent, group, "/faq hold", topic)
    held = await ali.wait_for(lambda m: m.text.startswith(t("fa", "What a hold is")))
    assert "۱۵ دقیقه" in held.text
    assert [m.text for m in ali.bot_messages()].count(t("fa", "💬 An agent is answering.")) == 1


async def test_someone_outside_the_agents_group_is_ignored(tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Aigerim", language="kk")
    driver = drivers("ru", first_name="Олег")
    topic = await ask(driver, "Помогите", "🇷🇺 Олег · #1", group)
    gone = tg.user(990_300, first_name="Former agent")
    await gone.join_group(group, wait=False)
    before = len(group.bot_messages()), len(driver.bot_messages())
    for text, where in (("/close", topic), ("/assign", topic), ("/faq docs", topic), ("/tickets", None)):
        group.set_member_status(gone, "member")
        await gone.send_to_group(group, text, thread=where, wait=False)
        group.set_member_status(gone, "left")  # left before the bot asked Telegram who they are
    assert await tg.wait_idle(timeout=10)
    assert (len(group.bot_messages()), len(driver.bot_messages())) == before
    assert (await nobat.services.support.current(driver.user_id)).assignee_id is None


async def test_a_driver_closes_their_own_ticket_and_rates_it(tg, drivers, nobat):
    group, (agent,) = await agents_forum(tg, "Aigerim", language="kk")
    driver = drivers("ru", first_name="Пётр")
    await driver.send("/start")
    opened = await driver.send("/support")
    assert opened.button_texts == [t("ru", CLOSE)]
    delivered = await driver.send("Вопрос")
    assert delivered.button_texts == [t("ru", CLOSE)]
    topic = await group.wait_for_topic("🇷🇺 Пётр · #1")

    await driver.tap(t("ru", CLOSE), message=delivered)
    rate = await driver.wait_for(lambda m: m.text == t("ru", RATE).format(number="1"))
    assert not driver.find(delivered.message_id).button_texts
    closed = await topic.wait_for(lambda m: m.text.startswith("✅"))
    assert closed.text == "✅ Водитель закрыл обращение №1; его просят оценить ответ."
    stale = await driver.tap(t("ru", CLOSE), message=opened)
    assert stale.show_alert and stale.text == t("ru", "This ticket is closed already.")

    await driver.tap("5 ⭐", message=rate)
    await topic.wait_for(lambda m: m.text == "⭐ Водитель оценил ответ по обращению №1: 5 из 5 ★★★★★")
    count = len(topic.bot_messages())
    await driver.send("Ещё вопрос")  # no ticket is open: not for support
    assert await tg.wait_idle(timeout=10)
    assert len(topic.bot_messages()) == count
    assert t("ru", DELIVERED) not in [m.text for m in driver.bot_messages()[-1:]]


async def test_a_forged_close_button_does_not_reach_another_drivers_ticket(tg, drivers, nobat):
    group, _ = await agents_forum(tg, "Aigerim", language="kk")
    ivan, omid = drivers("ru", first_name="Иван"), drivers("fa", first_name="Omid")
    topic = await ask(ivan, "Вопрос", "🇷🇺 Иван · #1", group)
    await omid.send("/start")
    mine = await omid.send("/support")
    refused = await omid.tap_data("sc:1", mine.message_id)  # Ivan's ticket, from Omid's chat
    assert refused.show_alert and refused.text == t("fa", "This ticket is closed already.")
    assert (await nobat.services.support.current(ivan.user_id)).id == 1, "Ivan's ticket stays open"
    assert not [m for m in topic.bot_messages() if m.text.startswith("✅")]
    assert not [m for m in ivan.bot_messages() if m.button_texts and "5 ⭐" in m.button_texts]


async def test_the_agents_group_lists_their_commands_and_the_card_shows_phone_and_last_status(
        tg, drivers, nobat, clock):
    from aiogram.types import BotCommandScopeChat

    from tests.notices import post_event
    from tests.story import register

    listed = await nobat.bot.get_my_commands(scope=BotCommandScopeChat(chat_id=AGENTS))
    assert [(c.command, c.description) for c in listed][:2] == [("tickets", "Открытые обращения, сначала старые"),
                                                                ("assign", "Взять это обращение")]
    assert {c.command for c in listed} == {"tickets", "assign", "faq", "close", "reopen"}

    group, _agents = await agents_forum(tg, "Aigerim", language="kk")
    driver = drivers("ru", first_name="Иван")
    await register(driver, "123ABC02")
    await nobat.services.follows.share_phone(driver.user_id, "+7 701 123 45 67")
    await post_event(nobat.db, "called", [], at=clock.now(), plate="123ABC02", ref=None, details={"gate": "3"})
    await driver.send("/cancel")
    await driver.send("/support")
    await driver.send("Куда ехать?")
    topic = await group.wait_for_topic("🇷🇺 Иван · 123 ABC 02 · #1")
    card = topic.bot_messages()[0]
    assert "Телефон: +77011234567" in card.text
    assert "Последнее уведомление о статусе: Вызван на пункт пропуска (123 ABC 02, " in card.text

"""What a driver writes reaches someone, between features: a command leaves the step it interrupts,
a question typed where a button is expected goes to an open ticket, and a message after a close
opens the ticket again (or a new one after it), saying which. Through the local Bot API server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.story import open_offer, t
from tests.support import AGENTS, DELIVERED, agents_forum, until

WRITE = ("Write your question to support: text, a photo, a document or a voice message. "
         "An agent will answer in this chat.")
NOT_A_PLATE = "This does not look like a plate number."
TAP_A_BUTTON = "Please tap one of the buttons above, or /cancel to stop."
RESUMED = "↩️ Your message opened ticket #{number} again; it goes to the agents."
FOLLOWS = "🆕 Ticket #{previous} was closed, so your message opened a new ticket #{number}; it goes to the agents."
RESUMED_IN_TOPIC = "↩️ The driver wrote again after the close: ticket #{number} is open again."
RATE = "✅ Your ticket #{number} is closed. How did support answer? Rate it from 1 (bad) to 5 (excellent)."


@pytest.fixture
def settings_overrides() -> dict:
    return {"support": {"group_id": AGENTS, "reopen_hours": 24}}


def texts(chat) -> list[str]:
    return [m.text for m in chat.bot_messages()]


async def test_support_typed_while_the_bot_waits_for_a_plate_leaves_that_step_and_the_question_reaches_the_agents(
        tg, drivers, nobat):
    group, _ = await agents_forum(tg, "Agent")
    driver = drivers("ru", first_name="Бота")
    await driver.send("/start")
    asked = await driver.send("/book")  # no truck yet: the bot asks for the plate
    assert t("ru", "First add your truck.") in asked.text
    assert (await driver.send("/support")).text == t("ru", WRITE)
    told = await driver.send("Сколько ждать на Хоргосе?")
    assert told.text == t("ru", DELIVERED), "the question, not judged as a plate"
    topic = await group.wait_for_topic("🇷🇺 Бота · #1")
    await topic.wait_for(lambda m: m.text == "Сколько ждать на Хоргосе?")
    assert not [text for text in texts(driver) if text.startswith(t("ru", NOT_A_PLATE))]


async def test_a_question_typed_where_a_button_is_expected_goes_to_the_open_ticket(tg, drivers, nobat):
    group, _ = await agents_forum(tg, "Agent")
    driver = drivers("fa", first_name="Reza")
    await driver.send("/start")
    await driver.send("/support")
    assert (await driver.send("سلام")).text == t("fa", DELIVERED)
    await open_offer(driver)  # /book, a truck, the checkpoint: the first free time, with its buttons
    told = await driver.send("صف چقدر طول می‌کشد؟")
    assert told.text == t("fa", DELIVERED)
    topic = await group.wait_for_topic("🇮🇷 Reza · #1")
    await topic.wait_for(lambda m: m.text == "صف چقدر طول می‌کشد؟")
    assert t("fa", TAP_A_BUTTON) not in texts(driver)


async def closed_ticket(tg, drivers):
    """A driver's ticket #1, closed by an agent: (the agents' group, the driver, the ticket's topic)."""
    group, (agent,) = await agents_forum(tg, "Dana")
    driver = drivers("kk", first_name="Ерлан")
    await driver.send("/start")
    await driver.send("/support")
    await driver.send("Кезек қашан?")
    topic = await group.wait_for_topic("🇰🇿 Ерлан · #1")
    await agent.send_to_group(group, "/close", thread=topic)
    await driver.wait_for(lambda m: m.text == t("kk", RATE).format(number=1))
    await until(lambda: topic.closed and topic.name == "✅ 🇰🇿 Ерлан · #1")  # the agents see it is done
    return group, driver, topic


async def test_a_message_after_an_agents_close_opens_the_ticket_again(tg, drivers, nobat, clock):
    _group, driver, topic = await closed_ticket(tg, drivers)

    # The next message, an hour later: the same ticket, open again, in the same topic.
    clock.advance(timedelta(hours=1))
    await driver.send("Рақмет, тағы бір сұрақ: күту қанша уақыт?", wait=False)
    await driver.wait_for(lambda m: m.text == t("kk", RESUMED).format(number=1))
    await topic.wait_for(lambda m: m.text == "Рақмет, тағы бір сұрақ: күту қанша уақыт?")
    assert texts(topic)[-2] == t("ru", RESUMED_IN_TOPIC).format(number=1), "the agents hear why, before it"
    await until(lambda: not topic.closed and topic.name == "🇰🇿 Ерлан · #1")
    assert (await nobat.services.support.current(driver.user_id)).id == 1
    await driver.wait_for(lambda m: m.text == t("kk", DELIVERED))


async def test_a_message_days_after_a_close_opens_a_new_ticket_that_names_the_old(tg, drivers, nobat, clock):
    group, driver, _topic = await closed_ticket(tg, drivers)
    clock.advance(timedelta(days=2))  # past support.reopen_hours
    await driver.send("Жаңа сұрақ", wait=False)
    await driver.wait_for(lambda m: m.text == t("kk", FOLLOWS).format(previous=1, number=2))
    second = await group.wait_for_topic("🇰🇿 Ерлан · #2")
    await second.wait_for(lambda m: m.text == "Жаңа сұрақ", timeout=30)  # the group's 20 posts a minute
    card = second.bot_messages()[0].text
    assert t("ru", "Follows ticket #{number}, closed earlier.").format(number=1) in card
    assert (await nobat.services.support.ticket(1)).status.value == "closed"


async def test_cancel_during_a_hold_names_the_hold_that_still_runs_and_its_button_cancels_it(tg, drivers, nobat):
    driver = drivers("ru", first_name="Арман")
    await open_offer(driver, plate="123ABC02")
    await driver.tap(t("ru", "Next ▶"))
    answer = await driver.send("/cancel")
    assert answer.text.startswith(t("ru", "Stopped. Your hold is still running:")), "not a bare «Stopped.»"
    assert "123 ABC 02" in answer.text and t("ru", "A hold left to run out counts in your rating (/myrating). "
                                                   "/mybookings — confirm it") in answer.text
    held = [h for h in await nobat.services.booking.upcoming(driver.user_id)]
    assert [h.status.value for h in held] == ["held"], "/cancel alone cancels no hold"
    await driver.tap(t("ru", "✖ Cancel the hold of {plate}").format(plate="123 ABC 02"), message=answer)
    assert driver.find(answer.message_id).text == t("ru", "Hold cancelled, nothing was booked. /book — start again")
    assert await nobat.services.booking.upcoming(driver.user_id) == []
    assert (await driver.send("/cancel")).text == t("ru", "Nothing to stop. /help — help")


async def test_an_agents_note_stays_in_the_topic_and_stickers_and_locations_reach_the_agents(tg, drivers, nobat):
    group, (dana, omid) = await agents_forum(tg, "Dana", "Omid")
    driver = drivers("ru", first_name="Серик")
    await driver.send("/start")
    await driver.send("/support")
    await driver.send("Я на границе, вот где стою")
    await driver.send_location(wait=False)
    await driver.send_sticker("🙏", wait=False)
    topic = await group.wait_for_topic("🇷🇺 Серик · #1")
    await topic.wait_for(lambda m: m.kind == "sticker", timeout=30)
    assert [m.kind for m in topic.bot_messages()[1:]] == ["text", "location", "sticker"], "copied, in order"
    assert t("ru", "I can read only text and buttons. /help — help") not in texts(driver)

    await omid.send_to_group(group, "! Дана, возьми, я на обеде", thread=topic, wait=False)
    await omid.send_photo("! внутренняя схема", group=group, thread=topic, wait=False)
    await dana.send_to_group(group, "Вижу вас, ждите вызова", thread=topic, wait=False)
    await driver.wait_for(lambda m: m.text == "Вижу вас, ждите вызова")
    assert await tg.wait_idle(timeout=10)
    shown = texts(driver)
    assert "! Дана, возьми, я на обеде" not in shown and "! внутренняя схема" not in shown
    assert not [m for m in driver.bot_messages() if m.kind == "photo"], "a note with a photo stays too"

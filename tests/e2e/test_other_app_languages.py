"""A driver whose Telegram app speaks none of our languages (English, German, or none said), and who
has not chosen one, is asked to choose, in all three, whatever they send first: /book, /help,
/support, a plate, a sticker; not answered in a language they may not read. Once they choose, what
they sent is answered in the language chosen: /book goes on to the booking, /support to the agents.
"""

from __future__ import annotations

import pytest

from handlers.start.screens import LANGUAGE_NAMES, choose_language
from tests.story import t
from tests.support import AGENTS, DELIVERED, agents_forum

PICKER = choose_language().text  # the three languages at once
HELLO = "Hello, {name}! I am Nobat, the electronic queue for trucks at border crossings."
CHANGED = "Language changed. /book — book a crossing time"


def picker_shown(message) -> bool:
    return message.text == PICKER and message.button_texts == list(LANGUAGE_NAMES.values())


async def test_book_from_an_app_in_english_asks_the_language_first_then_books_in_it(drivers):
    john = drivers("en", "John")
    asked = await john.send("/book")
    assert picker_shown(asked)
    assert len(john.bot_messages()) == 1, "nothing else, in a language John may not read"
    await john.tap("Қазақша")
    changed = john.find(asked.message_id)
    assert changed.text == t("kk", CHANGED) and not changed.buttons, "what John asked for comes next"
    assert john.last_message().text.startswith(t("kk", "First add your truck.")), "/book, in Kazakh"
    await john.send("555XYZ01")
    await john.tap(t("kk", "Skip"))
    assert john.last_message().text == t("kk", "Choose the checkpoint:")
    help_text = await john.send("/help")  # chosen once, never asked again
    assert f"/book — {t('kk', 'Book a crossing time')}" in help_text.text
    ivan = drivers("ru-RU", "Ivan")  # an app in one of ours: no question
    assert (await ivan.send("/book")).text.startswith(t("ru", "First add your truck."))


@pytest.mark.parametrize(("app", "chosen"), [("de", "ru"), (None, "fa"), ("en-US", "kk")])
async def test_help_a_plate_and_a_sticker_get_the_choice_then_their_answer_in_it(drivers, app, chosen):
    name = LANGUAGE_NAMES[chosen]
    for send, answer in (
        (lambda d: d.send("/help"), lambda text: f"/mybookings — {t(chosen, 'My bookings')}" in text
         and t(chosen, HELLO).split("{name}")[0] not in text),
        (lambda d: d.send("123ABC02"),
         lambda text: text == t(chosen, "I did not understand. /book — book a crossing time, /help — help")),
        (lambda d: d.send_sticker(), lambda text: text == t(chosen, "I can read only text and buttons. /help — help")),
    ):
        driver = drivers(app)
        asked = await send(driver)
        assert picker_shown(asked), driver.transcript()
        await driver.tap(name)
        assert driver.find(asked.message_id).text == t(chosen, CHANGED)
        assert answer(driver.last_message().text), driver.transcript()


async def test_only_the_last_message_before_the_choice_is_answered_and_once(drivers):
    driver = drivers("de")
    first = await driver.send("/help")
    asked = await driver.send("/book")
    assert picker_shown(asked)
    await driver.tap("Русский", message=asked.message_id)
    assert driver.last_message().text.startswith(t("ru", "First add your truck."))
    before = len(driver.bot_messages())
    await driver.tap("Русский", message=first.message_id)  # the first choice, tapped later
    assert len(driver.bot_messages()) == before + 1, "the welcome, not /book again"
    assert t("ru", HELLO).split("{name}")[0] in driver.last_message().text


@pytest.mark.parametrize("settings_overrides", [{"support": {"group_id": AGENTS}}])
async def test_support_from_an_app_in_german_reaches_the_agents_after_the_choice(tg, drivers, nobat):
    group, _agents = await agents_forum(tg, "Agent")
    hans = drivers("de", "Hans")
    asked = await hans.send("/support")
    assert picker_shown(asked)
    await hans.tap("Русский")
    opened = hans.last_message()
    assert opened.message_id != asked.message_id and opened.button_texts == [t("ru", "✖ Close ticket")], \
        "the ticket opened, in Russian"
    told = await hans.send("Wo ist meine Ladung?")
    assert told.text == t("ru", DELIVERED)
    topic = await group.wait_for_topic("🇷🇺 Hans · #1")
    await topic.wait_for(lambda m: m.text == "Wo ist meine Ladung?")

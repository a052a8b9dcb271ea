"""A checkpoint's link printed at the border post opens the booking there; the bot's profile speaks
each driver's language."""

from __future__ import annotations

from tests.story import register, t

DESCRIPTION = ("Nobat is the electronic queue for trucks at the border crossings of Khorgos, Dostyk and Bazargan. "
               "Book a time to cross in this chat: I show the first free time, and nothing is reserved until you "
               "tap Next. Tap Start.")
SHORT = "Book a border crossing time for your truck: Khorgos, Dostyk, Bazargan."


async def test_a_new_driver_following_a_checkpoints_link_adds_a_truck_then_sees_its_first_free_time(drivers):
    driver = drivers("ru", "Айгерим")
    await driver.send("/start khorgos")
    await driver.wait_for(lambda m: t("ru", "First add your truck.") in m.text)
    greeting, asked = driver.bot_messages()[-2:]
    assert greeting.text.startswith(t("ru", "Hello, {name}! I am Nobat, the electronic queue for trucks at border "
                                            "crossings.").format(name="Айгерим")), "greeted before the first question"
    assert t("ru", "First add your truck.") in asked.text
    await driver.send("123ABC02")
    await driver.tap(t("ru", "Skip"))
    offer = await driver.wait_for(lambda m: t("ru", "Next ▶") in m.button_texts)
    assert "Хоргос" in offer.text and "08:00 (Алматы)" in offer.text, "no checkpoint to choose: the link named it"


async def test_a_driver_with_a_truck_goes_straight_to_the_first_free_time(drivers):
    driver = drivers("kk")
    await register(driver)
    offer = await driver.send("/start DOSTYK")
    assert "Достық" in offer.text and t("kk", "Next ▶") in offer.button_texts


async def test_the_language_is_asked_first_and_the_link_is_not_forgotten(drivers):
    driver = drivers("en")
    choice = await driver.send("/start bazargan")
    assert "فارسی" in choice.button_texts
    await driver.tap("فارسی")
    await driver.wait_for(lambda m: t("fa", "First add your truck.") in m.text)
    hello = t("fa", "Hello, {name}! I am Nobat, the electronic queue for trucks at border crossings.")
    assert hello.split("{name}")[0] in driver.bot_messages()[-2].text, "greeted, in the language just chosen"
    await driver.send("۱۲ IR ۳۴۵")
    await driver.tap(t("fa", "Skip"))
    offer = await driver.wait_for(lambda m: t("fa", "Next ▶") in m.button_texts)
    assert "بازرگان" in offer.text and "(تهران)" in offer.text


async def test_an_unknown_link_greets_as_usual(drivers):
    driver = drivers("ru", "Айгерим")
    welcome = await driver.send("/start promo2026")
    assert "Айгерим" in welcome.text and "/book" in welcome.text


async def test_the_bots_description_is_set_in_each_language(tg, nobat):
    for language in ("kk", "ru", "fa"):
        assert tg.descriptions[("description", language)] == t(language, DESCRIPTION)
        assert tg.descriptions[("short_description", language)] == t(language, SHORT)
    assert tg.descriptions[("description", "")] == t("ru", DESCRIPTION), "everyone else: the default language"

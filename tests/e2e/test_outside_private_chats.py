"""Bookings happen in a driver's own chat with the bot. A button tapped in a group, or on an inline
message, gets a short answer in the tapper's language and reaches no feature; someone writing in a
group the bot is in gets no account and no answer."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from handlers.booking import screens as booking_screens
from services.storage.models import Account
from tests.story import open_offer, t

PRIVATE_ONLY = "This button works only in your own chat with the bot."


async def _accounts(nobat) -> int:
    async with nobat.db.reading() as session:
        return await session.scalar(select(func.count()).select_from(Account))


async def test_writing_in_a_group_the_bot_is_in_creates_no_account_and_gets_no_answer(tg, drivers, nobat, caplog):
    group = tg.group(-1001234567890, title="Khorgos drivers")
    stranger = drivers("kk")
    with caplog.at_level(logging.WARNING):
        for text in ("/start", "/book", "123ABC02", "/mybookings", *(f"who is at Khorgos? {i}" for i in range(30))):
            await stranger.send_to_group(group, text, wait=False)
        assert await tg.wait_idle(timeout=10)
    assert group.bot_messages() == [] and stranger.bot_messages() == []
    assert await _accounts(nobat) == 0
    assert not [record for record in caplog.records if record.exc_info]
    # Talk in a group is not for the bot, nor counted against the flood limit of the private chat.
    assert "/book" in (await stranger.send("/start")).text


async def test_a_button_tapped_in_a_group_or_on_an_inline_message_reaches_no_feature(tg, drivers, nobat, monkeypatch):
    driver = drivers("fa")
    offer = await open_offer(driver)
    group = tg.group(-1001234567891, title="Bazargan convoy")
    # A message with the bot's buttons in a group: an old post, or one a modified client put there.
    with nobat.dispatcher["i18n"].context(), nobat.dispatcher["i18n"].use_locale("fa"):
        choice = booking_screens.choose_checkpoint(list(nobat.services.checkpoints.values()), "fa")
    await nobat.bot.send_message(group.chat_id, **choice.as_kwargs())
    passer_by = drivers("kk")
    asked = []

    async def asked_anyway(*args, **_kwargs):
        asked.append(args)

    for service, name in ((nobat.services.trucks, "list"), (nobat.services.trucks, "get"),
                          (nobat.services.booking, "take"), (nobat.services.offers, "offer")):
        monkeypatch.setattr(service, name, asked_anyway)

    answer = await passer_by.tap("خورگوس", group=group)
    assert answer.show_alert and answer.text == t("kk", PRIVATE_ONLY)
    # The driver's own Next, from a group message and from an inline message.
    next_tap = offer.buttons[0][0][1]
    answer = await driver.tap_data(next_tap, group.messages[-1].message_id, group=group)
    assert answer.show_alert and answer.text == t("fa", PRIVATE_ONLY)
    answer = await driver.tap_inline(next_tap)
    assert answer.show_alert and answer.text == t("fa", PRIVATE_ONLY)

    assert asked == []
    assert await _accounts(nobat) == 1, "the passer-by in the group got no account"
    assert driver.last_message().text == offer.text

"""A driver (or a script) writing at machine speed meets the flood limit: one calm answer, then
silence; another driver at the same moment is answered as promptly as ever; and Telegram's 429s on
the flooded chat leave warning lines in the log, never a traceback."""

from __future__ import annotations

import asyncio
import logging

from tests.story import open_offer, register, t

TOO_MANY = "Too many messages at once. Please wait a few seconds, then go on."
NOT_UNDERSTOOD = "I did not understand. /book — book a crossing time, /help — help"
PROMPT = 3.0  # seconds: a conversation step's answer, however busy the bot is with the flood


async def test_200_messages_in_2_seconds_get_one_calm_answer_and_another_driver_no_slowdown(tg, drivers, nobat,
                                                                                           caplog):
    flooder, other = drivers("kk", "Script"), drivers("fa", "Reza")
    await register(other)
    await nobat.services.accounts.ensure(flooder.user_id, flooder.first_name, "kk")
    flooder.think_time = 0  # machine speed: Telegram's own limit on the flooder's chat is met too
    limit = nobat.settings.flood.updates

    with caplog.at_level(logging.WARNING):
        for i in range(200):
            await flooder.send(f"salem {i}", wait=False)
        # The same moment, another driver books, each step answered promptly.
        assert await other.send("/book", timeout=PROMPT) is not None
        assert await other.tap("خورگوس", timeout=PROMPT) is not None
        assert await other.tap(t("fa", "Next ▶"), timeout=PROMPT) is not None
        assert t("fa", "✅ Confirm") in other.last_message().button_texts

        # The flooder's chat gets its answers at Telegram's pace, about one a second.
        await tg.wait_until(lambda: len(flooder.bot_messages()) >= limit + 1, timeout=60)
        assert await tg.wait_idle(timeout=30)
    texts = [m.text for m in flooder.bot_messages()]
    assert texts.count(t("kk", TOO_MANY)) == 1
    assert texts.count(t("kk", NOT_UNDERSTOOD)) == limit and len(texts) == limit + 1
    assert tg.limit_violations > 0, "Telegram answered 429 on the flooded chat"
    assert not [record for record in caplog.records if record.exc_info], "429s are warnings, not tracebacks"


async def test_taps_past_the_limit_are_answered_without_a_word_after_the_one_notice(tg, drivers, nobat):
    driver = drivers("ru")
    offer = await open_offer(driver)
    driver.think_time = 0
    other_time = next(data for row in offer.buttons for text, data in row if text == t("ru", "Other time"))
    answers = await asyncio.gather(*(driver.tap_data(other_time, offer.message_id, timeout=PROMPT * 3)
                                     for _ in range(30)))
    assert all(answer is not None for answer in answers), "no button keeps spinning"
    told = [answer for answer in answers if answer.text is not None]
    assert len(told) == 1 and told[0].show_alert and told[0].text == t("ru", TOO_MANY)

"""A driver (or a script) writing at machine speed meets the flood limit: one calm answer, then
silence; another driver at the same moment books while the flooded chat is still being answered;
and Telegram's 429s on the flooded chat leave warning lines in the log, never a traceback.

The flood limit counts on a clock that stands still here (a simulated moment), so every update of
the flood falls in one window however long the machine takes to send them; what is asserted is
what got through and in which order, never how many seconds it took.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.story import open_offer, register, t

TOO_MANY = "Too many messages at once. Please wait a few seconds, then go on."
NOT_UNDERSTOOD = "I did not understand. /book — book a crossing time, /help — help"
PATIENCE = 30.0  # seconds a step may take on a loaded machine: patience, not the measure of anything


@pytest.fixture
def flood_clock():
    return lambda: 1_000_000.0


async def test_200_messages_at_once_get_one_calm_answer_and_another_driver_books_meanwhile(tg, drivers, nobat, caplog):
    flooder, other = drivers("kk", "Script"), drivers("fa", "Reza")
    await register(other)
    await nobat.services.accounts.ensure(flooder.user_id, flooder.first_name, "kk")
    flooder.think_time = 0  # machine speed: Telegram's own limit on the flooder's chat is met too
    limit = nobat.settings.flood.updates

    with caplog.at_level(logging.WARNING):
        for i in range(200):
            await flooder.send(f"salem {i}", wait=False)
        # The same moment, another driver books, each step answered...
        assert await other.send("/book", timeout=PATIENCE) is not None
        assert await other.tap("خورگوس", timeout=PATIENCE) is not None
        assert await other.tap(t("fa", "Next ▶"), timeout=PATIENCE) is not None
        assert t("fa", "✅ Confirm") in other.last_message().button_texts
        # ... while the flooder's chat still waits for most of its answers, which Telegram lets
        # through at about one a second after a burst of three.
        assert len(flooder.bot_messages()) < limit, "the other driver was not queued behind the flood"

        await tg.wait_until(lambda: len(flooder.bot_messages()) >= limit + 1, timeout=60)
        assert await tg.wait_idle(timeout=30)
    texts = [m.text for m in flooder.bot_messages()]
    assert texts.count(t("kk", TOO_MANY)) == 1
    assert texts.count(t("kk", NOT_UNDERSTOOD)) == limit and len(texts) == limit + 1
    # Each answer past the chat's burst was refused at least once before it went through.
    assert tg.limit_violations >= limit + 1 - tg.limits.chat_burst, "Telegram answered 429 on the flooded chat"
    assert not [record for record in caplog.records if record.exc_info], "429s are warnings, not tracebacks"


async def test_taps_past_the_limit_are_answered_without_a_word_after_the_one_notice(tg, drivers, nobat):
    driver = drivers("ru")
    offer = await open_offer(driver)
    driver.think_time = 0
    other_time = next(data for row in offer.buttons for text, data in row if text == t("ru", "Other time"))
    answers = await asyncio.gather(*(driver.tap_data(other_time, offer.message_id, timeout=PATIENCE)
                                     for _ in range(30)))
    assert all(answer is not None for answer in answers), "no button keeps spinning"
    told = [answer for answer in answers if answer.text is not None]
    assert len(told) == 1 and told[0].show_alert and told[0].text == t("ru", TOO_MANY)

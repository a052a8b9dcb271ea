"""The database freezes (another connection holds the tables the bot needs): each driver's tap or
message is answered within seconds with a calm "try again in a few seconds", the log has a warning
line for each and no traceback, and once the freeze ends the next tap works."""

from __future__ import annotations

import asyncio
import logging

import pytest

from services.storage.database import DatabaseTimeouts
from tests.databases import backends, fresh_database, frozen
from tests.story import open_offer, t

BUSY = "We are very busy right now; nothing was lost. Please try again in a few seconds."
TIMEOUT = 2.0
# A writer may wait for its turn and then for the lock: the timeout twice, and room for a busy
# machine. (Before the timeouts, SQLite answered after 30 s, PostgreSQL never.)
BOUND = 4 * TIMEOUT


@pytest.fixture(params=backends())
async def db(request, tmp_path):
    timeouts = DatabaseTimeouts(connect_timeout_seconds=TIMEOUT, statement_timeout_seconds=TIMEOUT)
    async with fresh_database(request.param, tmp_path, timeouts) as database:
        yield database


async def test_taps_and_messages_during_a_freeze_are_answered_within_seconds_and_nothing_is_lost(drivers, nobat,
                                                                                             caplog):
    driver = drivers("ru")
    offer = await open_offer(driver)
    newcomers = [drivers("kk"), drivers("fa"), drivers("ru")]

    with caplog.at_level(logging.WARNING):
        async with frozen(nobat.db):
            answer, *replies = await asyncio.gather(
                driver.tap(t("ru", "Next ▶"), timeout=BOUND),
                *(newcomer.send("/start", timeout=BOUND) for newcomer in newcomers),
            )
            assert answer is not None and answer.show_alert and answer.text == t("ru", BUSY)
            for newcomer, reply in zip(newcomers, replies, strict=True):
                assert reply is not None and reply.text == t(newcomer.language_code, BUSY)
    assert not [record for record in caplog.records if record.exc_info], "warnings, not tracebacks"
    assert any("database is unavailable" in record.getMessage() for record in caplog.records)

    assert driver.last_message().text == offer.text, "the offer still stands"
    await driver.tap(t("ru", "Next ▶"))
    assert t("ru", "✅ Confirm") in driver.last_message().button_texts
    for newcomer in newcomers:
        welcome = await newcomer.send("/start")
        assert welcome.text != t(newcomer.language_code, BUSY) and "/book" in welcome.text

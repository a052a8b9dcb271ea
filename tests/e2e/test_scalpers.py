"""The scalpers' day, through the local Bot API server (`bench.fairness` plays it): 150 honest
drivers each book one truck for tomorrow at a Khorgos of four trucks a slot (96 places: fewer than
the drivers, so every place a scalper held would be one an honest driver lacked) while 8 scalper
accounts, each tapping Next in 10 booking windows, never confirm. Limits, the rating, the
operators' report and the audit trail must make that fail and make it visible. The bench plays the
full day (500 drivers, 20 scalpers of 50 windows, every five minutes for 24 hours); this is the same
day, smaller, so that the suite runs in minutes.

The windows all tap every 20 minutes of an 8-hour simulated day. Tapping more often within a
moment would change nothing: the flood limit, which counts in the simulated clock, lets an
account's first 20 taps of any ten seconds through and drops the rest."""

from __future__ import annotations

import pytest

from bench.fairness import LIFTED_LIMITS, OPERATOR_ID, Sizes, simulate
from tests.conftest import TOKEN
from tests.databases import backends, fresh_database


@pytest.fixture(params=backends()[-1:])
async def db(request, tmp_path):
    """The day takes minutes: it runs once, on PostgreSQL (with Redis) where they are configured, as
    in CI, else on SQLite. The engine's limits hold on both (tests/integration)."""
    async with fresh_database(request.param, tmp_path) as database:
        yield database


@pytest.fixture
async def tg():
    """Telegram's limits are per second of wall time, which a simulated day compresses: lifted
    (the bot's budget too, below); the tests of notices and of the server enforce them."""
    from local_bot_api import BotAPIServer, Limits

    server = BotAPIServer(TOKEN, limits=Limits(enabled=False))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings_overrides() -> dict:
    from bot.config import load_settings

    checkpoints = [checkpoint.model_dump() for checkpoint in load_settings(bot_token=TOKEN).checkpoints]
    for checkpoint in checkpoints:
        if checkpoint["code"] == "khorgos":
            checkpoint["trucks_per_slot"] = 4
    return {"operators": [OPERATOR_ID], "telegram_limits": LIFTED_LIMITS, "checkpoints": checkpoints}


@pytest.fixture
def flood_clock(clock):
    """The flood limit counts in the simulated day, so a scalper's 50 windows tapping at one moment
    are a flood, as they would be."""
    return lambda: clock.now().timestamp()


async def test_a_day_of_scalpers_gains_them_nothing_and_shows_them_to_the_operators(tg, nobat, clock):
    sizes = Sizes(honest=150, scalpers=8, sessions=10, hours=8, round_minutes=20)
    day = await simulate(tg, nobat, clock, sizes)
    rules = nobat.services.rules
    figures = day.figures()

    assert day.capacity == 96 < sizes.honest, figures
    assert day.taps >= sizes.scalpers * sizes.sessions * sizes.hours * 60 / sizes.round_minutes, figures
    assert day.scalper_max_concurrent_holds == rules.max_active_holds, f"up to the limit, never past it: {figures}"
    assert day.scalper_bookings == 0, figures
    # Paused many times over the day, each scalper tapped on through at least one of its pauses.
    assert day.taps_refused.get("rating_blocked", 0) >= sizes.scalpers, figures
    assert day.blocked_scalpers == sizes.scalpers, f"every scalper ends the day paused by the rating: {figures}"

    # Honest drivers got a place while there was one: every one of them booked, or tomorrow had
    # nothing free left for those who did not.
    assert day.honest_booked > 0 and day.honest_booked_share == 1.0, figures
    assert day.honest_unbooked == 0 or day.honest_free_left == 0, figures

    assert set(day.abusers[:sizes.scalpers]) == set(day.scalper_ids), f"/abusers: {day.abusers}"

    assert day.audit_intact, figures
    assert day.holds_audited == day.holds > 0, "every hold taken has its record in the chain"
    assert day.expiries_audited == day.expired > 0, "every hold that ran out has its record"

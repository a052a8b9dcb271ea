from __future__ import annotations

import asyncio
import itertools
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.kernel.clock import FrozenClock
from tests.databases import backends, fresh_database

# Python's bytecode caches are written even where PYTHONDONTWRITEBYTECODE says not to (it is set on
# some machines to keep checkouts clean; __pycache__ is ignored by git): without them each of the
# test workers and of the ~40 `nobat` processes the tests start compiles the project again, and pytest
# rewrites every test module's asserts again, several seconds of CPU each. Set here, before the
# workers start, so that they and the processes they start inherit it.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    sys.dont_write_bytecode = False

TOKEN = "123456:TEST-TOKEN"
# Every bot a test starts, in this process or as a `nobat` process, serves the border system's API:
# on a free port, so tests (and another checkout's tests on the same machine) never fight for 8090.
os.environ.setdefault("NOBAT_API__PORT", "0")
_user_ids = itertools.count(5001)


# Tests run in parallel (pytest-xdist's `-n auto --dist worksteal` in pyproject.toml): much of a
# test's time is spent waiting (for Telegram's limits, a process, a timeout), so two workers a core
# keep the machine busy. Each worker starts with a quarter of the tests in this order, slowest
# folders first, and one that runs out takes half of another's queue. The unit tier alone runs in
# this process: starting workers would take longer than its tests.
_ORDER = ("integration", "e2e", "local_bot_api", "unit")


def pytest_xdist_auto_num_workers(config) -> int:
    unit = Path(__file__).parent / "unit"
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    if paths and all(path == unit or unit in path.parents for path in paths):
        return 0
    return 2 * (os.cpu_count() or 1)


def pytest_collection_modifyitems(items) -> None:
    def folder(item) -> int:
        parts = Path(item.fspath).relative_to(Path(__file__).parent).parts
        return _ORDER.index(parts[0]) if parts[0] in _ORDER else len(_ORDER)

    items.sort(key=folder)  # stable: within a folder, the files' own order


@pytest.fixture(params=backends())
async def db(request, tmp_path):
    async with fresh_database(request.param, tmp_path) as database:
        yield database


@pytest.fixture
def clock():
    # A Monday, 06:00 in Almaty (UTC+5), two hours before the Khorgos post opens at 08:00.
    return FrozenClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))


@pytest.fixture
async def tg():
    """The local Bot API server, with Telegram's limits."""
    from local_bot_api import BotAPIServer

    server = BotAPIServer(TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings_overrides() -> dict:
    """Settings a test needs other than config.yaml's: `@pytest.mark.parametrize("settings_overrides",
    [{"flood": {"updates": 1000}}])` gives them to its `nobat`."""
    return {}


@pytest.fixture
def flood_clock():
    """The time the bot's flood limit counts in: None, the wall's (a simulated day gives its own)."""
    return None


@pytest.fixture
def manual_outbox() -> bool:
    """Whether the test drives the outbox's sender itself (`nobat.outbox.run_once()`), instead of
    the sender working by itself as in `nobat run`."""
    return False


@pytest.fixture
async def nobat(tg, db, clock, settings_overrides, flood_clock, manual_outbox):
    """The whole bot, polling the local Bot API server, over the test database (and Redis if set)."""
    import random

    from bot.app import App
    from bot.config import load_settings

    prefix = f"nobat-test-{uuid.uuid4().hex[:8]}"
    settings = load_settings(bot_token=TOKEN, telegram_api_url=tg.base_url, redis_prefix=prefix, **settings_overrides)
    app = await App.create(settings, clock=clock, rng=random.Random(1), db=db, manual_workers=True,
                           manual_outbox=manual_outbox, flood_clock=flood_clock)
    await app.start(polling_timeout=1)
    in_flight = app.dispatcher["support_relay"].in_flight

    async def settle(chat_id: int) -> None:
        """A tap is answered before its screen is drawn: wait, as a driver's eyes would, for the
        bot to be done with the chat."""
        async with asyncio.timeout(30):
            while chat_id in in_flight.busy:
                await asyncio.sleep(0.005)

    tg.settle = settle
    yield app
    tg.settle = None
    if app.redis is not None:
        keys = [key async for key in app.redis.scan_iter(f"{prefix}:*")]
        if keys:
            await app.redis.delete(*keys)
    await app.stop()


@pytest.fixture
def drivers(tg, nobat):
    """Simulated Telegram users: drivers("fa") is a new driver whose app speaks Persian."""

    def make(language: str | None = "ru", first_name: str = "Driver"):
        return tg.user(next(_user_ids), first_name=first_name, language_code=language)

    return make


def redis_configured() -> bool:
    return bool(os.environ.get("REDIS_URL"))

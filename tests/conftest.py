from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.clock import FrozenClock
from tests.databases import backends, fresh_database


@pytest.fixture(params=backends())
async def db(request, tmp_path):
    async with fresh_database(request.param, tmp_path) as database:
        yield database


@pytest.fixture
def clock():
    # A Monday morning in Almaty (UTC+5), before the Khorgos post opens at 08:00.
    return FrozenClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))

"""Who hears of a truck: the accounts that follow its plate."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from services.container import Services
from services.notices.tables import Follow
from services.rules import BookingRules
from tests.integration.test_booking_engine import KHORGOS


@pytest.fixture
def services(db, clock):
    return Services.build(db, [KHORGOS], BookingRules(), clock, rng=random.Random(7))


async def follows(services) -> set[tuple[int, str, str]]:
    async with services.db.reading() as session:
        return {tuple(row) for row in await session.execute(select(Follow.account_id, Follow.plate, Follow.source))}


async def test_an_account_follows_the_trucks_it_adds_and_stops_when_it_removes_one(services):
    for account_id in (1, 2):
        await services.accounts.ensure(account_id, "Driver", "ru")
    first = (await services.trucks.add(1, "123 ABC 02")).truck
    await services.trucks.add(1, "777 KZX 01")
    await services.trucks.add(2, "123abc02")  # a dispatcher adds the same truck
    assert await follows(services) == {(1, "123ABC02", "own"), (1, "777KZX01", "own"), (2, "123ABC02", "own")}
    await services.trucks.remove(1, first.id)
    assert await follows(services) == {(1, "777KZX01", "own"), (2, "123ABC02", "own")}

"""Who hears of a truck: the accounts that follow its plate."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from services.accounts.follow_tables import Follow
from services.container import Services
from services.kernel.rules import BookingRules
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


async def register(services, plate: str, phone: str) -> None:
    from services.accounts.follow_tables import RegisteredTruck

    async with services.db.transaction() as session:
        session.add(RegisteredTruck(plate=plate, phone=phone, registered_at=services.clock.now()))


async def test_sharing_a_phone_follows_the_trucks_the_border_system_registered_with_it(services):
    await services.accounts.ensure(1, "Driver", "ru")
    await services.trucks.add(1, "123 ABC 02")
    await register(services, "777KZX01", "77012345678")
    await register(services, "555KZX01", "77019999999")  # somebody else's
    shared = await services.follows.share_phone(1, "+7 701 234 56 78")
    assert shared.phone == "77012345678" and shared.linked == ("777KZX01",)
    assert await follows(services) == {(1, "123ABC02", "own"), (1, "777KZX01", "phone")}
    assert [(f.plate, f.own, f.following) for f in await services.follows.followable(1)] == [
        ("123ABC02", True, True), ("777KZX01", False, True)]
    assert (await services.follows.share_phone(1, "not a phone")).phone is None


async def test_unfollowing_is_one_step_and_only_a_plate_with_a_claim_can_be_followed_again(services):
    await services.accounts.ensure(1, "Driver", "ru")
    await services.trucks.add(1, "123 ABC 02")
    await register(services, "777KZX01", "77012345678")
    await services.follows.share_phone(1, "77012345678")
    assert await services.follows.set_following(1, "123ABC02", False)
    assert await services.follows.set_following(1, "777KZX01", False)
    assert await follows(services) == set()
    assert [f.following for f in await services.follows.followable(1)] == [False, False], "still listed, muted"
    assert await services.follows.set_following(1, "777KZX01", True)
    assert await services.follows.set_following(1, "123ABC02", True)
    # A forged button naming someone else's plate follows nothing.
    assert not await services.follows.set_following(1, "555KZX01", True)
    assert await follows(services) == {(1, "123ABC02", "own"), (1, "777KZX01", "phone")}


async def test_a_failed_statement_names_no_phone_or_name_in_its_error(services, clock):
    """Its error goes to the log: the statement is there, its parameters are not."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from services.accounts.follow_tables import AccountPhone
    from services.storage.models import Account

    account = {"id": 9, "first_name": "Zhanargul", "language": "kk", "created_at": clock.now()}
    with pytest.raises(IntegrityError) as failure:  # one account twice
        async with services.db.transaction() as session:
            await session.execute(insert(Account), [account, account])
    assert "INSERT INTO accounts" in str(failure.value) and "Zhanargul" not in str(failure.value)
    await services.accounts.ensure(9, "Zhanargul", "kk")
    row = {"account_id": 9, "phone": "77015550101", "shared_at": clock.now()}
    with pytest.raises(IntegrityError) as failure:  # its phone twice
        async with services.db.transaction() as session:
            await session.execute(insert(AccountPhone), [row, row])
    assert "account_phones" in str(failure.value) and "77015550101" not in str(failure.value)

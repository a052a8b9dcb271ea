"""Rescheduling in the engine, on SQLite and PostgreSQL: one transaction takes the new place and
frees the old one, re-arms the reminder, and counts once as a hold against the limits."""

from __future__ import annotations

import asyncio
import random
from datetime import time, timedelta

import pytest
from sqlalchemy import select, update

from services.booking.reschedules import RescheduleOutcome
from services.booking.takes import TakeOutcome
from services.container import Services
from services.kernel.rules import BookingRules, Checkpoint
from services.storage.models import Account, Release, Reservation, Slot
from tests.integration.test_booking_engine import KHORGOS, driver

RULES = BookingRules(max_active_holds=2, max_holds_per_hour=3)
ROOMY = Checkpoint(code="khorgos", names=KHORGOS.names, timezone="Asia/Almaty", slot_minutes=30,
                   trucks_per_slot=1, opens=time(8), closes=time(20), horizon_days=3, lead_minutes=60)


@pytest.fixture
def services(db, clock):
    return Services.build(db, [ROOMY], RULES, clock, rng=random.Random(7))


async def booked(services, account_id: int, plate: str):
    truck = await driver(services, account_id, plate)
    offer = await services.calendar.first_free(ROOMY)
    hold = (await services.booking.take(account_id, truck.id, offer.slot_id)).hold
    return truck, (await services.booking.confirm(account_id, hold.id)).booking


async def day_slots(services, offset: int) -> list[int]:
    day = services.calendar.horizon_days(ROOMY)[offset]
    return [offer.slot_id for offer in await services.calendar.day_slots(ROOMY, day)]


async def test_a_reschedule_moves_the_booking_and_rearms_its_reminder(services, db):
    truck, booking = await booked(services, 1, "123ABC02")
    async with db.transaction() as session:
        await session.execute(update(Reservation).values(reminded_at=booking.starts_at - timedelta(hours=3)))
    before = await services.fairness.rating(1, services.clock.now())
    target = (await day_slots(services, 1))[2]
    result = await services.booking.reschedule(1, booking.id, target)
    assert result.outcome is RescheduleOutcome.MOVED and result.previous == booking.starts_at
    assert (result.booking.id, result.booking.ref, result.booking.slot_id) == (booking.id, booking.ref, target)
    async with db.reading() as session:
        row = await session.get(Reservation, booking.id)
        assert row.reminded_at is None and row.day == ROOMY.local_day(result.booking.starts_at)
        [release] = list(await session.scalars(select(Release)))
        assert release.slot_id == booking.slot_id and release.release_at > services.clock.now()
        assert await session.scalar(select(Slot.taken).where(Slot.id == target)) == 1
    after = await services.fairness.rating(1, services.clock.now())
    assert (after.taken, after.decided, after.confirmed) == (before.taken, before.decided, before.confirmed)
    # The old place is not free before its release time: nobody can take it meanwhile.
    other = await driver(services, 2, "555KZA01")
    refused = await services.booking.take(2, other.id, booking.slot_id)
    assert refused.outcome is TakeOutcome.SLOT_FULL


async def test_two_drivers_rescheduling_into_the_last_place_never_overfill_it(services, db):
    _, first = await booked(services, 1, "123ABC02")
    _, second = await booked(services, 2, "555KZA01")
    target = (await day_slots(services, 2))[0]
    results = await asyncio.gather(services.booking.reschedule(1, first.id, target),
                                   services.booking.reschedule(2, second.id, target))
    assert sorted(r.outcome.value for r in results) == ["moved", "slot_full"]
    loser = next(r for r in results if r.outcome is RescheduleOutcome.SLOT_FULL)
    assert loser.booking.slot_id in (first.slot_id, second.slot_id), "the driver keeps the booking"
    async with db.reading() as session:
        assert await session.scalar(select(Slot.taken).where(Slot.id == target)) == 1


async def test_a_reschedule_counts_once_against_the_hourly_limit_and_a_paused_account_moves_nothing(services, db,
                                                                                                   clock):
    truck, booking = await booked(services, 1, "123ABC02")  # a booking: not counted (booked now)
    targets = await day_slots(services, 1)
    for n in range(RULES.max_holds_per_hour):
        assert (await services.booking.reschedule(1, booking.id, targets[n])).outcome is RescheduleOutcome.MOVED
    refused = await services.booking.reschedule(1, booking.id, targets[5])
    assert refused.outcome is RescheduleOutcome.HOURLY_LIMIT and refused.booking.slot_id == targets[2]
    # Counted for Next too: the same hourly limit.
    other_day = (await day_slots(services, 2))[0]
    assert (await services.booking.take(1, truck.id, other_day)).outcome is TakeOutcome.HOURLY_LIMIT
    clock.set(refused.until + timedelta(seconds=1))
    assert (await services.booking.reschedule(1, booking.id, targets[5])).outcome is RescheduleOutcome.MOVED
    async with db.transaction() as session:
        until = clock.now() + timedelta(days=1)
        await session.execute(update(Account).where(Account.id == 1).values(banned_until=until))
    banned = await services.booking.reschedule(1, booking.id, targets[6])
    assert banned.outcome is RescheduleOutcome.BANNED and banned.booking.slot_id == targets[5]

"""Reminders are claimed once, whoever asks at the same moment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.integration.test_booking_engine import KHORGOS, driver, services  # noqa: F401  (fixture)


async def test_two_workers_asking_at_once_remind_each_booking_once(services, clock):  # noqa: F811
    booked = []
    for account in range(1, 5):
        truck = await driver(services, account, f"{account:03d}KZ01")
        offer = await services.calendar.first_free(KHORGOS)
        hold = (await services.booking.take(account, truck.id, offer.slot_id)).hold
        booked.append((await services.booking.confirm(account, hold.id)).booking.id)
    assert await services.reminders.due(timedelta(hours=1)) == [], "08:00 is two hours away"
    clock.advance(timedelta(hours=1, minutes=31))  # 07:31: the 08:00 and 08:30 times are within the hour
    first, second = await asyncio.gather(services.reminders.due(timedelta(hours=1)),
                                         services.reminders.due(timedelta(hours=1)))
    reminded = [r.booking.id for r in first + second]
    assert sorted(reminded) == sorted(booked), "each once, none twice"
    assert await services.reminders.due(timedelta(hours=1)) == []


async def book(services, account: int, plate: str) -> int:  # noqa: F811  (the fixture, passed in)
    truck = await driver(services, account, plate)
    offer = await services.calendar.first_free(KHORGOS)
    hold = (await services.booking.take(account, truck.id, offer.slot_id)).hold
    return (await services.booking.confirm(account, hold.id)).booking.id


async def test_a_booking_is_reminded_inside_the_window_unless_it_was_made_inside_it(services, clock):  # noqa: F811
    window = timedelta(minutes=90)  # 06:30 for the 08:00 time
    early = await book(services, 1, "001KZ01")  # at 06:00, before the window
    assert await services.reminders.due(window) == [], "at 06:00 the 08:00 time is two hours away"
    clock.advance(timedelta(minutes=40))
    late = await book(services, 2, "002KZ01")  # at 06:40, the same 08:00 time, inside its window
    clock.advance(timedelta(minutes=5))
    assert [r.booking.id for r in await services.reminders.due(window)] == [early], "the late one has just booked"
    assert await services.reminders.due(window) == [], "each booking is looked at once"
    assert late != early

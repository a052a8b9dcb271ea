"""The bot's own reminder before a booked time: a new message with "I'm on my way" and "Cancel
booking", sent once, in the driver's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.storage.models import Reservation, ReservationStatus
from tests.story import open_offer, t

# The post opens at 08:00 in Almaty, two hours after the tests' 06:00: a one-hour reminder is due at 07:00.
ONE_HOUR = pytest.mark.parametrize("settings_overrides", [{"notices": {"reminder_hours": 1}}])
TWO_HOURS = pytest.mark.parametrize("settings_overrides", [{"notices": {"reminder_hours": 2}}])


async def book(driver) -> str:
    await open_offer(driver)
    await driver.tap(t(driver.language_code, "Next ▶"))
    booked = await driver.tap(t(driver.language_code, "✅ Confirm"))
    return booked


async def status(nobat) -> ReservationStatus:
    async with nobat.db.reading() as session:
        return ReservationStatus(await session.scalar(select(Reservation.status)))


@ONE_HOUR
async def test_a_booked_driver_is_reminded_once_and_can_say_they_are_on_the_way(drivers, nobat, clock):
    driver = drivers("kk")
    await book(driver)
    await nobat.workers.tick()
    assert t("kk", "🚚 I'm on my way") not in driver.last_message().button_texts, "not yet: two hours before"
    clock.advance(timedelta(hours=1, seconds=1))
    await nobat.workers.tick()
    reminder = await driver.wait_for(lambda m: t("kk", "🚚 I'm on my way") in m.button_texts)
    assert "08:00" in reminder.text and "123 ABC 02" in reminder.text
    await nobat.workers.tick()
    assert len([m for m in driver.bot_messages() if t("kk", "🚚 I'm on my way") in m.button_texts]) == 1
    await driver.tap(t("kk", "🚚 I'm on my way"), message=reminder)
    assert t("kk", "🚚 Have a safe journey! Show the reference at the checkpoint.") in driver.last_message().text
    assert await status(nobat) is ReservationStatus.BOOKED


@ONE_HOUR
async def test_cancel_booking_on_the_reminder_asks_first_then_cancels(drivers, nobat, clock):
    driver = drivers("fa")
    await book(driver)
    clock.advance(timedelta(hours=1, seconds=1))
    await nobat.workers.tick()
    reminder = await driver.wait_for(lambda m: t("fa", "Cancel booking") in m.button_texts)
    await driver.tap(t("fa", "Cancel booking"), message=reminder)
    assert await status(nobat) is ReservationStatus.BOOKED, "a second tap confirms"
    await driver.tap(t("fa", "Yes, cancel"))
    assert await status(nobat) is ReservationStatus.CANCELLED


@TWO_HOURS
async def test_a_booking_made_inside_the_reminders_window_is_not_reminded(drivers, nobat, clock):
    # The window opens two hours before the time; the hour of lead time leaves the post's first
    # time, 08:00, open to a booking made after 06:00, inside its window.
    driver = drivers("ru")
    clock.advance(timedelta(minutes=10))
    await book(driver)
    assert "08:00" in driver.last_message().text, "the first time, whose window opened at 06:00"
    await nobat.workers.tick()  # 06:10: due, and claimed, but made within the window
    clock.advance(timedelta(hours=1))
    await nobat.workers.tick()
    assert not [m for m in driver.bot_messages() if t("ru", "🚚 I'm on my way") in m.button_texts]

"""A driver sees every hold in /mybookings, and is never shown a time that Next would refuse."""

from __future__ import annotations

from sqlalchemy import select

from handlers.booking.callbacks import DayCb
from services.storage.models import Reservation, ReservationStatus
from tests.story import open_offer, t, tn


async def _reservation(nobat) -> Reservation:
    async with nobat.db.reading() as session:
        [row] = list(await session.scalars(select(Reservation).execution_options(populate_existing=True)))
    return row


async def test_a_hold_is_listed_in_mybookings_and_confirmed_from_there(drivers, nobat):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Next ▶"))
    hold_message = driver.last_message()
    [when] = [line for line in hold_message.text.splitlines() if "08:00 (Алматы)" in line]

    listing = await driver.send("/mybookings")
    assert "08:00 (Алматы)" in listing.text and "123 ABC 02" in listing.text
    assert tn("ru", "Held: confirm within {minutes} minute", "Held: confirm within {minutes} minutes",
              15).format(minutes=15) in listing.text
    await driver.tap(t("ru", "✅ Confirm {time}").format(time="08:00 · 123 ABC 02"))

    ref = (await _reservation(nobat)).ref
    assert ref and ref in driver.last_message().text
    # The hold's own message no longer offers Confirm or counts down: it says booked too.
    booked_there = await driver.wait_for(lambda m: m.message_id == hold_message.message_id and ref in m.text)
    assert t("ru", "✅ Confirm") not in booked_there.button_texts
    assert when in booked_there.text.splitlines(), "the time as the hold said it, 'today' or 'tomorrow' too"
    assert ref in (await driver.send("/mybookings")).text


async def test_a_hold_cancelled_from_mybookings_is_gone_everywhere(drivers, nobat):
    driver = drivers("fa")
    await open_offer(driver)
    await driver.tap(t("fa", "Next ▶"))
    hold_message = driver.last_message()
    listing = await driver.send("/mybookings")
    await driver.tap(t("fa", "Cancel hold {time}").format(time="۰۸:۰۰ · \u2068123 ABC 02\u2069"))
    cancelled = t("fa", "Hold cancelled, nothing was booked. /book — start again")
    # The list shows its page again, without the hold; the hold's own message says it was cancelled.
    await driver.wait_for(lambda m: m.message_id == listing.message_id and m.text == t(
        "fa", "You have no holds or upcoming bookings. /book — book a crossing time"))
    await driver.wait_for(lambda m: m.message_id == hold_message.message_id and m.text == cancelled)
    assert (await _reservation(nobat)).status == ReservationStatus.CANCELLED
    assert (await driver.send("/mybookings")).text == t(
        "fa", "You have no holds or upcoming bookings. /book — book a crossing time")


async def test_the_first_free_time_skips_the_day_the_truck_already_has(drivers, nobat):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Next ▶"))
    await driver.tap(t("ru", "✅ Confirm"))  # Monday 08:00 at Khorgos

    await driver.send("/book")
    await driver.tap("Хоргос")
    offer = driver.last_message()
    assert "завтра, 24 ноября, 08:00 (Алматы)" in offer.text, "Monday is taken by this truck already"
    await driver.tap(t("ru", "Other time"))
    days = driver.last_message().button_texts
    # Monday is listed as this truck's, not bookable (its alert: tests/e2e/test_holds_said_once.py).
    assert days[0] == "23 нояб., пн · бронь на 08:00" and days[1].startswith("24 нояб.")
    # A day button kept from before the booking is refused as Next would be.
    [truck] = await nobat.services.trucks.list(driver.user_id)
    answer = await driver.tap_data(DayCb(checkpoint="khorgos", truck_id=truck.id, day="2026-11-23").pack(),
                                   offer.message_id)
    assert answer.show_alert and "123 ABC 02" in answer.text and "/mybookings" in answer.text


async def test_a_time_picked_under_other_time_is_shown_as_the_chosen_one(drivers):
    driver = drivers("kk")
    await open_offer(driver)
    await driver.tap(t("kk", "Other time"))
    await driver.tap(driver.last_message().button_texts[1])  # Tuesday
    await driver.tap("10:30 · 20")
    offer = driver.last_message()
    assert t("kk", "Chosen time: <b>{when}</b>").split("<b>")[0] in offer.text
    assert "10:30 (Алматы)" in offer.text
    assert t("kk", "First free time: <b>{when}</b>").split("<b>")[0] not in offer.text

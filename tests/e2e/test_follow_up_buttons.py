"""A message that ends a step and names the command for what comes next carries that command as a
button too: tapped, it opens what the command opens, in a new message, leaving the step the driver
was in as the command would; tapped twice, or on a message too old to be seen, it opens it afresh."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.common.follow_ups import Go, GoCb
from services.storage.models import Reservation
from tests.border import SECRET, Border, event
from tests.story import open_offer, register, t

API = {"api": {"secret": SECRET, "port": 0}}
WITH_THE_BORDER = pytest.mark.parametrize("settings_overrides", [API])


def book_again(language: str) -> str:
    return t(language, "📅 Book again")


def book(language: str) -> str:
    return "📅 " + t(language, "Book a crossing time")


def my_bookings(language: str) -> str:
    return "📋 " + t(language, "My bookings")


def my_trucks(language: str) -> str:
    return "🚛 " + t(language, "My trucks")


async def booked_ref(nobat) -> str:
    async with nobat.db.reading() as session:
        return await session.scalar(select(Reservation.ref).order_by(Reservation.id.desc()).limit(1))


async def test_booked_offers_my_bookings_and_another_booking_and_keeps_its_reference(drivers, nobat):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Next ▶"))
    await driver.tap(t("ru", "✅ Confirm"))
    booked = driver.last_message()
    ref = await booked_ref(nobat)
    assert booked.button_texts == [my_bookings("ru"), book_again("ru")]

    await driver.tap(my_bookings("ru"), message=booked.message_id)
    listing = driver.last_message()
    assert listing.message_id != booked.message_id and ref in listing.text
    assert t("ru", "🔁 Other time {ref}").format(ref=ref) in listing.button_texts
    await driver.tap(book_again("ru"), message=booked.message_id)
    assert driver.last_message().text == t("ru", "Choose the checkpoint:")
    await driver.tap(book_again("ru"), message=booked.message_id)  # twice: a fresh /book again
    again = driver.last_message()
    assert again.text == t("ru", "Choose the checkpoint:")
    assert ref in driver.find(booked.message_id).text, "the booking's message stays as it was"
    await driver.tap("Достык", message=again.message_id)
    assert t("ru", "Next ▶") in driver.find(again.message_id).button_texts


async def test_a_hold_cancelled_or_a_booking_stopped_offers_book_again(drivers):
    driver = drivers("kk")
    offer = await open_offer(driver)
    await driver.tap(t("kk", "Next ▶"))
    await driver.tap(t("kk", "Cancel"))
    cancelled = driver.find(offer.message_id)
    assert cancelled.text == t("kk", "Hold cancelled, nothing was booked. /book — start again")
    assert cancelled.button_texts == [book_again("kk")]
    await driver.tap(book_again("kk"), message=offer.message_id)
    fresh = driver.last_message()
    assert fresh.message_id != offer.message_id and fresh.text == t("kk", "Choose the checkpoint:")

    await driver.tap("Қорғас", message=fresh.message_id)
    await driver.tap(t("kk", "Cancel"), message=fresh.message_id)
    stopped = driver.find(fresh.message_id)
    assert stopped.text == t("kk", "Booking stopped, nothing was reserved. /book — start again")
    await driver.tap(book_again("kk"), message=fresh.message_id)
    assert driver.last_message().text == t("kk", "Choose the checkpoint:")


async def test_stopped_offers_the_booking_where_it_was_left(drivers):
    driver = drivers("fa")
    await driver.send("/start")
    await driver.send("/book")
    stopped = await driver.send("/cancel")
    assert stopped.text == t("fa", "Stopped. /book — book a crossing time")
    assert stopped.button_texts == [book("fa")]
    await driver.send("/trucks")
    await driver.tap(t("fa", "➕ Add truck"))  # a step: the plate is asked
    await driver.tap(book("fa"), message=stopped.message_id)
    asked = driver.last_message()
    assert asked.text.startswith(t("fa", "First add your truck.")), "no truck yet: /book asks for it"
    await driver.send("123ABC02")
    await driver.tap(t("fa", "Skip"))
    assert driver.last_message().text == t("fa", "Choose the checkpoint:"), "and books on, as /book does"


async def test_a_truck_added_offers_the_booking_and_too_many_trucks_offers_the_list(drivers, nobat):
    driver = drivers("ru")
    await register(driver, "111AAA01")
    await driver.send("/trucks")
    await driver.tap(t("ru", "➕ Add truck"))
    question = await driver.send("222BBB02")
    await driver.tap(t("ru", "Skip"), message=question.message_id)
    await driver.tap(book("ru"), message=question.message_id)
    assert driver.last_message().text == t("ru", "Choose the checkpoint:")

    for n in range(100, 148):  # the cap: 50 trucks
        assert (await nobat.services.trucks.add(driver.user_id, f"{n}ABC02")).truck is not None
    await driver.send("/trucks")
    await driver.tap(t("ru", "➕ Add truck"))
    refused = await driver.send("333CCC03")
    assert refused.text == t("ru", "You cannot add more trucks. Remove one in /trucks first.")
    assert refused.button_texts == [my_trucks("ru")]
    await driver.tap(my_trucks("ru"), message=refused.message_id)
    listing = driver.last_message()
    assert listing.message_id != refused.message_id and "111 AAA 01" in listing.text
    assert t("ru", "➕ Add truck") in listing.button_texts


async def test_a_booking_moved_in_mybookings_offers_the_list_again(drivers, nobat):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Next ▶"))
    await driver.tap(t("ru", "✅ Confirm"))
    ref = await booked_ref(nobat)
    listing = await driver.send("/mybookings")
    await driver.tap(t("ru", "🔁 Other time {ref}").format(ref=ref), message=listing.message_id)
    await driver.tap(driver.find(listing.message_id).button_texts[1], message=listing.message_id)  # Tuesday
    await driver.tap("10:30 · 20", message=listing.message_id)
    moved = driver.find(listing.message_id)
    assert moved.button_texts == [my_bookings("ru")]
    await driver.tap(my_bookings("ru"), message=listing.message_id)
    again = driver.last_message()
    assert again.message_id != listing.message_id and ref in again.text and "10:30" in again.text


async def test_no_bookings_and_a_new_language_offer_the_booking(drivers):
    driver = drivers("kk")
    await driver.send("/start")
    empty = await driver.send("/mybookings")
    assert empty.button_texts == [book("kk")]
    await driver.send("/language")
    await driver.tap("Русский")
    changed = driver.bot_messages()[-2]
    assert changed.text == t("ru", "Language changed. /book — book a crossing time")
    assert changed.button_texts == [book("ru")]
    await driver.tap(book("ru"), message=changed.message_id)
    assert driver.last_message().text.startswith(t("ru", "First add your truck."))


async def test_stopped_while_a_hold_runs_offers_mybookings_to_confirm_it(drivers, nobat):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Next ▶"))
    stopped = await driver.send("/cancel")
    assert stopped.button_texts[-1] == my_bookings("ru")
    await driver.tap(my_bookings("ru"), message=stopped.message_id)
    listing = driver.last_message()
    assert listing.message_id != stopped.message_id
    await driver.tap(t("ru", "✅ Confirm {time}").format(time="08:00 · 123 ABC 02"), message=listing.message_id)
    assert await booked_ref(nobat)


async def test_a_follow_up_on_a_message_too_old_to_be_seen_opens_afresh(drivers):
    driver = drivers("ru")
    await register(driver)
    # Telegram gives the tap of a message it no longer shows the bot as an "inaccessible" one.
    await driver.tap_data(GoCb(to=Go.BOOK).pack(), 999_999)
    assert driver.last_message().text == t("ru", "Choose the checkpoint:")
    await driver.tap_data(GoCb(to=Go.BOOKINGS).pack(), 999_999)
    assert driver.last_message().text == t("ru", "You have no holds or upcoming bookings. /book — book a crossing time")


@WITH_THE_BORDER
async def test_a_booking_the_checkpoint_moved_or_cancelled_offers_what_comes_next(drivers, nobat):
    border = Border(f"http://127.0.0.1:{nobat.api_port}")
    driver = drivers("fa")
    await open_offer(driver)
    await driver.tap(t("fa", "Next ▶"))
    await driver.tap(t("fa", "✅ Confirm"))
    ref = await booked_ref(nobat)
    status, _ = await border.post_event(event("kh-1", type="booking_moved", plate=None, booking_ref=ref,
                                              details={"new_time": "2026-11-23T10:00:00+05:00"}))
    assert status == 202
    await nobat.outbox.drain()
    moved = next(m for m in reversed(driver.bot_messages()) if "10:00" in m.text_digits_latin and m.buttons)
    assert moved.button_texts == [my_bookings("fa")]
    await driver.tap(my_bookings("fa"), message=moved.message_id)
    assert ref in driver.last_message().text

    status, _ = await border.post_event(event("kh-2", type="booking_cancelled", plate=None, booking_ref=ref))
    assert status == 202
    await nobat.outbox.drain()
    cancelled = next(m for m in reversed(driver.bot_messages())
                     if t("fa", "Your booking was cancelled by the checkpoint.") in m.text)
    assert cancelled.button_texts == [book_again("fa")]
    await driver.tap(book_again("fa"), message=cancelled.message_id)
    assert driver.last_message().text == t("fa", "Choose the checkpoint:")

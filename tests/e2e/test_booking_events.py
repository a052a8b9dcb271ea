"""What a driver sees when the border system moves or cancels a booking, calls the truck with a
deadline, or says it arrived: the border posts signed events over HTTP, the bot tells the driver
through the local Bot API server, and /mybookings and the reminder follow the booking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.storage.models import Reservation
from tests.border import SECRET, Border, event
from tests.story import open_offer, t, tn

API = {"api": {"secret": SECRET, "port": 0}}
ONE_HOUR = pytest.mark.parametrize("settings_overrides", [{**API, "notices": {"reminder_hours": 1}}])
ON_WAY = "🚚 I'm on my way"


@pytest.fixture
def settings_overrides() -> dict:
    return API


@pytest.fixture
def border(nobat) -> Border:
    return Border(f"http://127.0.0.1:{nobat.api_port}")


async def book(driver, nobat) -> str:
    """The driver books the first free time at Khorgos (08:00 on Monday); its reference."""
    await open_offer(driver)
    await driver.tap(t(driver.language_code, "Next ▶"))
    await driver.tap(t(driver.language_code, "✅ Confirm"))
    async with nobat.db.reading() as session:
        return await session.scalar(select(Reservation.ref).order_by(Reservation.id.desc()).limit(1))


async def told(nobat, driver) -> list:
    await nobat.outbox.drain()
    return driver.bot_messages()


def shown(driver, message):
    """The message as it is now (a card is edited in place)."""
    return next(m for m in driver.bot_messages() if m.message_id == message.message_id)


def reminders(driver) -> list:
    return [m for m in driver.bot_messages() if t(driver.language_code, ON_WAY) in m.button_texts]


@ONE_HOUR
async def test_a_moved_booking_moves_in_mybookings_and_is_reminded_at_its_new_time(drivers, nobat, border, clock):
    driver = drivers("ru")
    ref = await book(driver, nobat)
    status, answer = await border.post_event(event("kh-1", type="booking_moved", plate=None, booking_ref=ref,
                                                   details={"new_time": "2026-11-23T10:00:00+05:00"}))
    assert (status, answer["booking_moved"]) == (202, True), answer
    notice = (await told(nobat, driver))[-1]
    assert t("ru", "Your booking was moved to {time}.").split("{time}")[0] in notice.text and "10:00" in notice.text
    listing = await driver.send("/mybookings")
    assert ref in listing.text and "10:00" in listing.text and "08:00" not in listing.text
    clock.advance(timedelta(hours=1, seconds=1))  # 07:00: an hour before the old time
    await nobat.workers.tick()
    assert reminders(driver) == [], "the old time is not reminded"
    clock.advance(timedelta(hours=2))  # 09:00: an hour before the new time
    await nobat.workers.tick()
    [reminder] = reminders(driver)
    assert "10:00" in reminder.text and ref in reminder.text


@ONE_HOUR
async def test_a_booking_reminded_and_then_moved_is_reminded_again_of_its_new_time(drivers, nobat, border, clock):
    driver = drivers("kk")
    ref = await book(driver, nobat)
    clock.advance(timedelta(hours=1, seconds=1))
    await nobat.workers.tick()
    [first] = reminders(driver)
    assert "08:00" in first.text
    status, _ = await border.post_event(event("kh-2", type="booking_moved", plate=None, booking_ref=ref,
                                              details={"new_time": "2026-11-23T12:00:00+05:00"}))
    assert status == 202
    await told(nobat, driver)
    clock.advance(timedelta(hours=4))  # 11:00: an hour before the new time
    await nobat.workers.tick()
    again = reminders(driver)
    assert len(again) == 2 and "12:00" in again[1].text and ref in again[1].text


async def test_a_move_the_border_cannot_make_is_refused_and_the_driver_hears_nothing(drivers, nobat, border):
    driver = drivers("fa")
    ref = await book(driver, nobat)
    before = len(await told(nobat, driver))
    status, answer = await border.post_event(event("kh-3", type="booking_moved", plate=None, booking_ref=ref,
                                                   details={"new_time": "2026-11-23T22:00:00+05:00"}))
    assert (status, answer["error"]) == (422, "outside_schedule")
    assert len(await told(nobat, driver)) == before, "not told of a move that did not happen"
    listing = await driver.send("/mybookings")
    assert "08:00" in listing.text_digits_latin


async def test_a_cancellation_naming_the_plate_tells_only_of_a_booking_it_cancelled(drivers, nobat, border):
    booked, idle = drivers("fa"), drivers("ru")
    ref = await book(booked, nobat)
    await open_offer(idle, plate="555 KZA 01")  # a truck the queue knows, with no booking
    cancelled = event("kh-4", type="booking_cancelled", details={"reason": "Road closed"})
    status, answer = await border.post_event(cancelled)
    assert (status, answer["booking_cancelled"], answer["booking_ref"]) == (202, True, ref), answer
    messages = await told(nobat, booked)
    assert t("fa", "Your booking was cancelled by the checkpoint.") in messages[-1].text
    assert (await booked.send("/mybookings")).text == t(
        "fa", "You have no holds or upcoming bookings. /book — book a crossing time")
    before = (len(booked.bot_messages()), len(idle.bot_messages()))
    for n, plate in enumerate(["123 ABC 02", "555 KZA 01"]):  # no booking left, or none ever
        status, answer = await border.post_event({**cancelled, "event_id": f"kh-5{n}", "plate": plate})
        assert (status, answer["booking_cancelled"], answer["deliveries"]) == (202, False, 0), answer
    await nobat.outbox.drain()
    assert (len(booked.bot_messages()), len(idle.bot_messages())) == before, "nobody told 'cancelled'"


@pytest.mark.parametrize("language", ["kk", "ru", "fa"])
async def test_arrived_is_the_waiting_area_and_a_call_says_how_long_to_the_gate(drivers, nobat, border, language):
    driver = drivers(language)
    await open_offer(driver)
    before = len(driver.bot_messages())
    arrived = event("kh-6", type="arrived", occurred_at="2026-11-23T06:01:00+05:00", details={})
    assert (await border.post_event(arrived))[0] == 202
    [card] = (await told(nobat, driver))[before:]
    assert t(language, "Arrived at the waiting area") in card.text
    called = event("kh-7", details={"gate": "3", "deadline": "2026-11-23T06:25:00+05:00"})  # 20 minutes after
    assert (await border.post_event(called))[0] == 202
    await told(nobat, driver)
    # The call rings as a new message after the card's edit, in its turn of the chat's one a second.
    go = t(language, "Go to the checkpoint {checkpoint} now.").split("{checkpoint}")[0]
    call = await driver.wait_for(lambda m: go in m.text, timeout=10)
    within = tn(language, "Reach the gate within {count} minute, by {time}.",
                "Reach the gate within {count} minutes, by {time}.", 20)
    assert within.split("{count}")[0] in call.text
    assert "20" in call.text_digits_latin and "06:25" in call.text_digits_latin
    assert t(language, "Go to the checkpoint {checkpoint} now.").split("{checkpoint}")[0] in call.text


async def test_the_card_forgets_the_gate_once_the_booking_moved(drivers, nobat, border):
    driver = drivers("ru")
    ref = await book(driver, nobat)
    assert (await border.post_event(event("kh-8", plate=None, booking_ref=ref, details={"gate": "7"})))[0] == 202
    card = (await told(nobat, driver))[-2]
    assert t("ru", "Gate {gate}").format(gate=7) in card.text
    moved = event("kh-9", type="booking_moved", plate=None, booking_ref=ref, occurred_at="2026-11-23T06:10:00+05:00",
                  details={"new_time": "2026-11-24T09:00:00+05:00"})
    assert (await border.post_event(moved))[0] == 202
    await told(nobat, driver)
    card = shown(driver, card)
    assert t("ru", "Booking moved") in card.text and t("ru", "Gate {gate}").format(gate=7) not in card.text

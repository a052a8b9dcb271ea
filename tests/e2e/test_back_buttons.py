"""◀ Back on every step of a conversation after the first: the booking (checkpoint, truck, the time
shown, its days and times), adding a truck (plate, trailer), moving a booking (days); each in the
message it is on, with the step it goes back to as the conversation's step again. The hold has no
Back: a hold is left by its Cancel only, and a Back tapped on a phone still showing the time after
Next shows the hold again."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from handlers.common.states import BookingFlow, TruckFlow
from services.storage.models import Reservation, ReservationStatus
from tests.story import add_truck, open_offer, register, t

BACK = "◀ Back"
STALE = "This button is no longer valid."
# Taps as fast as a test makes them, more than the flood limit lets one driver make in its window.
MANY_TAPS = pytest.mark.parametrize("settings_overrides", [{"flood": {"updates": 1000}}])


async def step(nobat, driver) -> str | None:
    """The conversation's step the bot keeps for this driver."""
    key = StorageKey(bot_id=nobat.bot.id, chat_id=driver.user_id, user_id=driver.user_id)
    return await nobat.dispatcher.storage.get_state(key)


def plain(text: str) -> str:
    return text.replace("<b>", "").replace("</b>", "").replace("<code>", "").replace("</code>", "")


@MANY_TAPS
async def test_each_booking_step_goes_back_to_the_one_before_in_the_same_message(drivers, nobat):
    dispatcher = drivers("ru")
    await register(dispatcher, "111AAA01")
    await add_truck(dispatcher, "222BBB02")
    here = (await dispatcher.send("/book")).message_id
    sent = len(dispatcher.bot_messages())

    def shown():
        return dispatcher.find(here)

    assert BACK not in shown().button_texts, "the first step has nothing to go back to"
    await dispatcher.tap("Хоргос", message=here)
    await dispatcher.tap("222 BBB 02", message=here)
    await dispatcher.tap(t("ru", "Other time"), message=here)
    await dispatcher.tap(shown().button_texts[1], message=here)  # Tuesday
    await dispatcher.tap("10:30 · 20", message=here)
    assert plain(t("ru", "Chosen time: <b>{when}</b>")).split(":")[0] in shown().text and "10:30" in shown().text

    await dispatcher.tap(t("ru", BACK), message=here)
    assert "10:30 · 20" in shown().button_texts and "24 ноября" in shown().text, "the times of that day"
    await dispatcher.tap(t("ru", "◀ Days"), message=here)
    assert shown().button_texts[1].startswith("24 нояб.") and shown().button_texts[-2:] == [t("ru", BACK),
                                                                                             t("ru", "Cancel")]
    await dispatcher.tap(t("ru", BACK), message=here)
    first_free = plain(t("ru", "First free time: <b>{when}</b>")).format(when="сегодня, 23 ноября, 08:00 (Алматы)")
    assert first_free in shown().text and "222 BBB 02" in shown().text
    assert await step(nobat, dispatcher) == BookingFlow.choosing_time.state
    await dispatcher.tap(t("ru", BACK), message=here)
    assert shown().text == t("ru", "{checkpoint}: which truck?").format(checkpoint="Хоргос")
    assert shown().button_texts == ["111 AAA 01", "222 BBB 02", t("ru", BACK)]
    await dispatcher.tap(t("ru", BACK), message=here)
    assert shown().text == t("ru", "Choose the checkpoint:") and BACK not in shown().button_texts
    assert await step(nobat, dispatcher) == BookingFlow.choosing_checkpoint.state
    assert len(dispatcher.bot_messages()) == sent, "every step in the one message"

    await dispatcher.tap("Достык", message=here)
    await dispatcher.tap("111 AAA 01", message=here)
    assert "Достык" in shown().text and t("ru", "Next ▶") in shown().button_texts


async def test_with_one_truck_back_from_the_first_free_time_is_the_checkpoints(drivers, nobat):
    driver = drivers("kk")
    offer = await open_offer(driver)
    await driver.tap(t("kk", BACK), message=offer.message_id)
    assert driver.find(offer.message_id).text == t("kk", "Choose the checkpoint:")
    assert await step(nobat, driver) == BookingFlow.choosing_checkpoint.state
    await driver.tap("Достық", message=offer.message_id)
    assert "Достық" in driver.find(offer.message_id).text


async def test_a_back_tapped_on_a_phone_still_showing_the_time_after_next_shows_the_hold_again(drivers, nobat):
    driver = drivers("ru")
    offer = await open_offer(driver)
    slow_phone = {text: data for row in offer.buttons for text, data in row}  # the time's buttons, as they were
    await driver.tap(t("ru", "Next ▶"))
    hold = driver.find(offer.message_id)
    assert hold.button_texts == [t("ru", "✅ Confirm"), t("ru", "Cancel")], "the hold has no Back"
    sent = len(driver.bot_messages())
    for label in (BACK, "Other time", "Cancel"):
        await driver.tap_data(slow_phone[t("ru", label)], offer.message_id)
        still = driver.find(offer.message_id)
        assert plain(t("ru", "⏳ <b>This time is held for you</b>")) in still.text, label
        assert still.button_texts == [t("ru", "✅ Confirm"), t("ru", "Cancel")], label
    assert len(driver.bot_messages()) == sent
    async with nobat.db.reading() as session:
        assert await session.scalar(select(Reservation.status)) == ReservationStatus.HELD
    await driver.tap(t("ru", "✅ Confirm"), message=offer.message_id)
    async with nobat.db.reading() as session:
        assert await session.scalar(select(Reservation.status)) == ReservationStatus.BOOKED


async def test_back_on_the_trailers_question_asks_the_plate_again_and_the_mistyped_truck_is_gone(drivers, nobat):
    driver = drivers("kk")
    await register(driver, "111AAA01")
    await driver.send("/trucks")
    await driver.tap(t("kk", "➕ Add truck"))
    question = await driver.send("222BBB02")  # a typo
    assert question.button_texts == [t("kk", "Skip"), t("kk", BACK)]
    await driver.tap(t("kk", BACK), message=question.message_id)
    asked = driver.find(question.message_id)
    assert asked.text == plain(t("kk", "Send the truck's plate number, for example <code>123ABC02</code>."))
    assert not asked.buttons
    assert await step(nobat, driver) == TruckFlow.entering_plate.state
    await driver.send("333CCC03")
    await driver.tap(t("kk", "Skip"))
    listing = await driver.send("/trucks")
    assert "333 CCC 03" in listing.text and "111 AAA 01" in listing.text
    assert "222 BBB 02" not in listing.text


async def test_back_from_the_first_trucks_trailer_keeps_the_way_on_to_the_booking(drivers):
    driver = drivers("fa")
    await driver.send("/start")
    await driver.send("/book")
    question = await driver.send("999ZZZ01")
    await driver.tap(t("fa", BACK), message=question.message_id)
    assert driver.find(question.message_id).text.startswith(t("fa", "First add your truck."))
    await driver.send("123ABC02")
    await driver.tap(t("fa", "Skip"))
    assert driver.last_message().text == t("fa", "Choose the checkpoint:")


async def test_back_on_a_trailers_question_left_behind_keeps_its_truck(drivers):
    driver = drivers("ru")
    await register(driver, "111AAA01")
    await driver.send("/trucks")
    await driver.tap(t("ru", "➕ Add truck"))
    question = await driver.send("222BBB02")
    await driver.send("/cancel")
    answer = await driver.tap(t("ru", BACK), message=question.message_id)
    assert answer.show_alert and answer.text == t("ru", STALE)
    assert not driver.find(question.message_id).buttons
    assert "222 BBB 02" in (await driver.send("/trucks")).text


async def test_back_from_the_days_to_move_a_booking_shows_the_page_that_lists_it(drivers, nobat):
    dispatcher = drivers("ru")
    await dispatcher.send("/start")
    services, refs = nobat.services, []
    for i in range(10):
        truck = (await services.trucks.add(dispatcher.user_id, f"{100 + i}ABC02")).truck
        offer = await services.calendar.first_free(services.checkpoints["khorgos"])
        hold = (await services.booking.take(dispatcher.user_id, truck.id, offer.slot_id)).hold
        refs.append((await services.booking.confirm(dispatcher.user_id, hold.id)).booking.ref)
    listing = await dispatcher.send("/mybookings")
    await dispatcher.tap("▶", message=listing.message_id)
    page_two = t("ru", "Page {page} of {pages}").format(page=2, pages=2)
    other_time = t("ru", "🔁 Other time {ref}").format(ref=refs[-1])
    assert page_two in dispatcher.find(listing.message_id).text
    await dispatcher.tap(other_time, message=listing.message_id)
    days = dispatcher.find(listing.message_id)
    assert days.button_texts[-2:] == [t("ru", BACK), t("ru", "Cancel")]
    await dispatcher.tap(t("ru", BACK), message=listing.message_id)
    back = dispatcher.find(listing.message_id)
    assert page_two in back.text and refs[-1] in back.text and other_time in back.button_texts

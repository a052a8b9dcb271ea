"""A hold's end is said once, and no Confirm looks alive after it; the hold says today or tomorrow
and when to confirm by; the day a truck has its time already is shown in "Other time"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.common.holds import HoldAction, HoldCb
from services.storage.models import Reservation, ReservationStatus
from tests.story import open_offer, t

EXPIRED = "⌛ Your hold has expired, nothing was booked. The time went back to the queue."


async def _hold(nobat) -> Reservation:
    async with nobat.db.reading() as session:
        [row] = list(await session.scalars(select(Reservation).execution_options(populate_existing=True)))
    return row


async def _held_and_warned(driver, nobat, clock):
    """A hold taken at 06:00, and its warning three minutes before its end."""
    await open_offer(driver)
    await driver.tap(t(driver.language_code, "Next ▶"))
    hold_message = driver.last_message()
    clock.advance(timedelta(minutes=12, seconds=1))
    await nobat.workers.tick()
    warning = await driver.wait_for(lambda m: m.message_id > hold_message.message_id)
    assert t(driver.language_code, "✅ Confirm") in warning.button_texts
    return hold_message, warning


def _said(driver, text: str) -> list:
    return [m for m in driver.bot_messages() if m.text.startswith(text)]


async def test_an_expired_hold_is_said_once_and_a_stale_confirm_gets_an_alert(drivers, nobat, clock):
    driver = drivers("ru")
    hold_message, warning = await _held_and_warned(driver, nobat, clock)
    hold_text, warning_text = hold_message.text, warning.text
    clock.advance(timedelta(minutes=3))
    await nobat.workers.tick()
    expired = await driver.wait_for(lambda m: m.message_id > warning.message_id)
    await driver.wait_idle()
    assert [m.message_id for m in _said(driver, t("ru", EXPIRED))] == [expired.message_id], driver.transcript()
    assert expired.button_texts == [t("ru", "Start again")], "a new message, which rings"
    for message, text in ((hold_message, hold_text), (warning, warning_text)):
        shown = driver.find(message.message_id)
        assert shown.buttons == [] and shown.text == text, "buttons gone, the news not said again"

    # A Confirm tapped anyway on the warning (kept by a slow app) books nothing and says so in an alert.
    hold_id = (await _hold(nobat)).id
    answer = await driver.tap_data(HoldCb(action=HoldAction.CONFIRM, hold_id=hold_id).pack(), warning.message_id)
    assert answer.show_alert and answer.text == t("ru", EXPIRED)
    answer = await driver.tap_data(HoldCb(action=HoldAction.CANCEL, hold_id=hold_id).pack(), hold_message.message_id)
    assert answer.show_alert and answer.text == t("ru", EXPIRED)
    await driver.wait_idle()
    assert len(_said(driver, t("ru", EXPIRED))) == 1 and driver.last_message().message_id == expired.message_id
    assert driver.find(warning.message_id).text == warning_text
    assert (await _hold(nobat)).status == ReservationStatus.EXPIRED


async def test_a_confirm_that_finds_the_hold_just_ran_out_says_it_once(drivers, nobat, clock):
    """Past its end, before the expiry worker came by: the tapped warning tells, and nobody else."""
    driver = drivers("kk")
    hold_message, warning = await _held_and_warned(driver, nobat, clock)
    clock.advance(timedelta(minutes=3))
    await driver.tap(t("kk", "✅ Confirm"), message=warning)
    told = driver.find(warning.message_id)
    assert told.text == t("kk", EXPIRED) and told.button_texts == [t("kk", "Start again")]
    await driver.wait_for(lambda m: m.message_id == hold_message.message_id and not m.buttons)
    await nobat.workers.tick()
    await driver.wait_idle()
    assert [m.message_id for m in _said(driver, t("kk", EXPIRED))] == [warning.message_id], driver.transcript()
    assert driver.last_message().message_id == warning.message_id


async def test_confirming_on_the_hold_takes_the_warnings_buttons_away(drivers, nobat, clock):
    driver = drivers("fa")
    hold_message, warning = await _held_and_warned(driver, nobat, clock)
    warning_text = warning.text
    await driver.tap(t("fa", "✅ Confirm"), message=hold_message)
    ref = (await _hold(nobat)).ref
    assert ref and ref in driver.find(hold_message.message_id).text
    stale = await driver.wait_for(lambda m: m.message_id == warning.message_id and not m.buttons)
    assert stale.text == warning_text
    # Its Confirm tapped anyway (a slow app): the same booking, shown where it was tapped.
    await driver.tap_data(HoldCb(action=HoldAction.CONFIRM, hold_id=(await _hold(nobat)).id).pack(),
                          warning.message_id)
    assert (await _hold(nobat)).ref == ref


async def test_cancelling_the_hold_takes_the_warnings_buttons_away(drivers, nobat, clock):
    driver = drivers("ru")
    hold_message, warning = await _held_and_warned(driver, nobat, clock)
    await driver.tap(t("ru", "Cancel"), message=hold_message)
    cancelled = t("ru", "Hold cancelled, nothing was booked. /book — start again")
    assert driver.find(hold_message.message_id).text == cancelled
    await driver.wait_for(lambda m: m.message_id == warning.message_id and not m.buttons)
    answer = await driver.tap_data(HoldCb(action=HoldAction.CONFIRM, hold_id=(await _hold(nobat)).id).pack(),
                                   warning.message_id)
    assert answer.show_alert and answer.text == cancelled
    assert (await _hold(nobat)).status == ReservationStatus.CANCELLED


async def test_the_hold_says_today_and_when_to_confirm_by(drivers):
    driver = drivers("ru")
    offer = await open_offer(driver)
    assert "сегодня, 23 ноября, 08:00 (Алматы)" in offer.text  # 06:00 on Monday in Almaty now
    await driver.tap(t("ru", "Next ▶"))
    lines = driver.last_message().text.split("\n")
    assert "Хоргос, сегодня, 23 ноября, 08:00 (Алматы)" in lines
    assert "Подтвердите до 06:15 (осталось 15 мин)" in lines


async def test_the_day_the_truck_is_booked_is_listed_with_its_time(drivers, nobat):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Next ▶"))
    await driver.tap(t("ru", "✅ Confirm"))  # Monday 08:00 at Khorgos
    await driver.send("/book")
    await driver.tap("Хоргос")
    assert "завтра, 24 ноября, 08:00 (Алматы)" in driver.last_message().text, "Monday is this truck's already"
    await driver.tap(t("ru", "Other time"))
    days = driver.last_message()
    assert days.button_texts[:2] == ["23 нояб., пн · бронь на 08:00", "24 нояб., вт · 480"], days.button_texts
    answer = await driver.tap("23 нояб., пн · бронь на 08:00")
    assert answer.show_alert and "123 ABC 02" in answer.text and "08:00" in answer.text and "/mybookings" in answer.text
    assert driver.last_message().message_id == days.message_id and driver.last_message().text == days.text

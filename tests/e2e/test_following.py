"""Which trucks send their notices to a chat: the bells of /trucks, and linking the trucks the
border system registered with the driver's phone through Telegram's contact button."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.trucks.callbacks import FollowCb
from services.accounts.follow_tables import AccountPhone, Follow, RegisteredTruck
from tests.story import register, t


async def followed(nobat, account_id: int) -> set[tuple[str, str]]:
    async with nobat.db.reading() as session:
        return {tuple(row) for row in await session.execute(
            select(Follow.plate, Follow.source).where(Follow.account_id == account_id))}


async def registered(nobat, plate: str, phone: str) -> None:
    async with nobat.db.transaction() as session:
        session.add(RegisteredTruck(plate=plate, phone=phone, registered_at=nobat.services.clock.now()))


async def test_an_own_truck_sends_its_notices_until_muted_with_one_tap(drivers, nobat):
    driver = drivers("ru")
    await register(driver)
    listing = await driver.send("/trucks")
    assert "123 ABC 02 🔔" in listing.text
    await driver.tap("123 ABC 02 🔔")  # the truck's menu
    await driver.tap(t("ru", "🔕 Mute {plate}").format(plate="123 ABC 02"))
    muted = driver.last_message()
    assert muted.message_id == listing.message_id and t("ru", "🔕 Its status notices are muted.") in muted.text
    assert await followed(nobat, driver.user_id) == set()
    await driver.tap(t("ru", "◀ Back"))
    assert "123 ABC 02 🔕" in driver.last_message().text and "123 ABC 02 🔕" in driver.last_message().button_texts
    await driver.tap("123 ABC 02 🔕")
    await driver.tap(t("ru", "🔔 Notices for {plate}").format(plate="123 ABC 02"))
    assert t("ru", "🔔 Its status notices come to this chat.") in driver.last_message().text
    await driver.tap(t("ru", "◀ Back"))
    assert "123 ABC 02 🔔" in driver.last_message().text
    assert await followed(nobat, driver.user_id) == {("123ABC02", "own")}


@pytest.mark.parametrize("language", ["kk", "ru", "fa"])
async def test_sharing_the_own_phone_links_the_trucks_registered_with_it(drivers, nobat, language):
    driver = drivers(language)
    await register(driver)
    await registered(nobat, "777KZX01", driver.phone_number)
    await registered(nobat, "555KZX01", "77010000000")  # another driver's
    await driver.send("/trucks")
    asked = await driver.tap(t(language, "📱 Link trucks by my phone"))
    asked = driver.last_message()
    assert t(language, "📱 Share my phone number") in asked.reply_buttons
    linked = await driver.tap(t(language, "📱 Share my phone number"))  # Telegram sends the own contact
    assert "777" in linked.text_digits_latin and "555" not in linked.text_digits_latin
    assert (linked.reply_markup or {}).get("remove_keyboard") is True
    assert await followed(nobat, driver.user_id) == {("123ABC02", "own"), ("777KZX01", "phone")}
    listing = await driver.send("/trucks")
    assert t(language, "<b>Registered with your phone</b>").replace("<b>", "").replace("</b>", "") in listing.text
    [phone_truck] = [text for text in listing.button_texts if "KZX" in text]
    await driver.tap(phone_truck)  # its menu
    assert t(language, "🔕 Mute {plate}").split("{")[0] in " ".join(driver.last_message().button_texts)


async def test_someone_elses_contact_links_nothing(drivers, nobat):
    driver = drivers("ru")
    await register(driver)
    await registered(nobat, "777KZX01", "77012345678")
    answer = await driver.send_contact("+7 701 234 56 78", own=False)
    assert answer.text == t("ru", "Only your own number can be linked: tap «Share my phone number» below.")
    async with nobat.db.reading() as session:
        assert await session.scalar(select(AccountPhone.phone).where(AccountPhone.account_id == driver.user_id)) is None
    assert await followed(nobat, driver.user_id) == {("123ABC02", "own")}


async def test_not_now_takes_the_contact_keyboard_away(drivers):
    driver = drivers("ru")
    await register(driver)
    await driver.send("/trucks")
    await driver.tap(t("ru", "📱 Link trucks by my phone"))
    answer = await driver.tap(t("ru", "Not now"))
    assert answer.text == t("ru", "Fine. You can link trucks by phone later in /trucks.")
    assert (answer.reply_markup or {}).get("remove_keyboard") is True


async def test_a_forged_button_cannot_follow_another_drivers_truck(drivers, nobat):
    owner, other = drivers("ru"), drivers("ru")
    await register(owner, "777KZX01")
    await register(other)
    listing = await other.send("/trucks")
    answer = await other.tap_data(FollowCb(on=True, plate="777KZX01").pack(), listing.message_id)
    assert answer.text == t("ru", "This button is no longer valid.") and answer.show_alert
    assert await followed(nobat, other.user_id) == {("123ABC02", "own")}

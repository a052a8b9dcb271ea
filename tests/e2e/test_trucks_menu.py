"""/trucks on a phone: one short button per truck, in pages, each opening the truck's menu (its
notices, its trailer added, changed or removed, the truck removed); and Skip answering the
trailer's question in place."""

from __future__ import annotations

import json

from sqlalchemy import select

from handlers.trucks.callbacks import MenuAction, MenuCb, PhoneAction, PhoneTruckCb
from services.accounts.follow_tables import Follow, RegisteredTruck
from services.audit.trail import AuditRecord
from tests.story import add_truck, register, t

STALE = "This button is no longer valid."
UNDERSTOOD = "I did not understand. /book — book a crossing time, /help — help"
TELEGRAMS_LIMIT = 100  # inline buttons in one keyboard


async def more_trucks(nobat, driver, count: int, start: int = 100) -> None:
    for n in range(start, start + count):
        assert (await nobat.services.trucks.add(driver.user_id, f"{n}ABC02")).truck is not None


async def registered(nobat, plate: str, phone: str) -> None:
    async with nobat.db.transaction() as session:
        session.add(RegisteredTruck(plate=plate, phone=phone, registered_at=nobat.services.clock.now()))


async def followed(nobat, account_id: int) -> set[str]:
    async with nobat.db.reading() as session:
        return set((await session.scalars(select(Follow.plate).where(Follow.account_id == account_id))).all())


def payloads(message) -> list[str]:
    return [data for row in message.buttons for _text, data in row]


async def test_fifty_trucks_and_those_of_the_phone_come_in_pages_of_short_buttons(drivers, nobat):
    dispatcher = drivers("ru")
    await register(dispatcher, "111AAA01")
    await more_trucks(nobat, dispatcher, 49)  # the cap: 50 trucks
    for plate in ("777KZX01", "778KZX01", "779KZX01"):
        await registered(nobat, plate, dispatcher.phone_number)
    await nobat.services.follows.share_phone(dispatcher.user_id, dispatcher.phone_number)
    listing = await dispatcher.send("/trucks")
    pages = 7  # 53 trucks, 8 a page
    seen: list[str] = []
    for page in range(1, pages + 1):
        shown = dispatcher.find(listing.message_id)
        assert t("ru", "Page {page} of {pages}").format(page=page, pages=pages) in shown.text
        assert len(payloads(shown)) <= 12 < TELEGRAMS_LIMIT
        assert all(len(data.encode()) <= 64 for data in payloads(shown))
        trucks = [text for text in shown.button_texts if text.endswith(("🔔", "🔕"))]
        assert len(trucks) == (8 if page < pages else 5)
        assert shown.button_texts[-2:] == [t("ru", "➕ Add truck"), t("ru", "📱 Link trucks by my phone")]
        seen += trucks
        if page < pages:
            await dispatcher.tap("▶", message=listing.message_id)
    assert seen[0] == "111 AAA 01 🔔" and seen[-3:] == ["777 KZX 01 🔔", "778 KZX 01 🔔", "779 KZX 01 🔔"]
    assert len(set(seen)) == 53
    assert t("ru", "<b>Registered with your phone</b>").replace("<b>", "").replace("</b>", "") \
        in dispatcher.find(listing.message_id).text
    await dispatcher.tap("◀", message=listing.message_id)
    assert t("ru", "Page {page} of {pages}").format(page=6, pages=7) in dispatcher.find(listing.message_id).text


async def test_a_trucks_menu_adds_changes_and_removes_its_trailer_and_goes_back_to_its_page(drivers, nobat):
    dispatcher = drivers("ru")
    await register(dispatcher, "111AAA01")
    await more_trucks(nobat, dispatcher, 9)  # ten trucks: two pages
    listing = await dispatcher.send("/trucks")
    await dispatcher.tap("▶")
    await dispatcher.tap("108 ABC 02 🔔")
    menu = dispatcher.last_message()
    assert menu.message_id == listing.message_id, "the menu in place of the list"
    assert menu.text.startswith(t("ru", "<b>Truck {plate}</b>").format(plate="108 ABC 02")[3:-4])
    assert t("ru", "No trailer") in menu.text and t("ru", "✖ Remove trailer") not in menu.button_texts
    await dispatcher.tap(t("ru", "🚛 Add trailer"))
    assert dispatcher.last_message().text == t("ru", "Send the trailer's plate number for truck {plate}.").format(
        plate="108 ABC 02")
    await dispatcher.send("88 TR 02")
    changed = await dispatcher.wait_for(lambda m: m.message_id > listing.message_id)  # the menu, below the plate
    assert t("ru", "Trailer: {plate}").format(plate="88 TR 02") in changed.text
    assert t("ru", "🚛 Change trailer") in changed.button_texts
    assert not dispatcher.find(listing.message_id).buttons, "the question's Back is gone once the trailer is typed"
    truck = next(truck for truck in await nobat.services.trucks.list(dispatcher.user_id) if truck.plate == "108ABC02")
    assert truck.trailer_plate == "88TR02"
    # Another trailer, with the same check as when the truck was added.
    await dispatcher.tap(t("ru", "🚛 Change trailer"))
    refused = await dispatcher.send("?!")
    assert refused.text.startswith(t("ru", "This does not look like a plate number. Send only letters and digits, "
                                           "for example <code>123ABC02</code>. /cancel — stop").split(".")[0])
    await dispatcher.send("77 TR 02")
    again = await dispatcher.wait_for(lambda m: m.message_id > refused.message_id)
    assert t("ru", "Trailer: {plate}").format(plate="77 TR 02") in again.text
    await dispatcher.tap(t("ru", "✖ Remove trailer"))
    dropped = dispatcher.find(again.message_id)
    assert t("ru", "No trailer") in dropped.text and t("ru", "🚛 Add trailer") in dropped.button_texts
    assert (await nobat.services.trucks.get(dispatcher.user_id, truck.id)).trailer_plate is None
    async with nobat.db.reading() as session:
        trail = (await session.execute(select(AuditRecord.result, AuditRecord.details).where(
            AuditRecord.action == "truck.trailer", AuditRecord.subject == f"truck:{truck.id}")
            .order_by(AuditRecord.id))).all()
    assert [(result, json.loads(details)["trailer_plate"]) for result, details in trail] == [
        ("added", "88TR02"), ("added", "77TR02"), ("removed", None)]
    await dispatcher.tap(t("ru", "◀ Back"))
    back = dispatcher.find(again.message_id)
    assert t("ru", "Page {page} of {pages}").format(page=2, pages=2) in back.text
    assert "108 ABC 02 🔔" in back.button_texts
    # Back in the list, typed text is no trailer any more.
    assert (await dispatcher.send("55 TR 02")).text == t("ru", UNDERSTOOD)
    assert (await nobat.services.trucks.get(dispatcher.user_id, truck.id)).trailer_plate is None


async def test_back_from_the_trailers_question_leaves_the_truck_as_it_was(drivers, nobat):
    driver = drivers("kk")
    await register(driver)
    listing = await driver.send("/trucks")
    await driver.tap("123 ABC 02 🔔")
    await driver.tap(t("kk", "🚛 Add trailer"))
    await driver.tap(t("kk", "◀ Back"))
    assert t("kk", "No trailer") in driver.find(listing.message_id).text
    assert (await driver.send("88 TR 02")).text == t("kk", UNDERSTOOD)
    [truck] = await nobat.services.trucks.list(driver.user_id)
    assert truck.trailer_plate is None


async def test_removing_from_the_menu_is_confirmed_and_no_keeps_the_menu(drivers, nobat):
    dispatcher = drivers("ru")
    await register(dispatcher, "111AAA01")
    await add_truck(dispatcher, "222BBB02")
    listing = await dispatcher.send("/trucks")
    await dispatcher.tap("222 BBB 02 🔔")
    await dispatcher.tap(t("ru", "🗑 Remove truck"))
    await dispatcher.tap(t("ru", "No"))
    kept = dispatcher.find(listing.message_id)
    assert t("ru", "🗑 Remove truck") in kept.button_texts and "222 BBB 02" in kept.text
    await dispatcher.tap(t("ru", "🗑 Remove truck"))
    await dispatcher.tap(t("ru", "Yes, remove"))
    after = dispatcher.find(listing.message_id)
    assert after.button_texts[0] == "111 AAA 01 🔔" and "222 BBB 02" not in after.text
    assert [truck.plate for truck in await nobat.services.trucks.list(dispatcher.user_id)] == ["111AAA01"]


async def test_a_stale_or_forged_menu_button_gets_the_alert_and_changes_nothing(drivers, nobat):
    dispatcher, other = drivers("ru"), drivers("ru")
    await register(dispatcher, "111AAA01")
    await add_truck(dispatcher, "222BBB02")
    await register(other, "333CCC03")
    listing = await dispatcher.send("/trucks")
    await dispatcher.tap("222 BBB 02 🔔")
    [_, gone] = await nobat.services.trucks.list(dispatcher.user_id)
    await nobat.services.trucks.remove(dispatcher.user_id, gone.id)  # from the dispatcher's other phone
    for button in (t("ru", "🔕 Mute {plate}").format(plate="222 BBB 02"), t("ru", "🚛 Add trailer"),
                   t("ru", "🗑 Remove truck")):
        answer = await dispatcher.tap(button, message=listing.message_id)
        assert answer.show_alert and answer.text == t("ru", STALE), button
    [theirs] = await nobat.services.trucks.list(other.user_id)
    for action in (MenuAction.OPEN, MenuAction.NOTICES_OFF, MenuAction.DROP_TRAILER):
        forged = MenuCb(action=action, truck_id=theirs.id, page=1).pack()
        answer = await dispatcher.tap_data(forged, listing.message_id)
        assert answer.show_alert and answer.text == t("ru", STALE), action
    forged = PhoneTruckCb(action=PhoneAction.NOTICES_ON, plate="333CCC03").pack()
    answer = await dispatcher.tap_data(forged, listing.message_id)
    assert answer.show_alert and answer.text == t("ru", STALE)
    assert await followed(nobat, dispatcher.user_id) == {"111AAA01"}
    assert await followed(nobat, other.user_id) == {"333CCC03"}


async def test_a_truck_registered_with_the_phone_has_its_own_menu(drivers, nobat):
    driver = drivers("fa")
    await register(driver)
    await registered(nobat, "777KZX01", driver.phone_number)
    await nobat.services.follows.share_phone(driver.user_id, driver.phone_number)
    listing = await driver.send("/trucks")
    [button] = [text for text in listing.button_texts if "KZX" in text]
    assert button.endswith("🔔")
    await driver.tap(button)
    menu = driver.find(listing.message_id)
    assert t("fa", "<b>Registered with your phone</b>").replace("<b>", "").replace("</b>", "") in menu.text
    await driver.tap(t("fa", "🔕 Mute {plate}").split("{")[0].strip())
    assert t("fa", "🔕 Its status notices are muted.") in driver.find(listing.message_id).text
    assert await followed(nobat, driver.user_id) == {"123ABC02"}
    await driver.tap(t("fa", "◀ Back"))
    assert button.replace("🔔", "🔕") in driver.find(listing.message_id).button_texts


async def test_skip_answers_the_trailers_question_in_its_place(drivers, nobat):
    driver = drivers("ru")
    await register(driver)
    await driver.send("/trucks")
    await driver.tap(t("ru", "➕ Add truck"))
    question = await driver.send("222BBB02")
    await driver.tap(t("ru", "Skip"))
    answered = driver.find(question.message_id)
    assert answered.text == "\n".join([t("ru", "Truck {plate} is added, without a trailer.").format(plate="222 BBB 02"),
                                       t("ru", "/book — book a crossing time")])
    assert answered.button_texts == ["📅 " + t("ru", "Book a crossing time")], "Skip gone, /book a tap away"
    assert driver.last_message().message_id == question.message_id, "no second message saying it again"

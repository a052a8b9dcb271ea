"""/mybookings moves a booking to another time in one step, and confirms a listed hold without
taking the other entries' buttons away."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update

from handlers.bookings.callbacks import MoveCb, MoveDayCb
from services.audit.trail import AuditRecord
from services.storage.models import Release, Reservation, ReservationStatus, Slot
from tests.story import add_truck, open_offer, register, t

TUESDAY_1030 = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)  # 10:30 in Almaty
MONDAY_0800 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def plain(text: str) -> str:
    return text.replace("<b>", "").replace("</b>", "")


async def book(driver, nobat) -> Reservation:
    """The driver books the first free time at Khorgos: Monday 08:00."""
    await open_offer(driver)
    await driver.tap(t(driver.language_code, "Next ▶"))
    await driver.tap(t(driver.language_code, "✅ Confirm"))
    [row] = await reservations(nobat)
    return row


async def reservations(nobat) -> list[Reservation]:
    async with nobat.db.reading() as session:
        return list(await session.scalars(select(Reservation).order_by(Reservation.id)
                                          .execution_options(populate_existing=True)))


async def slot_at(nobat, starts_at: datetime) -> Slot:
    async with nobat.db.reading() as session:
        return await session.scalar(select(Slot).where(Slot.checkpoint == "khorgos", Slot.starts_at == starts_at)
                                    .execution_options(populate_existing=True))


async def records(nobat, result: str | None = None) -> int:
    query = select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "booking.reschedule")
    if result is not None:
        query = query.where(AuditRecord.result == result)
    async with nobat.db.reading() as session:
        return await session.scalar(query)


async def test_a_booking_moves_to_another_time_in_one_step_keeping_its_reference(drivers, nobat):
    driver = drivers("ru")
    booked = await book(driver, nobat)
    await driver.send("/mybookings")
    await driver.tap(t("ru", "🔁 Other time {ref}").format(ref=booked.ref))
    days = driver.last_message()
    assert days.button_texts[0].startswith("23 нояб."), "another time the same day is offered too"
    await driver.tap(days.button_texts[1])  # Tuesday
    times = driver.last_message()
    assert "08:00 · 20" in times.button_texts
    await driver.tap("10:30 · 20")
    moved = driver.last_message()
    assert plain(t("ru", "🔁 <b>Booking moved</b>")) in moved.text and booked.ref in moved.text
    assert "10:30" in moved.text and moved.button_texts == ["📋 " + t("ru", "My bookings")]

    [now] = await reservations(nobat)
    assert (now.id, now.ref, now.status) == (booked.id, booked.ref, ReservationStatus.BOOKED)
    new, old = await slot_at(nobat, TUESDAY_1030), await slot_at(nobat, MONDAY_0800)
    assert now.slot_id == new.id and new.taken == 1
    # The old place comes back through the release window, as a cancelled booking's does.
    assert old.taken == 1
    async with nobat.db.reading() as session:
        [release] = list(await session.scalars(select(Release)))
    assert (release.slot_id, release.reservation_id, release.released_at) == (old.id, booked.id, None)
    assert await records(nobat) == 1

    # A double tap: the same answer, nothing taken twice.
    pack = MoveCb(booking_id=booked.id, slot_id=new.id).pack()
    answer = await driver.tap_data(pack, moved.message_id)
    assert not answer.show_alert
    assert (await slot_at(nobat, TUESDAY_1030)).taken == 1 and await records(nobat, "moved") == 1
    listing = await driver.send("/mybookings")
    assert booked.ref in listing.text and "10:30" in listing.text and "08:00" not in listing.text


async def test_a_time_taken_gone_busy_or_forged_changes_nothing(drivers, nobat):
    driver, other = drivers("ru"), drivers("kk")
    booked = await book(driver, nobat)
    await driver.send("/mybookings")
    await driver.tap(t("ru", "🔁 Other time {ref}").format(ref=booked.ref))
    await driver.tap(driver.last_message().button_texts[1])  # Tuesday
    times = driver.last_message()
    tuesday = await slot_at(nobat, TUESDAY_1030)

    # Filled while the driver looked: told so, shown the days again, and the booking keeps its time.
    async with nobat.db.transaction() as session:
        await session.execute(update(Slot).where(Slot.id == tuesday.id).values(taken=Slot.capacity))
    answer = await driver.tap("10:30 · 20", message=times)
    assert answer.show_alert and answer.text == t("ru", "That time was just taken. Booking {ref} stays at {when}.")\
        .format(ref=booked.ref, when="понедельник, 23 ноября, 08:00 (Алматы)")
    assert driver.last_message().button_texts[0].startswith("23 нояб.")

    # Another driver's booking, named by a forged button: the stale-button alert.
    await register(other, "777KZA01")
    forged = await other.tap_data(MoveCb(booking_id=booked.id, slot_id=tuesday.id + 1).pack(),
                                  other.last_message().message_id)
    assert forged.show_alert and forged.text == t("kk", "This button is no longer valid.")

    # A day on which the truck has a hold already: not offered, and its buttons kept are refused.
    [truck] = await nobat.services.trucks.list(driver.user_id)
    wednesday = await slot_at(nobat, datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    assert (await nobat.services.booking.take(driver.user_id, truck.id, wednesday.id)).hold
    await driver.send("/mybookings")
    await driver.tap(t("ru", "🔁 Other time {ref}").format(ref=booked.ref))
    assert not any(day.startswith("25 нояб.") for day in driver.last_message().button_texts)
    day = await driver.tap_data(MoveDayCb(booking_id=booked.id, day="2026-11-25").pack(), times.message_id)
    assert day.show_alert and "123 ABC 02" in day.text
    busy = await driver.tap_data(MoveCb(booking_id=booked.id, slot_id=wednesday.id + 1).pack(), times.message_id)
    assert busy.show_alert and "123 ABC 02" in busy.text and booked.ref in busy.text

    first = (await reservations(nobat))[0]
    assert (first.slot_id, first.status) == (booked.slot_id, ReservationStatus.BOOKED)
    assert (await slot_at(nobat, MONDAY_0800)).taken == 1
    assert await records(nobat, "moved") == 0 and await records(nobat) == 3
    async with nobat.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Release)) == 0


async def test_confirming_one_listed_hold_keeps_the_other_holds_buttons(drivers, nobat):
    dispatcher = drivers("ru")
    await register(dispatcher, "111AAA01")
    await add_truck(dispatcher, "222BBB02")
    services = nobat.services
    for truck in await services.trucks.list(dispatcher.user_id):
        offer = await services.calendar.first_free(services.checkpoints["khorgos"])
        assert (await services.booking.take(dispatcher.user_id, truck.id, offer.slot_id)).hold
    listing = await dispatcher.send("/mybookings")
    confirm_first = t("ru", "✅ Confirm {time}").format(time="08:00 · 111 AAA 01")
    confirm_second = t("ru", "✅ Confirm {time}").format(time="08:00 · 222 BBB 02")
    assert {confirm_first, confirm_second} <= set(listing.button_texts)
    await dispatcher.tap(confirm_first, message=listing)
    ref = next(r.ref for r in await reservations(nobat) if r.ref)
    after = next(m for m in dispatcher.bot_messages() if m.message_id == listing.message_id)
    assert ref in after.text and "222 BBB 02" in after.text
    assert confirm_second in after.button_texts
    assert t("ru", "Cancel hold {time}").format(time="08:00 · 222 BBB 02") in after.button_texts
    assert confirm_first not in after.button_texts
    assert t("ru", "Cancel {ref}").format(ref=ref) in after.button_texts

"""Plates as their countries write them, and one truck followed by two accounts: the driver's and
the dispatcher's. Whoever taps Next first holds the day; the other is refused, and is never shown
that day again."""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.booking.callbacks import DayCb
from services.storage.models import Reservation
from tests.story import CHECKPOINT_NAMES, add_truck, open_offer, register, t

FSI, PDI = "\u2068", "\u2069"


async def test_the_dispatchers_next_on_a_plate_the_driver_just_held_is_refused(drivers, nobat):
    aibek, dispatcher = drivers("kk", "Айбек"), drivers("ru", "Диспетчер")
    # Both follow the truck 123ABC02, the dispatcher typing it in Cyrillic.
    dispatchers_offer = await open_offer(dispatcher, plate="123 АВС 02")
    assert "сегодня, 23 ноября, 08:00" in dispatchers_offer.text and "123 ABC 02" in dispatchers_offer.text
    await open_offer(aibek, plate="123ABC02")
    await aibek.tap(t("kk", "Next ▶"))  # the driver is quicker
    assert t("kk", "✅ Confirm") in aibek.last_message().button_texts

    answer = await dispatcher.tap(t("ru", "Next ▶"))
    assert answer.show_alert
    assert answer.text == t("ru", "Truck {plate} already has a time at {checkpoint} that day, held or booked from "
                                  "another Telegram account.").format(plate="123 ABC 02",
                                                                      checkpoint=CHECKPOINT_NAMES["khorgos"]["ru"])
    async with nobat.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Reservation)) == 1
    # Asked again, the dispatcher is shown Tuesday, and Monday is not among the other days.
    await dispatcher.send("/book")
    await dispatcher.tap(CHECKPOINT_NAMES["khorgos"]["ru"])
    assert "завтра, 24 ноября, 08:00 (Алматы)" in dispatcher.last_message().text
    await dispatcher.tap(t("ru", "Other time"))
    days = dispatcher.last_message().button_texts
    assert not any(day.startswith("23 нояб.") for day in days) and days[0].startswith("24 нояб.")
    # A Monday button kept from before is refused the same way, without the driver's time.
    [truck] = await nobat.services.trucks.list(dispatcher.user_id)
    kept = await dispatcher.tap_data(DayCb(checkpoint="khorgos", truck_id=truck.id, day="2026-11-23").pack(),
                                     dispatcher.last_message().message_id)
    assert kept.show_alert and kept.text == answer.text and "08:00" not in kept.text


async def test_a_persian_driver_adds_an_iranian_plate_typed_in_persian_digits(drivers, nobat):
    reza = drivers("fa", "رضا")
    await register(reza, "۱۲ ع ۳۴۵ ایران ۶۷")
    shown = f"{FSI}۱۲ ع ۳۴۵ ایران ۶۷{PDI}"
    [truck] = await nobat.services.trucks.list(reza.user_id)
    assert truck.plate == "12ع34567"
    saved = await reza.wait_for(lambda m: shown in m.text)
    assert saved.text == t("fa", "Truck {plate} is added, without a trailer.").format(plate=shown)
    listing = await reza.send("/trucks")
    assert shown in listing.text
    assert f"{shown} 🔔" in listing.button_texts  # the button that opens its menu
    # The plate copied from the bot's own message, isolates and all, is the same truck.
    await reza.tap(t("fa", "➕ Add truck"))
    again = await reza.send(shown)
    assert again.text == t("fa", "Truck {plate} is already in your list.").format(plate=shown)
    # In Russian the same plate reads left to right as on the plate, with Latin digits.
    await add_truck(reza, "34 ABC 123")
    await reza.send("/language")
    await reza.tap("Русский")
    listing = await reza.send("/trucks")
    assert "12 \u2068ع\u2069 345-67" in listing.text and "34 ABC 123" in listing.text

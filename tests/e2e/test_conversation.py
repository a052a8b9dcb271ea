"""The booking conversation end to end: simulated drivers talk to the real bot over HTTP through
the local Bot API server, in Kazakh, Russian and Persian."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handlers.booking.callbacks import OfferAction, OfferCb
from handlers.common.holds import HoldAction, HoldCb
from services.storage.models import Reservation, ReservationStatus
from tests.story import CHECKPOINT_NAMES, add_truck, open_offer, register, t


async def test_a_russian_driver_books_the_first_free_time(drivers, nobat):
    aigerim = drivers("ru", "Айгерим")
    welcome = await aigerim.send("/start")
    assert "Айгерим" in welcome.text and "/book" in welcome.text

    await aigerim.send("/book")
    assert t("ru", "Send the truck's plate number, for example <code>123ABC02</code>.").split(",")[0] \
        in aigerim.last_message().html
    added = await aigerim.send("123 аbc 02")  # a Cyrillic "а" typed by habit
    assert "123 ABC 02" in added.text
    await aigerim.tap(t("ru", "Skip"))
    assert CHECKPOINT_NAMES["khorgos"]["ru"] in aigerim.last_message().button_texts

    await aigerim.tap("Хоргос")
    offer = aigerim.last_message()
    # 06:00 in Almaty now; the post opens at 08:00 and the lead time is an hour.
    assert "сегодня, 23 ноября, 08:00" in offer.text  # Monday
    assert "123 ABC 02" in offer.text
    assert t("ru", "Next ▶") in offer.button_texts
    # Showing took nothing: still 20 places.
    async with nobat.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Reservation)) == 0

    await aigerim.tap(t("ru", "Next ▶"))
    held = aigerim.last_message()
    assert held.message_id == offer.message_id  # the same message, edited: one tidy thread
    # 06:00 now: until when, in the checkpoint's time (whose zone the crossing time names)
    assert "Подтвердите до 06:15 (осталось 15 мин)" in held.text.split("\n")
    assert t("ru", "✅ Confirm") in held.button_texts

    await aigerim.tap(t("ru", "✅ Confirm"))
    booked = aigerim.last_message()
    async with nobat.db.reading() as session:
        ref = await session.scalar(select(Reservation.ref))
    assert ref and ref in booked.text
    assert "08:00" in booked.text
    assert booked.button_texts == ["📋 " + t("ru", "My bookings"), t("ru", "📅 Book again")], "no Confirm left"

    listing = await aigerim.send("/mybookings")
    assert ref in listing.text and "Хоргос" in listing.text


async def test_persian_shows_solar_hijri_dates_persian_digits_and_isolated_plates(drivers):
    ali = drivers("fa", "علی")
    offer = await open_offer(ali)
    # 23 November 2026 is Monday 2 Azar 1405, today; 08:00 in Persian digits.
    assert "امروز، ۲ آذر" in offer.text
    assert "۰۸:۰۰" in offer.text
    assert "\u2068123 ABC 02\u2069" in offer.text
    assert "08:00" in offer.text_digits_latin
    await ali.tap(t("fa", "Next ▶"))
    assert "۱۵" in ali.last_message().text
    await ali.tap(t("fa", "✅ Confirm"))
    assert t("fa", "✅ <b>Booked</b>").replace("<b>", "").replace("</b>", "") in ali.last_message().text


async def test_kazakh_shows_cyrillic_gregorian_dates(drivers):
    aibek = drivers("kk", "Айбек")
    offer = await open_offer(aibek)
    assert "бүгін, 23 қараша, 08:00" in offer.text  # Monday
    assert t("kk", "Next ▶") in offer.button_texts


async def test_a_driver_whose_app_speaks_another_language_chooses_one(drivers):
    john = drivers("en", "John")
    choice = await john.send("/start")
    assert {"Қазақша", "Русский", "فارسی"} <= set(choice.button_texts)
    await john.tap("Қазақша")
    assert "/book" in john.last_message().text
    await john.send("/book")
    await john.send("555 XYZ 01")
    await john.tap(t("kk", "Skip"))
    assert john.last_message().text == t("kk", "Choose the checkpoint:")
    # /language switches at any time.
    await john.send("/language")
    await john.tap("Русский")
    assert (await john.send("/mybookings")).text == t("ru", "You have no holds or upcoming bookings. /book — book a crossing time")


async def test_commands_are_registered_for_each_language(tg, nobat):
    registered = {language for (_scope, language) in tg.commands}
    assert {"kk", "ru", "fa"} <= registered
    ru = {c["command"]: c["description"] for c in tg.commands[("all_private_chats", "ru")]}
    assert {"book", "mybookings", "trucks", "language", "help", "cancel"} <= set(ru)
    assert ru["book"] == t("ru", "Book a crossing time")


async def test_other_time_lists_days_and_slots_with_free_places(drivers):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Other time"))
    days = driver.last_message()
    assert len(days.button_texts) == 9  # the Khorgos horizon, Back and Cancel
    assert days.button_texts[-1] == t("ru", "Cancel")
    assert days.button_texts[0].endswith("· 480")  # 24 slots of 20 places on the first day
    await driver.tap(days.button_texts[1])
    slots = driver.last_message()
    assert "08:00 · 20" in slots.button_texts and "19:30 · 20" in slots.button_texts
    assert slots.buttons[-1] == [(t("ru", "◀ Days"), slots.buttons[-1][0][1]), (t("ru", "Cancel"), slots.buttons[-1][1][1])]
    await driver.tap("10:30 · 20")
    offer = driver.last_message()
    assert "завтра, 24 ноября, 10:30" in offer.text  # Tuesday
    await driver.tap(t("ru", "Next ▶"))
    assert "10:30" in driver.last_message().text and t("ru", "✅ Confirm") in driver.last_message().button_texts


async def test_cancel_on_the_day_list_leaves_the_booking(drivers, nobat):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Other time"))
    await driver.tap(t("ru", "Cancel"))
    assert driver.last_message().text == t("ru", "Booking stopped, nothing was reserved. /book — start again")
    async with nobat.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Reservation)) == 0


def _message(driver, message_id: int):
    return next(m for m in driver.messages if m.message_id == message_id)


async def test_a_hold_says_until_when_rings_before_it_ends_and_books_nothing_once_expired(drivers, nobat, clock):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Next ▶"))
    hold_message = driver.last_message()
    assert "Подтвердите до 06:15 (осталось 15 мин)" in hold_message.text  # 06:00 in Almaty now, a 15-minute hold
    edits = hold_message.edit_count  # the offer became the hold
    clock.advance(timedelta(minutes=5))
    await nobat.workers.tick()
    assert driver.last_message().message_id == hold_message.message_id \
        and _message(driver, hold_message.message_id).edit_count == edits, \
        "no edit while the minutes run: the message says until when"

    clock.advance(timedelta(minutes=7, seconds=1))
    await nobat.workers.tick()
    ending = await driver.wait_for(lambda m: m.message_id > hold_message.message_id and "3 минуты" in m.text)
    assert t("ru", "✅ Confirm") in ending.button_texts, "a new message, which rings, with Confirm"
    await nobat.workers.tick()
    assert len([m for m in driver.bot_messages() if "3 минуты" in m.text]) == 1, "told once"

    clock.advance(timedelta(minutes=3))
    await nobat.workers.tick()
    expired = await driver.wait_for(lambda m: m.message_id > ending.message_id
                                    and t("ru", "Start again") in m.button_texts)
    assert expired.text.startswith("⌛")
    assert _message(driver, hold_message.message_id).buttons == [], "the hold's own message lost its Confirm"
    # A Confirm tap that was on its way when the hold expired books nothing.
    hold_id = (await _only_reservation(nobat)).id
    answer = await driver.tap_data(HoldCb(action=HoldAction.CONFIRM, hold_id=hold_id).pack(), hold_message.message_id)
    assert answer is not None
    assert (await _only_reservation(nobat)).status == ReservationStatus.EXPIRED
    # Start again shows a fresh offer.
    await driver.tap(t("ru", "Start again"), message=expired)
    assert t("ru", "Next ▶") in driver.last_message().button_texts


async def test_confirm_on_the_ending_notice_books_and_updates_the_hold_message_too(drivers, nobat, clock):
    driver = drivers("kk")
    await open_offer(driver)
    await driver.tap(t("kk", "Next ▶"))
    hold_message = driver.last_message()
    clock.advance(timedelta(minutes=12, seconds=1))
    await nobat.workers.tick()
    ending = await driver.wait_for(lambda m: m.message_id > hold_message.message_id)
    await driver.tap(t("kk", "✅ Confirm"), message=ending)
    ref = (await _only_reservation(nobat)).ref
    assert ref in _message(driver, ending.message_id).text
    assert ref in _message(driver, hold_message.message_id).text, "the hold's message shows the booking too"


async def test_confirm_after_expiry_says_so_even_before_the_worker_runs(drivers, nobat, clock):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Next ▶"))
    clock.advance(timedelta(minutes=15))
    await driver.tap(t("ru", "✅ Confirm"))
    assert t("ru", "Start again") in driver.last_message().button_texts
    assert (await _only_reservation(nobat)).status == ReservationStatus.EXPIRED


async def test_double_and_triple_taps_book_once(drivers, nobat):
    driver = drivers("ru")
    offer = await open_offer(driver)
    next_data = next(data for text, data in offer.buttons[0])
    answers = [await driver.tap_data(next_data, offer.message_id) for _ in range(3)]
    assert all(a is not None and not a.show_alert for a in answers)
    hold_id = (await _only_reservation(nobat)).id
    confirm = HoldCb(action=HoldAction.CONFIRM, hold_id=hold_id).pack()
    for _ in range(3):
        await driver.tap_data(confirm, offer.message_id)
    row = await _only_reservation(nobat)
    assert row.status == ReservationStatus.BOOKED
    assert row.ref in driver.last_message().text


async def test_forged_buttons_cannot_touch_another_drivers_hold(drivers, nobat):
    owner, intruder = drivers("ru"), drivers("ru")
    await open_offer(owner, plate="111AAA01")
    await owner.tap(t("ru", "Next ▶"))
    hold = await _only_reservation(nobat)
    own_offer = await open_offer(intruder, plate="222BBB02")
    for action in (HoldAction.CONFIRM, HoldAction.CANCEL):
        answer = await intruder.tap_data(HoldCb(action=action, hold_id=hold.id).pack(), own_offer.message_id)
        assert answer.show_alert and answer.text == t("ru", "This button is no longer valid.")
    # Nor book with the owner's truck from the intruder's own offer.
    forged = OfferCb(action=OfferAction.NEXT, checkpoint="khorgos", truck_id=hold.truck_id, slot_id=hold.slot_id)
    answer = await intruder.tap_data(forged.pack(), own_offer.message_id)
    assert answer.show_alert
    assert (await _only_reservation(nobat)).status == ReservationStatus.HELD
    garbage = await intruder.tap_data("zz:not-ours", own_offer.message_id)
    assert garbage.show_alert and garbage.text == t("ru", "This button is no longer valid.")


async def test_wrong_input_gets_a_short_localized_answer(drivers):
    driver = drivers("fa")
    await open_offer(driver)
    assert (await driver.send("ساعت ۱۰ لطفا")).text == t("fa", "Please tap one of the buttons above, or /cancel to stop.")
    assert (await driver.send_sticker()).text == t("fa", "I can read only text and buttons. /help — help")
    assert (await driver.send_photo()).text == t("fa", "I can read only text and buttons. /help — help")
    assert (await driver.send("/frobnicate")).text == t("fa", "I do not know this command. /help — what I can do")
    assert (await driver.send("/cancel")).text == t("fa", "Stopped. /book — book a crossing time"), \
        "a command the bot does not know leaves no step"
    assert (await driver.send("سلام")).text == t("fa", "I did not understand. /book — book a crossing time, /help — help")
    help_text = (await driver.send("/help")).text
    assert "/mybookings" in help_text and "۱۵" in help_text


async def test_an_invalid_plate_is_explained_and_nothing_is_lost(drivers):
    driver = drivers("ru")
    await driver.send("/start")
    await driver.send("/book")
    reply = await driver.send("hello")
    explained, accepted = reply.html.split("\n")
    assert explained == t("ru", "This does not look like a plate number. Send only letters and digits, "
                                "for example <code>123ABC02</code>. /cancel — stop")
    assert accepted.startswith(t("ru", "Plates of Kazakhstan, Russia, Kyrgyzstan, Uzbekistan, China, Iran and Türkiye "
                                       "are accepted, as they are written there: {examples}").split("{")[0])
    assert "<code>А 123 ВС 77</code>" in accepted and "<code>新A·12345</code>" in accepted
    # A trailer's plate where the truck's is asked for is said to be one.
    trailer = await driver.send("АВ 1234 77")
    assert trailer.text == t("ru", "This is a trailer's plate. Send the truck's own plate first; the trailer comes next.")
    await driver.send("777 KZ 02")
    question = driver.last_message()
    await driver.send("88 TR 02")  # the trailer
    await driver.wait_for(lambda m: "777 KZ 02 / 88 TR 02" in m.text)
    assert not question.buttons, "the Skip button went away once the trailer was typed"
    await driver.wait_for(lambda m: m.text == t("ru", "Choose the checkpoint:"))


async def test_trucks_are_listed_and_removed_with_a_confirmation(drivers):
    dispatcher = drivers("ru")
    await register(dispatcher, "111AAA01")
    await add_truck(dispatcher, "222BBB02")
    listing = await dispatcher.send("/trucks")
    assert "111 AAA 01" in listing.text and "222 BBB 02" in listing.text
    await dispatcher.tap("222 BBB 02 🔔")  # its menu, in place of the list
    await dispatcher.tap(t("ru", "🗑 Remove truck"))
    assert dispatcher.last_message().text == t("ru", "Remove truck {plate}?").format(plate="222 BBB 02")
    await dispatcher.tap(t("ru", "Yes, remove"))
    after = dispatcher.last_message()
    assert after.message_id == listing.message_id
    assert "222 BBB 02" not in after.text and "111 AAA 01" in after.text


async def test_a_dispatcher_picks_the_truck_and_cancels_a_booking(drivers, nobat):
    dispatcher = drivers("ru")
    await register(dispatcher, "111AAA01")
    await add_truck(dispatcher, "222BBB02")
    await dispatcher.send("/book")
    await dispatcher.tap("Достык")
    assert set(dispatcher.last_message().button_texts) == {"111 AAA 01", "222 BBB 02", t("ru", "◀ Back")}
    await dispatcher.tap("222 BBB 02")
    await dispatcher.tap(t("ru", "Next ▶"))
    await dispatcher.tap(t("ru", "✅ Confirm"))
    ref = (await _only_reservation(nobat)).ref
    await dispatcher.send("/mybookings")
    await dispatcher.tap(t("ru", "Cancel {ref}").format(ref=ref))
    assert t("ru", "Yes, cancel") in dispatcher.last_message().button_texts
    await dispatcher.tap(t("ru", "Yes, cancel"))
    assert ref in dispatcher.last_message().text
    assert (await _only_reservation(nobat)).status == ReservationStatus.CANCELLED
    assert (await dispatcher.send("/mybookings")).text == t("ru", "You have no holds or upcoming bookings. /book — book a crossing time")


@pytest.mark.parametrize("language", ["kk", "ru", "fa"])
async def test_the_whole_conversation_in_each_language(drivers, nobat, language):
    driver = drivers(language)
    await open_offer(driver, "dostyk")
    await driver.tap(t(language, "Next ▶"))
    await driver.tap(t(language, "✅ Confirm"))
    ref = (await _only_reservation(nobat)).ref
    assert ref in driver.last_message().text
    await driver.send("/mybookings")
    await driver.tap(t(language, "Cancel {ref}").format(ref=f"\u2068{ref}\u2069" if language == "fa" else ref))
    await driver.tap(t(language, "Yes, cancel"))
    assert (await _only_reservation(nobat)).status == ReservationStatus.CANCELLED


async def _only_reservation(nobat) -> Reservation:
    async with nobat.db.reading() as session:
        rows = list(await session.scalars(select(Reservation).execution_options(populate_existing=True)))
    assert len(rows) == 1, rows
    return rows[0]


async def test_next_on_yesterdays_offer_shows_a_time_that_is_still_free(drivers, nobat, clock):
    driver = drivers("kk")
    await open_offer(driver)
    clock.advance(timedelta(days=1, hours=3))  # Tuesday 09:00 in Almaty: Monday's 08:00 is long gone
    await driver.tap(t("kk", "Next ▶"))
    shown = driver.last_message()
    assert shown.text.startswith(t("kk", "That time is no longer available. The next free time:"))
    assert "бүгін, 24 қараша, 10:00" in shown.text  # Tuesday: now + the hour of lead time
    async with nobat.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Reservation)) == 0


async def test_a_dispatcher_with_many_bookings_turns_pages(drivers, nobat):
    dispatcher = drivers("fa")
    await dispatcher.send("/start")
    services = nobat.services
    refs = []
    for i in range(12):
        truck = (await services.trucks.add(dispatcher.user_id, f"{100 + i}IR{i + 1:02d}")).truck
        offer = await services.calendar.first_free(services.checkpoints["bazargan"])
        hold = (await services.booking.take(dispatcher.user_id, truck.id, offer.slot_id)).hold
        refs.append((await services.booking.confirm(dispatcher.user_id, hold.id)).booking.ref)
    first = await dispatcher.send("/mybookings")
    assert "صفحه ۱ از ۲" in first.text
    # Each booking: Other time, Cancel; in Persian, read right to left, the next page is "◀".
    assert len(first.buttons) == 17 and first.button_texts[-1] == "◀"
    assert sum(ref in first.text for ref in refs) == 8
    await dispatcher.tap("◀")
    second = dispatcher.last_message()
    assert "صفحه ۲ از ۲" in second.text
    assert sum(ref in second.text for ref in refs) == 4 and second.button_texts[-1] == "▶"


async def test_a_reply_held_back_by_telegrams_flood_limit_still_arrives(tg, drivers):
    driver = drivers("ru")
    await driver.send("/start")
    await driver.send("/book")
    await driver.send("123ABC02")
    tg.user_think_time = 0  # the driver taps at machine speed,
    tg.limits.chat_burst = 1  # and Telegram allows one message a second in this chat
    await driver.send("88 TR 02", wait=False)  # the trailer: "Truck ... is saved", then the checkpoints, at once
    menu = await driver.wait_for(lambda m: m.text == t("ru", "Choose the checkpoint:"), timeout=10)
    assert tg.limit_violations == 1, "the bot was refused with 429 once, and its retry after that waited enough"
    assert "Хоргос" in menu.button_texts


async def test_names_with_markup_characters_are_shown_as_typed(drivers):
    driver = drivers("ru", first_name="<Ali & Sons>")
    welcome = await driver.send("/start")
    assert "<Ali & Sons>" in welcome.text


async def test_start_in_the_middle_of_adding_a_truck_begins_afresh(drivers):
    driver = drivers("ru")
    await driver.send("/start")
    await driver.send("/book")  # the bot now waits for a plate
    await driver.send("/start")
    reply = await driver.send("привет")
    assert reply.text == t("ru", "I did not understand. /book — book a crossing time, /help — help")


async def test_a_trailer_for_a_truck_removed_meanwhile_shows_the_trucks_left(drivers, nobat):
    dispatcher = drivers("ru")
    await register(dispatcher, "111AAA01")
    await dispatcher.send("/trucks")
    await dispatcher.tap(t("ru", "➕ Add truck"))
    await dispatcher.send("222BBB02")  # the bot now asks for its trailer
    # The truck is removed meanwhile (from the dispatcher's other device; a command here would
    # leave the trailer's step).
    added = [truck for truck in await nobat.services.trucks.list(dispatcher.user_id) if truck.plate == "222BBB02"]
    await nobat.services.trucks.remove(dispatcher.user_id, added[0].id)
    reply = await dispatcher.send("88 TR 02")
    assert "111 AAA 01" in reply.text and "222 BBB 02" not in reply.text
    assert (await dispatcher.send("hello")).text == t("ru", "I did not understand. /book — book a crossing time, /help — help")


async def test_a_holds_warning_is_not_kept_waiting_behind_a_batch_of_expiries(tg, drivers, nobat, clock):
    """Forty holds expire in one round (eighty messages, nearly three seconds of Telegram's 30 a
    second) as another hold reaches its three minutes: that driver's warning goes out among the
    first, not after the whole batch."""
    late = drivers("ru")
    await open_offer(late, "dostyk", plate="999ABC02")  # long enough ago for its chat to have its quiet again
    expiring = [drivers("ru") for _ in range(40)]
    for n, driver in enumerate(expiring):
        await open_offer(driver, plate=f"{100 + n}ABC02")
        await driver.tap(t("ru", "Next ▶"))
    clock.advance(timedelta(minutes=3))
    await late.tap(t("ru", "Next ▶"))
    since = len(tg.requests)
    clock.advance(timedelta(minutes=12, seconds=1))  # the forty ended, the late one has 3 minutes left
    await nobat.workers.tick()
    sends = [str(params.get("chat_id")) for method, params in tg.requests[since:] if method == "sendMessage"]
    assert len(sends) == 41 and str(late.chat_id) in sends
    assert sends.index(str(late.chat_id)) < 10, "the warning waited behind the expiries"
    assert all(d.last_message().text.startswith("⌛") for d in expiring)
    assert tg.limit_violations == 0

"""Buttons that no longer mean anything, and faults inside the bot: the driver gets one calm,
localized answer, and nothing is booked by mistake."""

from __future__ import annotations

import logging
import re
import sys

from handlers.booking.callbacks import DaysCb, OfferCb, TruckPickCb
from services.storage.models import ROW_ID_MAX
from tests.story import add_truck, open_offer, register, t

STALE = "This button is no longer valid."
SORRY = "Something went wrong on our side; nothing was lost. Please try again in a minute."


async def test_a_tap_whose_handler_fails_gets_one_calm_alert_and_the_next_tap_works(drivers, nobat, monkeypatch,
                                                                                   caplog):
    driver = drivers("kk")
    await open_offer(driver)

    async def database_gone(*_args, **_kwargs):
        raise ConnectionError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(nobat.services.calendar, "free_days", database_gone)
        with caplog.at_level(logging.ERROR, logger="nobat.errors"):
            answer = await driver.tap(t("kk", "Other time"))
    assert answer.show_alert and answer.text == t("kk", SORRY)
    assert any("database went away" in record.getMessage() for record in caplog.records), "logged with context"
    await driver.tap(t("kk", "Other time"))
    assert t("kk", "Cancel") in driver.last_message().button_texts


async def test_a_tap_whose_handler_fails_after_its_answer_went_is_told_so_in_the_chat(tg, drivers, nobat, monkeypatch,
                                                                                       caplog):
    """A tap is answered before its screen is drawn (the screen waits for the outgoing budget, the
    answer does not): a fault after that cannot be the tap's alert, as Telegram takes one answer per
    tap, so it is said in a message."""
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Next ▶"))

    async def chat_gone(*_args, **_kwargs):
        raise ConnectionError("the other message could not be reached")

    booking_router = sys.modules["handlers.booking.router"]  # the package's `router` is its factory
    monkeypatch.setattr(booking_router, "replace_too", chat_gone)  # runs after the screen is drawn
    with caplog.at_level(logging.ERROR, logger="nobat.errors"):
        answer = await driver.tap(t("ru", "✅ Confirm"))
    assert answer is not None and not answer.show_alert, "the tap was answered before its screen, silently"
    # The error handler runs after the update has left the chat's handlers: wait for its message.
    await tg.wait_until(lambda: driver.last_message().text == t("ru", SORRY), timeout=10)
    assert any("could not be reached" in record.getMessage() for record in caplog.records), "logged with context"
    booked = re.sub(r"<[^>]+>", "", t("ru", "✅ <b>Booked</b>"))
    assert any(booked in m.text for m in driver.messages if m.from_bot), "the booking stands, and its screen"


async def test_a_message_whose_handler_fails_gets_a_calm_reply(drivers, nobat, monkeypatch):
    driver = drivers("fa")
    await register(driver)

    async def database_gone(*_args, **_kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(nobat.services.trucks, "list", database_gone)
    assert (await driver.send("/trucks")).text == t("fa", SORRY)


async def test_a_failed_update_is_logged_by_its_ids_and_kinds_never_by_a_name_words_a_phone_or_a_payload(
        tg, nobat, monkeypatch, caplog):
    driver = tg.user(4401, first_name="Zhanargul", last_name="Seitkaliyeva", username="zhanargul_trucks",
                     language_code="kk")
    phone, words = "+77015550101", "Жанаргуль, звоните +77015550199 после обеда"
    await open_offer(driver)

    async def fails_quoting(*args, **_kwargs):  # a fault whose message carries what the driver sent
        raise ValueError(f"cannot handle {args!r}")

    failed = {}
    with monkeypatch.context() as patch, caplog.at_level(logging.INFO):  # what `nobat run` logs, and more
        patch.setattr(nobat.services.follows, "share_phone", fails_quoting)
        patch.setattr(nobat.services.trucks, "add", fails_quoting)
        patch.setattr(nobat.services.calendar, "free_days", fails_quoting)
        assert (await driver.send_contact(phone)).text == t("kk", SORRY)
        failed["message (contact)"] = tg.last_update_id
        await driver.send("/trucks")
        await driver.tap(t("kk", "➕ Add truck"))
        assert (await driver.send(words)).text == t("kk", SORRY)
        failed["message (text)"] = tg.last_update_id
        offer = next(m for m in reversed(driver.bot_messages()) if t("kk", "Other time") in m.button_texts)
        payload = next(data for row in offer.buttons for text, data in row if text == t("kk", "Other time"))
        answer = await driver.tap(t("kk", "Other time"))
        assert answer.show_alert and answer.text == t("kk", SORRY)
        failed[f'callback_query "{payload.split(":")[0]}"'] = tg.last_update_id
    ours = [record for record in caplog.records if not record.name.startswith("local_bot_api")]
    logged = "\n".join(logging.Formatter().format(record) for record in ours)
    for kind, update_id in failed.items():
        assert f"update {update_id} ({kind} in a private chat from account 4401) failed" in logged, kind
    assert logged.count("ValueError (its message is not logged") == 3, "the type and the trace of our code"
    assert "fails_quoting" in logged
    for private in ("Zhanargul", "Seitkaliyeva", "zhanargul_trucks", "Жанаргуль", "+7701555", "7701555",
                    payload.split(":", 1)[1]):
        assert private not in logged, private


async def test_buttons_naming_a_removed_truck_or_another_drivers_truck_are_refused(drivers, nobat):
    dispatcher, stranger = drivers("ru"), drivers("ru")
    await register(dispatcher, "111AAA01")
    await add_truck(dispatcher, "222BBB02")
    await register(stranger, "333CCC03")
    strangers_truck = (await nobat.services.trucks.list(stranger.user_id))[0]
    await dispatcher.send("/book")
    await dispatcher.tap("Достык")
    choice = dispatcher.last_message()

    removed = next(tr for tr in await nobat.services.trucks.list(dispatcher.user_id) if tr.plate == "222BBB02")
    await nobat.services.trucks.remove(dispatcher.user_id, removed.id)
    answer = await dispatcher.tap("222 BBB 02")
    assert answer.show_alert and answer.text == t("ru", STALE)
    for forged in (TruckPickCb(checkpoint="dostyk", truck_id=strangers_truck.id),
                   DaysCb(checkpoint="dostyk", truck_id=strangers_truck.id),
                   TruckPickCb(checkpoint="nowhere", truck_id=removed.id)):
        answer = await dispatcher.tap_data(forged.pack(), choice.message_id)
        assert answer.show_alert and answer.text == t("ru", STALE)
    assert dispatcher.last_message().text == choice.text, "a refused tap changes nothing on screen"
    await dispatcher.tap("111 AAA 01")
    assert t("ru", "Next ▶") in dispatcher.last_message().button_texts


async def test_keep_on_a_booking_cancelled_meanwhile_is_refused(drivers, nobat):
    driver = drivers("ru")
    await open_offer(driver)
    await driver.tap(t("ru", "Next ▶"))
    await driver.tap(t("ru", "✅ Confirm"))
    await driver.send("/mybookings")
    ref = (await nobat.services.booking.upcoming(driver.user_id))[0].ref
    await driver.tap(t("ru", "Cancel {ref}").format(ref=ref))
    question = driver.last_message()
    keep = next(data for text, data in question.buttons[0] if text == t("ru", "No, keep it"))
    await driver.tap(t("ru", "Yes, cancel"))
    # "No, keep it" was on its way from a second phone of the same account.
    answer = await driver.tap_data(keep, question.message_id)
    assert answer.show_alert and answer.text == t("ru", STALE)
    assert driver.last_message().text == t("ru", "Booking {ref} is cancelled.").format(ref=ref)


async def test_forged_payloads_reach_no_handler_and_get_the_stale_alert_without_a_traceback(drivers, nobat, monkeypatch,
                                                                                         caplog):
    driver = drivers("fa")
    offer = await open_offer(driver)
    truck_id = OfferCb.unpack(offer.buttons[0][0][1]).truck_id
    asked = []

    async def asked_anyway(*args, **_kwargs):
        asked.append(args)

    # Were any of these reached, the test would see it: no feature may even ask.
    for service, name in ((nobat.services.booking, "take"), (nobat.services.offers, "offer"),
                          (nobat.services.booking, "confirm"), (nobat.services.booking, "cancel_booking"),
                          (nobat.services.offers, "day_slots"), (nobat.services.calendar, "day_slots"),
                          (nobat.services.accounts, "set_language")):
        monkeypatch.setattr(service, name, asked_anyway)
    forged = [
        f"of:n:khorgos:{truck_id}:{ROW_ID_MAX + 1}",  # a slot id no row can have
        f"sl:khorgos:{truck_id}:{2**63}",
        f"dy:khorgos:{truck_id}:2026-02-30",  # no such day
        f"dy:khorgos:{truck_id}:9999-12-31",  # a day the calendar cannot add a day to
        f"hd:y:{ROW_ID_MAX + 1}",
        "bk:c:-5",
        "bp:0",
        "lg:en",
        f"of:n:KHORGOS:{truck_id}:1",
    ]
    with caplog.at_level(logging.DEBUG):
        for data in forged:
            answer = await driver.tap_data(data, offer.message_id)
            assert answer.show_alert and answer.text == t("fa", STALE), data
    assert asked == []
    assert not [record for record in caplog.records if record.exc_info], "refused calmly, no traceback"
    assert driver.last_message().text == offer.text

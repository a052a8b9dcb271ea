"""Fair access through the chat: a driver whose holds lapse is told why and until when, /myrating
shows the figures, and the operators' commands work for operators only, a ban telling the banned
account and every chat that follows its trucks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.booking.callbacks import OfferAction, OfferCb
from handlers.common.holds import HoldAction, HoldCb
from services.storage.models import Reservation, ReservationStatus
from tests.story import open_offer, t

OPERATOR = 990_001


@pytest.fixture
def settings_overrides() -> dict:
    return {"operators": [OPERATOR]}


async def operator(tg, language: str = "ru"):
    user = tg.user(OPERATOR, first_name="Operator", language_code=language)
    await user.send("/start")
    return user


async def hold_and_lapse(driver, nobat, clock, *, first: bool = False) -> None:
    if first:
        await open_offer(driver)
    else:
        await driver.send("/book")
        await driver.tap("Хоргос")
    await driver.tap(t(driver.language_code, "Next ▶"))
    clock.advance(timedelta(minutes=15, seconds=1))
    await nobat.workers.tick()


async def test_a_driver_whose_holds_lapse_is_told_why_and_until_when_and_sees_the_figures(drivers, nobat, clock):
    driver = drivers("ru")
    for n in range(4):
        await hold_and_lapse(driver, nobat, clock, first=n == 0)
    await driver.send("/book")
    await driver.tap("Хоргос")
    answer = await driver.tap(t("ru", "Next ▶"))
    assert answer.show_alert
    until = (clock.now() + timedelta(hours=1)).astimezone(nobat.services.checkpoints["khorgos"].tz)
    assert t("ru", "Too many of your holds ended without a booking, so new holds are paused until {time}. "
                   "/myrating shows your figures.").split("{time}")[0] in answer.text
    assert until.strftime("%H:%M") in answer.text
    rating = await driver.send("/myrating")
    assert "4" in rating.text and "0%" in rating.text and until.strftime("%H:%M") in rating.text
    async with nobat.db.reading() as session:
        assert set(await session.scalars(select(Reservation.status))) == {ReservationStatus.EXPIRED.value}


async def test_operator_commands_exist_for_operators_only(tg, drivers, nobat):
    outsider = drivers("ru")
    await outsider.send("/start")
    answer = await outsider.send(f"/ban {outsider.user_id} 90 test")
    assert answer.text == t("ru", "I do not know this command. /help — what I can do")
    boss = await operator(tg)
    usage = await boss.send("/ban")
    assert usage.text.startswith("Команды оператора:") and "/ban" in usage.text
    # Ids no account can have (past the database's integers, digits that are not ASCII): the usage
    # line, not "something went wrong" with an error in the log.
    for typed in ("/ban 99999999999999999999 7 перепродажа", "/unban 99999999999999999999", "/ban ²³ 7 x",
                  "/unban ١٢٣"):
        assert (await boss.send(typed)).text == usage.text, typed


async def test_a_ban_annuls_tells_the_account_and_its_trucks_followers_and_an_unban_lifts_it(tg, drivers, nobat, clock):
    scalper, dispatcher = drivers("ru"), drivers("kk")
    await open_offer(scalper)
    await scalper.tap(t("ru", "Next ▶"))
    await dispatcher.send("/start")
    await nobat.services.trucks.add(dispatcher.user_id, "123ABC02")  # the same truck, followed
    boss = await operator(tg, "kk")
    top = await boss.send("/abusers 24")
    assert str(scalper.user_id) in top.text
    reply = await boss.send(f"/ban {scalper.user_id} 90 перепродажа мест")
    assert str(scalper.user_id) in reply.text and "1" in reply.text
    # Behind the truck's card and the annulled booking's notice in the same chat, a second apart each.
    told = await scalper.wait_for(lambda m: m.text.startswith("⛔"), timeout=15)
    assert "перепродажа мест" in told.text
    async with nobat.db.reading() as session:
        assert set(await session.scalars(select(Reservation.status))) == {ReservationStatus.ANNULLED.value}
    await nobat.outbox.drain()  # the outbox tells both chats that follow the truck
    for chat in (scalper, dispatcher):
        card = await chat.wait_for(lambda m: "перепродажа мест" in m.text)
        assert card is not None
    await scalper.send("/book")
    await scalper.tap("Хоргос")
    refused = await scalper.tap(t("ru", "Next ▶"))
    assert refused.show_alert and "/myrating" in refused.text
    rating = await scalper.send("/myrating")
    assert "перепродажа мест" in rating.text
    lifted = await boss.send(f"/unban {scalper.user_id}")
    assert str(scalper.user_id) in lifted.text
    await scalper.send("/book")
    await scalper.tap("Хоргос")
    held = await scalper.tap(t("ru", "Next ▶"))
    assert not (held and held.show_alert), "booking is open again"
    stats = await boss.send("/stats khorgos")
    assert "Қорғас" in stats.text


ONE_PLACE = {"code": "khorgos", "names": {"kk": "Қорғас", "ru": "Хоргос", "fa": "خورگوس"},
             "timezone": "Asia/Almaty", "slot_minutes": 30, "trucks_per_slot": 1, "opens": "08:00",
             "closes": "20:00", "horizon_days": 7, "lead_minutes": 60}


def _next_of(message) -> OfferCb:
    return OfferCb.unpack(next(d for row in message.buttons for _t, d in row if d and d.startswith("of:n:")))


@pytest.mark.parametrize("settings_overrides", [{"operators": [OPERATOR], "checkpoints": [ONE_PLACE]}])
async def test_a_place_a_seller_lets_go_does_not_pass_to_the_buyer_and_a_booking_keeps_its_plate(drivers, nobat):
    seller, buyer = drivers("ru"), drivers("ru")
    offered = await open_offer(seller)
    sold = _next_of(offered)
    await seller.tap(t("ru", "Next ▶"))
    # The hand-over: the seller lets the hold go while the buyer, told the time, taps Next on it at once.
    await seller.tap(t("ru", "Cancel"))
    mine = await open_offer(buyer, plate="456DEF02")
    forged = OfferCb(action=OfferAction.NEXT, checkpoint="khorgos", truck_id=_next_of(mine).truck_id,
                     slot_id=sold.slot_id)
    await buyer.tap_data(forged.pack(), mine.message_id)
    assert _next_of(buyer.find(mine.message_id)).slot_id != sold.slot_id, "shown another time instead"
    async with nobat.db.reading() as session:
        assert not (await session.scalars(select(Reservation).where(Reservation.slot_id == sold.slot_id,
                                                                    Reservation.account_id == buyer.user_id))).all()

    # A booking is bound to its truck's plate: the truck cannot be swapped for the buyer's.
    await seller.send("/book")
    await seller.tap("Хоргос")
    await seller.tap(t("ru", "Next ▶"))
    await seller.tap(t("ru", "✅ Confirm"))
    async with nobat.db.reading() as session:
        booking = await session.scalar(select(Reservation).where(Reservation.account_id == seller.user_id,
                                                                 Reservation.status == ReservationStatus.BOOKED.value))
    await seller.send("/trucks")
    await seller.tap("123 ABC 02")  # the truck's menu
    await seller.tap(t("ru", "🗑 Remove truck"))
    refused = await seller.tap(t("ru", "Yes, remove"))
    assert refused.text == t("ru", "This truck has an upcoming booking or hold. Cancel it in /mybookings first.")
    # Nor can the buyer act on it: the booking's buttons, forged, are not his.
    for action in (HoldAction.CONFIRM, HoldAction.CANCEL):
        answer = await buyer.tap_data(HoldCb(action=action, hold_id=booking.id).pack(), mine.message_id)
        assert answer.show_alert and booking.ref not in answer.text
    listing = await buyer.send("/mybookings")
    assert booking.ref not in listing.text
    async with nobat.db.reading() as session:
        kept = await session.get(Reservation, booking.id, populate_existing=True)
    assert (kept.status, kept.plate, kept.account_id) == (ReservationStatus.BOOKED.value, "123ABC02", seller.user_id)

"""What the workers tell drivers on their own (a hold ended, a booking soon) goes through the outbox:
a real `nobat run` killed with SIGKILL while 200 holds expire and 200 reminders are due loses none
of them once started again (and a Bot API answering 502 for half a minute loses none either:
tests/integration/test_telegram_outage.py).

Telegram has no idempotency key for a send, so a message Telegram took in the instant before the
kill, before its row was written down, is sent again; the test counts those sends in flight at the
kill and holds the repeats to them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy import insert, select

from services.outbox.kinds import Kind
from services.outbox.tables import OutboxRow, PostStatus
from services.storage.models import Account, Reservation, ReservationStatus, Slot, Truck
from tests.processes import ROOT, NobatProcess, clean_env, kill_left
from tests.story import t

HOLDS, BOOKINGS = 200, 200
FIRST = 960_000
EXPIRED = "⌛"
SOON = "🔔"


async def seed(tg, db) -> tuple[list, list]:
    """200 drivers whose holds ended a moment ago (each shown in a message of the bot's), and 200
    booked two hours from now, not yet reminded."""
    now = datetime.now(UTC).replace(microsecond=0)
    holders = [tg.user(FIRST + n, first_name="Driver", language_code="ru") for n in range(HOLDS)]
    booked = [tg.user(FIRST + HOLDS + n, first_name="Driver", language_code="ru") for n in range(BOOKINGS)]
    tg.limits.enabled = False  # the hold messages shown before this test's story begins
    bot = tg.create_bot()
    try:
        confirm = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Confirm", callback_data="hd:y:1")]])
        shown = [(await bot.send_message(user.user_id, "Hold", reply_markup=confirm)).message_id for user in holders]
    finally:
        await bot.session.close()
        tg.limits.enabled = True
    tomorrow, soon = now + timedelta(hours=20), now + timedelta(hours=2)
    async with db.transaction() as session:
        users = holders + booked
        await session.execute(insert(Account), [{"id": u.user_id, "first_name": "Driver", "language": "ru",
                                                 "created_at": now} for u in users])
        trucks = [Truck(account_id=u.user_id, plate=f"{n:03d}KIL02", created_at=now) for n, u in enumerate(users)]
        later = Slot(checkpoint="khorgos", starts_at=tomorrow, capacity=HOLDS, taken=HOLDS)
        near = Slot(checkpoint="khorgos", starts_at=soon, capacity=BOOKINGS, taken=BOOKINGS)
        session.add_all([*trucks, later, near])
        await session.flush()
        session.add_all(
            Reservation(account_id=u.user_id, truck_id=truck.id, plate=truck.plate, slot_id=later.id,
                        checkpoint="khorgos", day=tomorrow.date(), status=ReservationStatus.HELD.value,
                        created_at=now - timedelta(minutes=15), expires_at=now - timedelta(seconds=1),
                        chat_id=u.user_id, message_id=message_id, warned_at=now - timedelta(minutes=3))
            for u, truck, message_id in zip(holders, trucks, shown, strict=False))
        session.add_all(
            Reservation(account_id=u.user_id, truck_id=truck.id, plate=truck.plate, slot_id=near.id,
                        checkpoint="khorgos", day=soon.date(), status=ReservationStatus.BOOKED.value,
                        created_at=now - timedelta(hours=30), expires_at=now - timedelta(hours=29, minutes=45),
                        confirmed_at=now - timedelta(hours=29, minutes=50), ref=f"K{n:04d}")
            for n, (u, truck) in enumerate(zip(booked, trucks[HOLDS:], strict=True)))
    return holders, booked


def told(user, mark: str) -> list:
    """The bot's new messages of this kind to the user (not the hold's own message, edited)."""
    return [m for m in user.bot_messages() if m.text.startswith(mark) and m.edit_count == 0]


def env_for(tg, db, **more: str) -> dict[str, str]:
    return clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.base_url,
                     DATABASE_URL=db.url, NOBAT_WORKER_INTERVAL_SECONDS="0.5", NOBAT_OUTBOX__POLL_SECONDS="0.2",
                     **more)


def every_driver_told(holders, booked) -> bool:
    return all(told(u, EXPIRED) for u in holders) and all(told(u, SOON) for u in booked)


def check_what_each_driver_holds(holders, booked) -> None:
    for user in holders:
        hold = user.bot_messages()[0]
        assert not hold.text.startswith(EXPIRED), "the news is said once, by the new message"
        assert hold.edit_count == 1 and not hold.buttons, "the hold's message lost its Confirm"
        assert told(user, EXPIRED)[-1].buttons, "Start again"
    for user in booked:
        assert t("ru", "🔔 <b>Your crossing is soon</b>").replace("<b>", "").replace("</b>", "") \
            in told(user, SOON)[0].text


async def rows_of(db) -> list[tuple[str, int, str]]:
    async with db.reading() as session:
        return [tuple(row) for row in await session.execute(
            select(OutboxRow.kind, OutboxRow.chat_id, OutboxRow.status).order_by(OutboxRow.id))]


async def test_a_bot_killed_while_holds_expire_and_reminders_are_due_tells_every_driver_once(tg, db, tmp_path):
    holders, booked = await seed(tg, db)
    env = env_for(tg, db, NOBAT_OUTBOX__LEASE_SECONDS="3")
    first = await NobatProcess(["run"], env, tmp_path, tmp_path / "first.log").start()
    second = None
    try:
        await tg.wait_until(lambda: sum(len(told(u, EXPIRED)) for u in holders)
                            + sum(len(told(u, SOON)) for u in booked) >= 120, timeout=60)
        await first.kill()
        received = {u.user_id: len(told(u, EXPIRED) + told(u, SOON)) for u in holders + booked}
        assert sum(received.values()) < HOLDS + BOOKINGS, "the kill came in the middle of the messages"
        recorded = {chat for kind, chat, status in await rows_of(db) if status == PostStatus.SENT}
        in_flight = {chat for chat, count in received.items() if count and chat not in recorded}

        second = await NobatProcess(["run"], env, tmp_path, tmp_path / "second.log").start()
        await tg.wait_until(lambda: every_driver_told(holders, booked), timeout=90)
        await asyncio.sleep(1.5)  # anything sent twice would be sent by now
        repeats = {u.user_id: len(told(u, EXPIRED) + told(u, SOON)) - 1 for u in holders + booked}
        repeated = {chat for chat, extra in repeats.items() if extra}
        assert all(extra <= 1 for extra in repeats.values()), "a send in flight at the kill is repeated once at most"
        assert repeated <= in_flight, "a message is sent again only if it was in flight at the kill"
        check_what_each_driver_holds(holders, booked)
        rows = await rows_of(db)
        assert sorted((kind, status) for kind, _, status in rows) == sorted(
            [(Kind.HOLD_EXPIRED, "sent")] * HOLDS + [(Kind.REMINDER, "sent")] * BOOKINGS)
        assert tg.limit_violations == 0
        assert await second.stop() == 0
        assert "Traceback" not in first.output() + second.output()
    finally:
        await kill_left(first, second)

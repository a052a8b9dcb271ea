"""A tap that reached the bot is answered, even if the process dies.

A real `nobat run` is killed with SIGKILL in the middle of a burst of Next and Confirm taps, then
started again. What the killed process had not finished it had not confirmed either, so the local
Bot API server hands those updates to the new process, as Telegram would: through getUpdates in
polling mode, by posting them to the webhook again in webhook mode. The handlers are idempotent, so
a tap handled twice books once and shows the same screen.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from itertools import zip_longest

import pytest
from sqlalchemy import select

from bot.config import load_settings
from services.container import Services
from services.kernel.clock import SystemClock
from services.storage.models import ACTIVE_STATUSES, Reservation, ReservationStatus, Slot
from tests.databases import backends, fresh_database
from tests.processes import ROOT, NobatProcess, clean_env, free_port, kill_left
from tests.story import t

DRIVERS = 150
HOLDING = 40  # hold a time before the burst and tap Confirm in it; the others tap Next
KILL_AFTER = 15  # taps of the burst answered before the kill

NEXT, CONFIRM = t("ru", "Next ▶"), t("ru", "✅ Confirm")
HELD, BOOKED = (t("ru", msgid).replace("<b>", "").replace("</b>", "")
                for msgid in ("⏳ <b>This time is held for you</b>", "✅ <b>Booked</b>"))
TAKEN = t("ru", "That time was just taken. The next free time:")


# Each way of getting updates, and each database, once: polling on SQLite, and the webhook on
# PostgreSQL where CI has it (a newcomer's SQLite-only run tries both ways on SQLite). What a killed
# process leaves is the Bot API server's to hand again (getUpdates' offset, the webhook's retries),
# and the database's only to give a tap handled twice the same outcome, which both backends are
# tested for (test_double_and_triple_taps_book_once, tests/integration/test_booking_engine.py).
VARIANTS = [("sqlite", "polling"), (backends()[-1], "webhook")]


@pytest.fixture(params=VARIANTS, ids="-".join)
def variant(request) -> tuple[str, str]:
    return request.param


@pytest.fixture
async def db(variant, tmp_path):
    async with fresh_database(variant[0], tmp_path) as database:
        yield database


@pytest.fixture
def mode(variant) -> str:
    return variant[1]


def _nobat_run(tg, db, tmp_path, mode: str):
    """Starts `nobat run` processes on one database and Bot API server (and, in webhook mode, one
    address that each of them listens on in turn)."""
    args = ["run"]
    env = clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.base_url,
                    DATABASE_URL=db.url)
    if mode == "webhook":
        port = free_port()
        args += ["--webhook", f"http://127.0.0.1:{port}/telegram"]
        env["NOBAT_WEB__PORT"] = str(port)

    async def start(name: str) -> NobatProcess:
        return await NobatProcess(args, env, tmp_path, tmp_path / f"{name}.log").start()

    return start


async def _drivers_with_a_truck(tg, db) -> list:
    settings = load_settings()
    services = Services.build(db, settings.checkpoints, settings.booking, SystemClock())
    drivers = []
    for i in range(DRIVERS):
        driver = tg.user(910_000 + i, first_name=f"Driver {i}", language_code="ru")
        await services.accounts.ensure(driver.user_id, driver.first_name, "ru")
        await services.trucks.add(driver.user_id, f"{100 + i}KZ{i % 20 + 1:02d}")
        drivers.append(driver)
    return drivers


async def _open_offer(tg, driver) -> None:
    await driver.send("/book", timeout=60)
    await driver.tap("Хоргос", timeout=60)
    # A tap is answered before its screen is drawn: the offer follows the answer.
    await tg.wait_until(lambda: NEXT in driver.last_message().button_texts, timeout=60)


async def _hold(tg, driver) -> None:
    """Next, and Next again on the time shown instead, until the time is held."""
    while CONFIRM not in driver.last_message().button_texts:
        offered = driver.last_message().text
        await driver.tap(NEXT, timeout=60)
        await tg.wait_until(lambda: driver.last_message().text != offered, timeout=60)  # the screen follows


def _sees_outcome(driver, tapped: str) -> bool:
    text = driver.last_message().text
    return BOOKED in text if tapped == CONFIRM else (HELD in text or TAKEN in text)


async def test_every_tap_of_a_burst_is_answered_though_the_bot_was_killed_in_it(tg, db, tmp_path, mode):
    # 150 drivers open /book at once: the test is about delivery, not Telegram's flood limits.
    tg.limits.global_per_s = 100_000
    tg.webhook.retry_delay = 0.05  # Telegram waits longer before it posts a failed update again
    start = _nobat_run(tg, db, tmp_path, mode)
    processes = [await start("first")]
    try:
        drivers = await _drivers_with_a_truck(tg, db)
        holding, rushing = drivers[:HOLDING], drivers[HOLDING:]
        # The holders take their places first, so the others are offered a time with places left.
        await asyncio.gather(*(_open_offer(tg, d) for d in holding))
        await asyncio.gather(*(_hold(tg, d) for d in holding))
        await asyncio.gather(*(_open_offer(tg, d) for d in rushing))

        tapped = {}
        before = len(tg.callback_queries)
        for holder, rusher in zip_longest(holding, rushing):
            for driver, button in ((holder, CONFIRM), (rusher, NEXT)):
                if driver is not None:
                    await driver.tap(button, wait=False)
                    tapped[driver.user_id] = button
        burst = tg.callback_queries[before:]
        await tg.wait_until(lambda: sum(q.answered for q in burst) >= KILL_AFTER, timeout=60)
        await processes[0].kill()
        answered_before_the_kill = sum(q.answered for q in burst)
        assert answered_before_the_kill < len(burst), "the kill came in the middle of the burst"

        processes.append(await start("second"))

        def unanswered():
            # A query older than its lifetime cannot be answered at all (Telegram refuses the answer):
            # for those the chat is what the driver has.
            return [q for q in tg.callback_queries if not q.answered and not q.answered_too_late]

        def without_outcome():
            return [d for d in drivers if not _sees_outcome(d, tapped[d.user_id])]

        try:
            await tg.wait_until(lambda: not unanswered() and not without_outcome(), timeout=90)
        except TimeoutError:
            pytest.fail(f"{len(unanswered())} of {len(burst)} taps never answered, {len(without_outcome())} of "
                        f"{DRIVERS} drivers never saw the outcome ({answered_before_the_kill} answered before the "
                        f"kill); the restarted bot's log ends:\n{processes[1].output()[-3000:]}")

        async with db.reading() as session:
            active = list(await session.scalars(select(Reservation).where(Reservation.status.in_(ACTIVE_STATUSES))))
            slots = {s.id: s for s in await session.scalars(select(Slot).where(Slot.taken > 0))}
        bookings = [r for r in active if r.status == ReservationStatus.BOOKED]
        holds = [r for r in active if r.status == ReservationStatus.HELD]
        assert sorted(r.account_id for r in bookings) == sorted(d.user_id for d in holding), "each Confirm books once"
        shown_held = {d.user_id for d in rushing if HELD in d.last_message().text}
        assert sorted(r.account_id for r in holds) == sorted(shown_held), "a hold for every hold screen, no other"
        for hold in holds:  # every hold knows its message, and that message shows it
            shown = tg.user(hold.account_id).last_message()
            assert (hold.chat_id, hold.message_id) == (hold.account_id, shown.message_id)
            assert CONFIRM in shown.button_texts
        assert max(Counter((r.truck_id, r.checkpoint, r.day) for r in active).values()) == 1
        assert {r.slot_id for r in active} == set(slots)
        for slot in slots.values():
            assert slot.taken == sum(r.slot_id == slot.id for r in active), "taken = holds + bookings"

        assert await processes[1].stop() == 0
        for process in processes:
            assert "Traceback" not in process.output(), process.output()[-3000:]
    finally:
        await kill_left(*processes)

"""Rushes on the real wire: many drivers tapping Next on one slot at once, and one account
tapping Next many times at once. Run on SQLite always, on PostgreSQL and Redis when configured."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from handlers.booking.callbacks import OfferAction, OfferCb
from services.booking.takes import TakeOutcome
from services.storage.models import ROW_ID_MAX, Reservation, Slot
from tests.databases import backends, fresh_database
from tests.story import t, tn


@pytest.fixture(params=backends())
async def db(request, tmp_path):
    """On both backends: what this file asserts is about the database (see tests/e2e/conftest.py)."""
    async with fresh_database(request.param, tmp_path) as database:
        yield database


_times_from_0830 = [f"{minutes // 60:02d}:{minutes % 60:02d}" for minutes in range(8 * 60 + 30, 20 * 60, 30)]


def _count_refusals_by_batch(booking, monkeypatch) -> list[int]:
    """The drivers refused by each batch of Next taps the booking engine runs, as it runs them."""
    counts: list[int] = []
    take_batch = booking._take_batch

    async def counted(requests):
        results = await take_batch(requests)
        counts.append(sum(getattr(r, "outcome", None) is TakeOutcome.SLOT_FULL for r in results))
        return results

    monkeypatch.setattr(booking, "_take_batch", counted)
    return counts


async def _drivers_at_the_offer(tg, nobat, count: int, first_id: int):
    """`count` drivers who each registered a truck earlier and now look at the Khorgos offer."""
    users = []
    for i in range(count):
        user = tg.user(first_id + i, first_name=f"Driver {i}", language_code="ru")
        await nobat.services.accounts.ensure(user.user_id, user.first_name, "ru")
        await nobat.services.trucks.add(user.user_id, f"{100 + i}KZ{i % 20 + 1:02d}")
        users.append(user)
    # The rush is measured on the Next taps, not on Telegram's limits: they are raised, here and in
    # the bot's own outgoing budget (the tests' `settings_overrides`).
    tg.limits.global_per_s = 100_000
    # Generous waits: 300 conversations at once on a 2-core machine are slow, not wrong.
    await asyncio.gather(*(u.send("/book", timeout=60) for u in users))
    await asyncio.gather(*(u.tap("Хоргос", timeout=60) for u in users))
    return users


@pytest.mark.parametrize("settings_overrides", [{"telegram_limits": {"messages_per_second": 10_000}}])
async def test_300_drivers_tap_next_on_one_slot_of_20_and_a_forged_tap_among_them_changes_nothing(tg, nobat,
                                                                                                 monkeypatch):
    users = await _drivers_at_the_offer(tg, nobat, 301, 700_000)
    refused_by_batch = _count_refusals_by_batch(nobat.services.booking, monkeypatch)
    forger = users.pop()
    offers = [u.last_message() for u in users]
    assert all("08:00" in o.text for o in offers)
    # The forger's Next names a slot id no row can have; on PostgreSQL it once failed the whole batch,
    # which fell back to one take at a time and sent every refused driver to the same next place.
    mine = OfferCb.unpack(forger.last_message().buttons[0][0][1])
    forged = f"of:n:khorgos:{mine.truck_id}:{ROW_ID_MAX + 1}"

    answers = await asyncio.gather(
        *(u.tap(t("ru", "Next ▶"), timeout=60) for u in users[:150]),
        forger.tap_data(forged, forger.last_message().message_id, timeout=60),
        *(u.tap(t("ru", "Next ▶"), timeout=60) for u in users[150:]),
    )
    assert all(a is not None for a in answers), "every tap is answered"
    refused = answers[150]
    assert refused.show_alert and refused.text == t("ru", "This button is no longer valid.")

    screens = [u.last_message() for u in users]
    holding = [s for s in screens if t("ru", "✅ Confirm") in s.button_texts]
    moved_on = [s for s in screens if t("ru", "That time was just taken. The next free time:") in s.text]
    assert len(holding) == 20
    assert len(moved_on) == 280
    # Each is shown a next free time, with no error, and none is sent back to the full 08:00.
    shown = Counter(re.search(r"\d\d:\d\d", s.text).group() for s in moved_on)
    assert "08:00" not in shown and "08:30" in shown
    # The refused are shown the next places in order, 20 to each time, from 08:30: those refused
    # together, and those refused by a later batch too, which are sent past the places the batches
    # before it showed a moment ago (showing reserves nothing, but two batches' drivers sent to the
    # same 20 places would mostly be refused again). How many batches the rush made depends on how
    # the taps arrived; the forged tap joined none and changed none.
    assert len(refused_by_batch) >= 1 and sum(refused_by_batch) == 280
    assert shown == Counter({time: 20 for time in _times_from_0830[:14]})
    async with nobat.db.reading() as session:
        holds = await session.scalar(select(func.count()).select_from(Reservation))
        taken = await session.scalar(select(Slot.taken).where(Slot.checkpoint == "khorgos").order_by(Slot.starts_at).limit(1))
    assert holds == taken == 20


# Fifty taps of one account at once are a flood by the bot's own limit (tests/e2e/test_flood.py);
# here every one of them must reach the booking engine, whose hold limit is what is tested.
@pytest.mark.parametrize("settings_overrides", [{"flood": {"updates": 1000}}])
async def test_one_account_tapping_next_50_times_gets_at_most_max_active_holds(tg, nobat):
    dispatcher = tg.user(800_001, first_name="Dispatcher", language_code="ru")
    await nobat.services.accounts.ensure(dispatcher.user_id, "Dispatcher", "ru")
    trucks = [(await nobat.services.trucks.add(dispatcher.user_id, f"{500 + i}TR{i % 20 + 1:02d}")).truck for i in range(50)]
    await dispatcher.send("/book")
    await dispatcher.tap("Хоргос")
    await dispatcher.tap("500 TR 01", timeout=30)
    offer = dispatcher.last_message()
    slot_id = OfferCb.unpack(offer.buttons[0][0][1]).slot_id

    # 50 trucks' Next taps at once, as from a script or 50 phones.
    taps = [
        OfferCb(action=OfferAction.NEXT, checkpoint="khorgos", truck_id=truck.id, slot_id=slot_id).pack()
        for truck in trucks
    ]
    answers = await asyncio.gather(*(dispatcher.tap_data(data, offer.message_id, timeout=60) for data in taps))
    limit = nobat.settings.booking.max_active_holds
    refused = [a for a in answers if a is not None and a.show_alert]
    assert len(refused) == 50 - limit
    expected = tn("ru", "You already hold {count} time. Confirm or cancel it in /mybookings first.",
                  "You already hold {count} times. Confirm or cancel them in /mybookings first.",
                  limit).format(count=limit)
    assert all(a.text == expected for a in refused)
    # And one truck's Next 50 times at once is one hold, not fifty.
    same = await asyncio.gather(*(dispatcher.tap_data(taps[0], offer.message_id, timeout=60) for _ in range(50)))
    assert all(a is not None and not a.show_alert for a in same)
    async with nobat.db.reading() as session:
        holds = await session.scalar(select(func.count()).select_from(Reservation))
    assert holds == limit

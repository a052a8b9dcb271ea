"""The booking engine's rules, through services/ alone (no Telegram)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from services.booking import engine
from services.booking.confirmations import REF_ALPHABET
from services.booking.outcomes import CancelOutcome, ConfirmOutcome
from services.booking.takes import TakeOutcome
from services.container import Services
from services.kernel.rules import BookingRules, Checkpoint
from services.storage.models import ACCOUNT_ID_MAX, ROW_ID_MAX, Release, Reservation, Slot
from services.storage.unavailable import DatabaseUnavailable

KHORGOS = Checkpoint(
    code="khorgos", names={"kk": "Қорғас", "ru": "Хоргос", "fa": "خورگوس"}, timezone="Asia/Almaty",
    slot_minutes=30, trucks_per_slot=2, opens=time(8), closes=time(12), horizon_days=3, lead_minutes=60,
)


@pytest.fixture
def services(db, clock):
    return Services.build(db, [KHORGOS], BookingRules(max_active_holds=2), clock, rng=random.Random(7))


async def driver(services, account_id: int, plate: str):
    await services.accounts.ensure(account_id, f"driver {account_id}", "ru")
    return (await services.trucks.add(account_id, plate)).truck


async def test_showing_the_first_free_slot_reserves_nothing(services):
    offer = await services.calendar.first_free(KHORGOS)
    # 01:00 UTC is 06:00 in Almaty; the post opens at 08:00 local = 03:00 UTC.
    assert offer.starts_at.hour == 3 and offer.starts_at.minute == 0
    again = await services.calendar.first_free(KHORGOS)
    assert again == offer and again.free == 2


async def test_next_holds_then_confirm_books_with_a_readable_reference(services, clock):
    truck = await driver(services, 1, "A123BC77")
    offer = await services.calendar.first_free(KHORGOS)
    taken = await services.booking.take(1, truck.id, offer.slot_id)
    assert taken.outcome is TakeOutcome.HELD
    assert taken.hold.expires_at == clock.now() + timedelta(minutes=15)
    assert (await services.calendar.first_free(KHORGOS)).free == 1
    clock.advance(timedelta(minutes=14))
    confirmed = await services.booking.confirm(1, taken.hold.id)
    assert confirmed.outcome is ConfirmOutcome.BOOKED
    assert len(confirmed.booking.ref) == 7 and set(confirmed.booking.ref) <= set(REF_ALPHABET)
    again = await services.booking.confirm(1, taken.hold.id)
    assert again.outcome is ConfirmOutcome.ALREADY_BOOKED and again.booking.ref == confirmed.booking.ref
    assert [b.ref for b in await services.booking.upcoming(1)] == [confirmed.booking.ref]


async def test_confirm_after_expiry_fails_and_the_place_returns_only_at_its_release_time(services, clock):
    truck = await driver(services, 1, "A123BC77")
    offer = await services.calendar.first_free(KHORGOS)
    hold = (await services.booking.take(1, truck.id, offer.slot_id)).hold
    clock.advance(timedelta(minutes=15))
    result = await services.booking.confirm(1, hold.id)
    assert result.outcome is ConfirmOutcome.EXPIRED
    assert await services.booking.upcoming(1) == []
    # Not back at once: a sniper watching the slot sees it still taken.
    assert (await services.calendar.first_free(KHORGOS)).free == 1
    async with services.db.reading() as session:
        release_at = await session.scalar(select(Release.release_at))
    slot_start = offer.starts_at
    assert clock.now() <= release_at <= slot_start - KHORGOS.lead
    clock.set(release_at)
    assert await services.releases.release_due() == 1
    assert await services.releases.release_due() == 0
    assert (await services.calendar.first_free(KHORGOS)).free == 2


async def test_double_tap_on_next_gives_the_same_hold(services):
    truck = await driver(services, 1, "A123BC77")
    offer = await services.calendar.first_free(KHORGOS)
    first, second, third = await asyncio.gather(*(services.booking.take(1, truck.id, offer.slot_id) for _ in range(3)))
    assert {first.outcome, second.outcome, third.outcome} == {TakeOutcome.HELD}
    assert first.hold.id == second.hold.id == third.hold.id
    assert (await services.calendar.first_free(KHORGOS)).free == 1


async def test_full_slot_offers_the_next_first_free_one(services):
    trucks = [await driver(services, i, f"{i:03d}AAA02") for i in range(1, 4)]
    offer = await services.calendar.first_free(KHORGOS)
    results = [await services.booking.take(i + 1, t.id, offer.slot_id) for i, t in enumerate(trucks)]
    assert [r.outcome for r in results] == [TakeOutcome.HELD, TakeOutcome.HELD, TakeOutcome.SLOT_FULL]
    assert results[2].offer.starts_at == offer.starts_at + timedelta(minutes=30)


async def test_a_truck_gets_one_hold_per_checkpoint_per_day_and_an_account_max_active_holds(services):
    trucks = [await driver(services, 1, plate) for plate in ("A111AA77", "B222BB77", "C333CC77")]
    offer = await services.calendar.first_free(KHORGOS)
    later = await services.calendar.first_free(KHORGOS, after=offer.starts_at)
    assert (await services.booking.take(1, trucks[0].id, offer.slot_id)).outcome is TakeOutcome.HELD
    busy = await services.booking.take(1, trucks[0].id, later.slot_id)
    assert busy.outcome is TakeOutcome.TRUCK_BUSY
    assert (await services.booking.take(1, trucks[1].id, later.slot_id)).outcome is TakeOutcome.HELD
    assert (await services.booking.take(1, trucks[2].id, later.slot_id)).outcome is TakeOutcome.HOLD_LIMIT


async def test_a_driver_and_a_dispatcher_following_one_plate_get_one_hold_for_it(services, clock):
    mine = await driver(services, 1, "A123BC77")
    theirs = await driver(services, 2, "а 123 вс 77")  # the dispatcher types it in Cyrillic: the same plate
    assert theirs.plate == mine.plate
    offer = await services.calendar.first_free(KHORGOS)
    later = await services.calendar.first_free(KHORGOS, after=offer.starts_at)
    taps = await asyncio.gather(services.booking.take(1, mine.id, offer.slot_id),
                                services.booking.take(2, theirs.id, later.slot_id))
    assert [t.outcome for t in taps] == [TakeOutcome.HELD, TakeOutcome.PLATE_BUSY]
    assert taps[1].hold is None and taps[1].truck.plate == "A123BC77"
    async with services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Reservation)) == 1
    # The dispatcher is shown the next day's first time, never one Next would refuse.
    shown = await services.offers.offer(2, theirs.id, "khorgos")
    assert KHORGOS.local_day(shown.offer.starts_at) == KHORGOS.local_day(offer.starts_at) + timedelta(days=1)
    assert (await services.booking.take(2, theirs.id, shown.offer.slot_id)).outcome is TakeOutcome.HELD
    # Once the driver's hold is cancelled, that day is the dispatcher's to take, and no one else's.
    await services.booking.cancel_hold(1, taps[0].hold.id)
    assert (await services.booking.take(2, theirs.id, later.slot_id)).outcome is TakeOutcome.HELD
    again = await services.booking.take(1, mine.id, offer.slot_id)
    assert again.outcome is TakeOutcome.PLATE_BUSY
    # Once the dispatcher's hold has expired (the worker has not been by yet), it holds that day no more.
    clock.advance(timedelta(minutes=15))
    assert (await services.booking.take(1, mine.id, offer.slot_id)).outcome is TakeOutcome.HELD


async def test_the_database_refuses_a_second_hold_of_a_plate_that_a_batch_did_not_see(services, monkeypatch):
    """Another process's batch may take the plate between this batch's read and its write: the unique
    index refuses the insert, and the take decided again sees the other hold."""
    mine = await driver(services, 1, "01KG123ABC")
    theirs = await driver(services, 2, "01 kg 123 abc")
    offer = await services.calendar.first_free(KHORGOS)
    assert (await services.booking.take(1, mine.id, offer.slot_id)).outcome is TakeOutcome.HELD
    read_batch, reads = engine.read_batch, []

    async def blind_once(*args):
        read = await read_batch(*args)
        reads.append(len(read.active))
        if len(reads) == 1:
            read.active = []
        return read

    monkeypatch.setattr(engine, "read_batch", blind_once)
    refused = await services.booking.take(2, theirs.id, offer.slot_id)
    assert refused.outcome is TakeOutcome.PLATE_BUSY and reads == [1, 1]
    async with services.db.reading() as session:
        assert await session.scalar(select(Slot.taken).where(Slot.id == offer.slot_id)) == 1


async def test_nobody_can_take_or_confirm_with_another_drivers_truck_or_hold(services):
    mine = await driver(services, 1, "A123BC77")
    await driver(services, 2, "456BCD02")
    offer = await services.calendar.first_free(KHORGOS)
    assert (await services.booking.take(2, mine.id, offer.slot_id)).outcome is TakeOutcome.NOT_YOURS
    hold = (await services.booking.take(1, mine.id, offer.slot_id)).hold
    assert (await services.booking.confirm(2, hold.id)).outcome is ConfirmOutcome.NOT_FOUND
    assert (await services.booking.cancel_booking(2, hold.id)).outcome is CancelOutcome.NOT_FOUND
    assert await services.booking.get(2, hold.id) is None


async def test_cancelled_booking_frees_its_place_through_the_release_window(services, clock):
    truck = await driver(services, 1, "A123BC77")
    offer = await services.calendar.first_free(KHORGOS)
    hold = (await services.booking.take(1, truck.id, offer.slot_id)).hold
    await services.booking.confirm(1, hold.id)
    # A late tap on the hold message's Cancel must not cancel the booking it became.
    late = await services.booking.cancel_hold(1, hold.id)
    assert late.outcome is CancelOutcome.ALREADY_ENDED and late.reservation.ref
    assert (await services.booking.cancel_booking(1, hold.id)).outcome is CancelOutcome.CANCELLED
    assert (await services.booking.cancel_booking(1, hold.id)).outcome is CancelOutcome.ALREADY_ENDED
    assert await services.booking.upcoming(1) == []
    clock.advance(timedelta(hours=24))
    assert await services.releases.release_due() == 1
    assert (await services.calendar.first_free(KHORGOS)).free == 2


async def test_concurrent_rush_never_overbooks(services):
    """300 drivers tap Next on one slot of capacity 2 at once: exactly 2 holds."""
    trucks = [await driver(services, i, f"{i:03d}KZA01") for i in range(1, 301)]
    offer = await services.calendar.first_free(KHORGOS)
    results = await asyncio.gather(*(services.booking.take(i + 1, t.id, offer.slot_id) for i, t in enumerate(trucks)))
    outcomes = [r.outcome for r in results]
    assert outcomes.count(TakeOutcome.HELD) == 2
    assert outcomes.count(TakeOutcome.SLOT_FULL) == 298
    # The refused are shown the next places in order, two per slot here, not all the same two places.
    shown = Counter(r.offer.starts_at for r in results if r.outcome is TakeOutcome.SLOT_FULL)
    assert min(shown) == offer.starts_at + timedelta(minutes=30)
    assert all(count == 2 for start, count in shown.items() if start != min(shown))
    async with services.db.reading() as session:
        held = await session.scalar(select(func.count()).select_from(Reservation).where(Reservation.slot_id == offer.slot_id))
        taken = await session.scalar(select(Slot.taken).where(Slot.id == offer.slot_id))
    assert held == taken == 2


TWIN = KHORGOS.model_copy(update={"code": "twin", "names": {"kk": "Егіз", "ru": "Близнец", "fa": "دوقلو"}})


async def _rush(services, checkpoint, first_account: int, forged: dict[int, tuple[int, int, int]] | None = None):
    """300 drivers tap Next on the first free slot of `checkpoint` at once, with the forged taps
    (account, truck, slot) inserted at their positions; what each of the 300 got, in arrival order."""
    turns = asyncio.Semaphore(5)  # registered a few at a time: the rush is what comes at once

    async def registered(i: int):
        async with turns:
            return await driver(services, first_account + i, f"{100 + i}KZ{first_account // 1000:02d}")

    trucks = await asyncio.gather(*(registered(i) for i in range(300)))
    slot = (await services.calendar.first_free(checkpoint)).slot_id
    taps = [(first_account + i, truck.id, slot) for i, truck in enumerate(trucks)]
    for position, tap in sorted((forged or {}).items(), reverse=True):
        taps.insert(position, tap)
    results = await asyncio.gather(*(services.booking.take(*tap) for tap in taps), return_exceptions=True)
    genuine = [r for tap, r in zip(taps, results, strict=True) if tap not in (forged or {}).values()]
    seen = [(r.outcome, r.offer and r.offer.starts_at) for r in genuine]  # the twins keep the same hours
    forged_results = [r for tap, r in zip(taps, results, strict=True) if tap in (forged or {}).values()]
    return seen, forged_results


@pytest.fixture
def twin_posts(db, clock):
    return Services.build(db, [KHORGOS, TWIN], BookingRules(max_active_holds=2), clock, rng=random.Random(7))


async def test_taps_naming_ids_no_row_can_have_are_refused_and_change_nobody_elses_outcome(twin_posts):
    """Today's rush, once at the twin post as it should go, once with forged taps among the drivers."""
    reference, _ = await _rush(twin_posts, TWIN, 1000)
    forger = await driver(twin_posts, 1, "777ZZ01")
    forged = {0: (1, forger.id, ROW_ID_MAX + 1), 150: (1, ROW_ID_MAX + 1, 1), 299: (ACCOUNT_ID_MAX + 1, 1, 1),
              300: (1, forger.id, -3)}
    seen, refused = await _rush(twin_posts, KHORGOS, 2000, forged)

    assert seen == reference
    assert [r.outcome for r in refused] == [TakeOutcome.NOT_YOURS] * 4
    assert [outcome for outcome, _ in seen].count(TakeOutcome.HELD) == 2
    shown = Counter(offered for _, offered in seen if offered is not None)
    # Spread over the next places, two to each (more drivers than places: the rest see the first).
    assert len(shown) > 20 and all(count == 2 for start, count in shown.items() if start != min(shown))


async def test_a_fault_of_one_take_fails_that_take_alone_and_changes_nobody_elses_outcome(twin_posts, monkeypatch):
    reference, _ = await _rush(twin_posts, TWIN, 1000)
    poisoned = await driver(twin_posts, 1, "778ZZ01")
    read_batch = engine.read_batch

    async def fails_for_the_poisoned(db, releases, session, requests, now, entries):
        if any(request.account_id == 1 for request in requests):
            raise RuntimeError("a request the database refuses")
        return await read_batch(db, releases, session, requests, now, entries)

    monkeypatch.setattr(engine, "read_batch", fails_for_the_poisoned)
    slot = (await twin_posts.calendar.first_free(KHORGOS)).slot_id
    seen, failed = await _rush(twin_posts, KHORGOS, 2000, {120: (1, poisoned.id, slot)})

    assert seen == reference
    assert len(failed) == 1 and isinstance(failed[0], RuntimeError)


async def test_a_database_that_does_not_answer_fails_the_batch_at_once_not_take_by_take(services, monkeypatch):
    trucks = [await driver(services, i, f"{i:03d}KZ05") for i in range(1, 51)]
    offer = await services.calendar.first_free(KHORGOS)
    tries = []

    async def frozen(db, releases, session, requests, now, entries):
        tries.append(len(requests))
        raise DatabaseUnavailable("a table it needs is locked by another connection")

    monkeypatch.setattr(engine, "read_batch", frozen)
    results = await asyncio.gather(*(services.booking.take(i + 1, t.id, offer.slot_id) for i, t in enumerate(trucks)),
                                   return_exceptions=True)
    assert all(isinstance(r, DatabaseUnavailable) for r in results)
    assert tries == [50], "one try for all: one at a time, each would wait out the same timeout"


async def test_every_hold_is_warned_once_before_it_ends_however_many_are_waiting(services, clock):
    offer = await services.calendar.first_free(KHORGOS)
    holds = []
    for account in range(1, 4):
        truck = await driver(services, account, f"{account:03d}KZ01")
        hold = (await services.booking.take(account, truck.id, offer.slot_id if account < 3 else
                                            (await services.calendar.first_free(KHORGOS)).slot_id)).hold
        await services.booking.show_hold_at(hold.id, account, 10 + account)
        holds.append(hold.id)
    clock.advance(timedelta(minutes=11, seconds=59))
    assert await services.booking.warnings() == [], "nothing to say before the last three minutes"
    clock.advance(timedelta(seconds=2))
    # A worker claims a few at a time: the ones it has warned must not hide the rest.
    warned = [c for _ in range(3) for c in await services.booking.warnings(limit=2)]
    assert sorted(c.hold.id for c in warned) == sorted(holds)
    assert {c.minutes_left for c in warned} == {3}
    clock.advance(timedelta(minutes=1))
    assert await services.booking.warnings() == [], "each driver is told once"


async def test_the_hold_records_its_message_in_the_take_itself(services, clock):
    # A process killed right after the take must not leave a hold that no warning or expiry finds.
    truck = await driver(services, 1, "A123BC77")
    offer = await services.calendar.first_free(KHORGOS)
    hold = (await services.booking.take(1, truck.id, offer.slot_id, chat_id=1, message_id=77)).hold
    async with services.db.reading() as session:
        row = await session.get(Reservation, hold.id)
    assert (row.chat_id, row.message_id) == (1, 77)
    assert await services.booking.warnings() == [], "nothing to say right after the take"
    clock.advance(timedelta(minutes=12, seconds=1))
    [due] = await services.booking.warnings()
    assert (due.chat_id, due.message_id, due.minutes_left) == (1, 77, 3)


async def _holds(services, accounts: range) -> dict[int, int]:
    holds = {}
    for account_id in accounts:
        truck = await driver(services, account_id, f"{account_id:03d}ABC02")
        offer = await services.calendar.first_free(KHORGOS)
        holds[account_id] = (await services.booking.take(account_id, truck.id, offer.slot_id)).hold.id
    return holds


async def test_confirms_at_once_each_book_their_own_hold_once(services, clock):
    holds = await _holds(services, range(1, 7))
    late = holds.pop(6)
    clock.advance(timedelta(minutes=10))
    async with services.db.transaction() as session:  # driver 6's hold ran out before the others
        await session.execute(Reservation.__table__.update().where(Reservation.id == late)
                              .values(expires_at=clock.now() - timedelta(seconds=1)))
    results = await asyncio.gather(
        *(services.booking.confirm(account_id, hold_id) for account_id, hold_id in holds.items()),
        services.booking.confirm(1, holds[1]),  # a double tap, in the same batch
        services.booking.confirm(2, holds[3]),  # a forged button: driver 3's hold
        services.booking.confirm(6, late),
    )
    *mine, double, forged, expired = results
    assert [r.outcome for r in mine] == [ConfirmOutcome.BOOKED] * 5
    assert [r.booking.account_id for r in mine] == list(holds)
    assert len({r.booking.ref for r in mine}) == 5, "every booking its own reference"
    assert double.outcome is ConfirmOutcome.ALREADY_BOOKED and double.booking.ref == mine[0].booking.ref
    assert forged.outcome is ConfirmOutcome.NOT_FOUND and forged.booking is None
    assert expired.outcome is ConfirmOutcome.EXPIRED
    assert [b.id for b in await services.booking.upcoming(3)] == [holds[3]], "driver 3's booking is theirs"
    async with services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Release)) == 1, "the expired place is released"


async def test_a_reference_drawn_twice_in_one_batch_is_drawn_again(services, monkeypatch):
    import services.booking.confirmations as confirmations

    holds = await _holds(services, range(1, 3))
    draws = iter(["CCCCCCC", "CCCCCCC", "CCCCCCC"])
    monkeypatch.setattr(confirmations, "draw_ref", lambda: next(draws, None) or "".join(
        random.choice(REF_ALPHABET) for _ in range(7)))
    first, second = await asyncio.gather(*(services.booking.confirm(a, h) for a, h in holds.items()))
    assert first.outcome is second.outcome is ConfirmOutcome.BOOKED
    assert first.booking.ref != second.booking.ref


async def test_drivers_refused_by_a_later_batch_are_sent_past_the_places_just_shown(services):
    trucks = {a: (await driver(services, a, f"{a:03d}ABC02")).id for a in range(1, 7)}
    first = await services.calendar.first_free(KHORGOS)  # 08:00, two places
    early = await asyncio.gather(*(services.booking.take(a, trucks[a], first.slot_id) for a in range(1, 5)))
    refused = [r for r in early if r.outcome is TakeOutcome.SLOT_FULL]
    assert len(refused) == 2 and {r.offer.starts_at for r in refused} == {first.starts_at + timedelta(minutes=30)}
    # A moment later two more tap the full 08:00: not sent to the 08:30 shown to the first two.
    late = await asyncio.gather(*(services.booking.take(a, trucks[a], first.slot_id) for a in (5, 6)))
    assert {r.offer.starts_at for r in late} == {first.starts_at + timedelta(minutes=60)}
    shown = {a: r.offer.slot_id for a, r in [*zip(range(1, 5), early), *zip((5, 6), late)] if r.offer is not None}
    retaken = await asyncio.gather(*(services.booking.take(a, trucks[a], slot_id) for a, slot_id in shown.items()))
    assert [r.outcome for r in retaken] == [TakeOutcome.HELD] * 4, "no one refused twice"


async def test_offers_asked_at_once_each_skip_their_own_truck_and_plate_busy_days(services):
    held_truck = await driver(services, 1, "111ABC02")
    first = await services.calendar.first_free(KHORGOS)
    assert (await services.booking.take(1, held_truck.id, first.slot_id)).outcome is TakeOutcome.HELD
    free_truck = await driver(services, 2, "222ABC02")
    same_plate = await driver(services, 3, "111ABC02")  # a dispatcher following driver 1's truck
    mine, free, theirs = await asyncio.gather(
        services.offers.offer(1, held_truck.id, "khorgos"),
        services.offers.offer(2, free_truck.id, "khorgos"),
        services.offers.offer(3, same_plate.id, "khorgos"),
    )
    next_day = KHORGOS.local_day(first.starts_at) + timedelta(days=1)
    assert KHORGOS.local_day(mine.offer.starts_at) == next_day, "the held day is not offered again"
    assert free.offer.starts_at == first.starts_at, "one place of 08:00 is still free"
    assert KHORGOS.local_day(theirs.offer.starts_at) == next_day, "nor to another account of the same plate"

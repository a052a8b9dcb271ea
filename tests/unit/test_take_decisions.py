"""Who gets a place when drivers tap Next together: the batch's decision on plain values, with no
database and no event loop (services.booking.takes). The same rules through the databases are in
tests/test_booking_engine.py, tests/test_rush.py and tests/test_processes.py."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from services.booking.takes import (
    BatchDecision,
    Hold,
    Paused,
    SlotSeen,
    TakeOutcome,
    TakeRequest,
    TruckSeen,
    assign_offers,
    decide_takes,
)

MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)
UNTIL = datetime(2026, 11, 23, 1, 15, tzinfo=UTC)  # when a hold made now expires

AIGERIM, ALI, DANA = 1, 2, 3  # two drivers, and a dispatcher with a fleet
AIGERIM_TRUCK, ALI_TRUCK, DANA_TRUCKS = 11, 22, (31, 32, 33)
TRUCKS = [TruckSeen(AIGERIM_TRUCK, AIGERIM, "123ABC02"), TruckSeen(ALI_TRUCK, ALI, "77IR123")] + [
    TruckSeen(truck, DANA, f"{truck}TR01") for truck in DANA_TRUCKS
]

# Khorgos on Monday at 08:00 and 08:30, on Tuesday at 08:00; Dostyk on Monday at 09:00.
EIGHT, EIGHT_THIRTY, TUESDAY_EIGHT, DOSTYK_NINE = 1, 2, 3, 4


def slot(slot_id: int, free: int, day: date | None = MONDAY, checkpoint: str = "khorgos") -> SlotSeen:
    return SlotSeen(slot_id, checkpoint, free, day)


def booked(hold_id: int, account_id: int, truck_id: int, slot_id: int, day: date = MONDAY) -> Hold:
    return Hold(hold_id, account_id, truck_id, slot_id, "khorgos", day, UNTIL, booked=True, ref="ACD3467")


def held(hold_id: int, account_id: int, truck_id: int, slot_id: int, day: date = MONDAY) -> Hold:
    return Hold(hold_id, account_id, truck_id, slot_id, "khorgos", day, UNTIL)


def decide(*taps: tuple[int, ...], slots: list[SlotSeen], active: Iterable[Hold] = (), limit: int = 2,
           trucks: list[TruckSeen] = TRUCKS) -> BatchDecision:
    """The taps (account, truck, slot[, chat, message]) in the order they arrived."""
    return decide_takes([TakeRequest(*tap) for tap in taps], trucks={t.id: t for t in trucks},
                        slots={s.id: s for s in slots}, active=active, max_active_holds=limit, hold_until=UNTIL)


def outcomes(decided: BatchDecision) -> list[TakeOutcome]:
    return [d.outcome for d in decided.decisions]


def test_the_driver_who_tapped_first_gets_the_last_place():
    decided = decide((ALI, ALI_TRUCK, EIGHT), (AIGERIM, AIGERIM_TRUCK, EIGHT), slots=[slot(EIGHT, 1)])
    assert outcomes(decided) == [TakeOutcome.HELD, TakeOutcome.SLOT_FULL]
    [hold] = decided.new_holds
    assert (hold.account_id, hold.truck_id, hold.slot_id, hold.day) == (ALI, ALI_TRUCK, EIGHT, MONDAY)
    assert hold.id is None and hold.expires_at == UNTIL and not hold.booked
    assert decided.decisions[0].hold is hold


def test_a_new_hold_carries_the_message_that_will_show_it():
    decided = decide((ALI, ALI_TRUCK, EIGHT, ALI, 501), slots=[slot(EIGHT, 1)])
    [hold] = decided.new_holds
    assert (hold.chat_id, hold.message_id) == (ALI, 501)


def test_a_full_slot_refuses_everyone_after_its_places():
    drivers = [TruckSeen(100 + i, i, f"{i:03d}KZ01") for i in range(1, 6)]
    decided = decide(*((i, 100 + i, EIGHT) for i in range(1, 6)), slots=[slot(EIGHT, 2)], trucks=drivers)
    assert outcomes(decided) == [TakeOutcome.HELD] * 2 + [TakeOutcome.SLOT_FULL] * 3
    assert [h.account_id for h in decided.new_holds] == [1, 2]
    assert decided.to_offer == {"khorgos": 3}, "the three refused are each to be shown another time"
    nobody = decide((ALI, ALI_TRUCK, EIGHT), slots=[slot(EIGHT, 0)])
    assert outcomes(nobody) == [TakeOutcome.SLOT_FULL] and nobody.new_holds == [] and nobody.granted == {}


def test_the_hold_limit_counts_the_holds_granted_earlier_in_the_same_batch():
    fleet = [(DANA, truck, EIGHT) for truck in DANA_TRUCKS]
    decided = decide(*fleet, slots=[slot(EIGHT, 10)], limit=2)
    assert outcomes(decided) == [TakeOutcome.HELD, TakeOutcome.HELD, TakeOutcome.HOLD_LIMIT]
    assert decided.decisions[2].hold is None and decided.granted == {EIGHT: 2}
    # With one hold from before the batch, the second truck is already one too many.
    one_held = decide(*fleet[1:], slots=[slot(EIGHT, 10), slot(TUESDAY_EIGHT, 10, TUESDAY)],
                      active=[held(70, DANA, DANA_TRUCKS[0], TUESDAY_EIGHT, TUESDAY)])
    assert outcomes(one_held) == [TakeOutcome.HELD, TakeOutcome.HOLD_LIMIT]


def test_bookings_do_not_count_against_the_hold_limit():
    confirmed = [booked(70 + i, DANA, truck, TUESDAY_EIGHT, TUESDAY) for i, truck in enumerate(DANA_TRUCKS)]
    decided = decide(*((DANA, truck, EIGHT) for truck in DANA_TRUCKS), slots=[slot(EIGHT, 10)], active=confirmed)
    assert outcomes(decided) == [TakeOutcome.HELD, TakeOutcome.HELD, TakeOutcome.HOLD_LIMIT]


def test_a_truck_booked_that_day_at_that_checkpoint_is_busy_and_takes_nothing():
    booking = booked(70, ALI, ALI_TRUCK, EIGHT)
    decided = decide((ALI, ALI_TRUCK, EIGHT_THIRTY), slots=[slot(EIGHT_THIRTY, 5)], active=[booking])
    assert outcomes(decided) == [TakeOutcome.TRUCK_BUSY]
    assert decided.decisions[0].hold is booking, "the driver is shown the booking he has"
    assert decided.new_holds == [] and decided.granted == {}
    # Another day, or another checkpoint the same day, is free for that truck.
    elsewhere = decide((ALI, ALI_TRUCK, TUESDAY_EIGHT), (ALI, ALI_TRUCK, DOSTYK_NINE), active=[booking],
                       slots=[slot(TUESDAY_EIGHT, 5, TUESDAY), slot(DOSTYK_NINE, 5, checkpoint="dostyk")])
    assert outcomes(elsewhere) == [TakeOutcome.HELD, TakeOutcome.HELD]


def test_two_taps_for_one_truck_on_two_times_of_a_day_hold_only_the_first():
    decided = decide((ALI, ALI_TRUCK, EIGHT_THIRTY), (ALI, ALI_TRUCK, EIGHT),
                     slots=[slot(EIGHT, 5), slot(EIGHT_THIRTY, 5)])
    assert outcomes(decided) == [TakeOutcome.HELD, TakeOutcome.TRUCK_BUSY]
    [hold] = decided.new_holds
    assert hold.slot_id == EIGHT_THIRTY and decided.decisions[1].hold is hold
    assert decided.granted == {EIGHT_THIRTY: 1}


def test_a_double_tap_on_next_returns_the_same_hold_not_a_second_one():
    decided = decide(*[(ALI, ALI_TRUCK, EIGHT)] * 3, slots=[slot(EIGHT, 5)])
    assert outcomes(decided) == [TakeOutcome.HELD] * 3
    [hold] = decided.new_holds
    assert all(d.hold is hold for d in decided.decisions)
    assert decided.granted == {EIGHT: 1}
    # A tap that arrives in a later batch gets the hold the first one made, with its id.
    earlier = held(70, ALI, ALI_TRUCK, EIGHT)
    again = decide((ALI, ALI_TRUCK, EIGHT), slots=[slot(EIGHT, 4)], active=[earlier])
    assert outcomes(again) == [TakeOutcome.HELD] and again.decisions[0].hold is earlier
    assert again.new_holds == [] and again.granted == {}
    # Once confirmed, Next on the same time is not a second hold either: the truck is booked.
    after_confirm = decide((ALI, ALI_TRUCK, EIGHT), slots=[slot(EIGHT, 4)], active=[booked(70, ALI, ALI_TRUCK, EIGHT)])
    assert outcomes(after_confirm) == [TakeOutcome.TRUCK_BUSY] and after_confirm.new_holds == []


# Dana dispatches Ali's truck too: her account follows his plate as a truck of its own.
DANA_FOLLOWS_ALI = 34
FOLLOWED = TRUCKS + [TruckSeen(DANA_FOLLOWS_ALI, DANA, "77IR123")]


def test_two_accounts_following_one_plate_get_one_hold_for_it_per_checkpoint_per_day():
    decided = decide((ALI, ALI_TRUCK, EIGHT), (DANA, DANA_FOLLOWS_ALI, EIGHT_THIRTY), trucks=FOLLOWED,
                     slots=[slot(EIGHT, 5), slot(EIGHT_THIRTY, 5)])
    assert outcomes(decided) == [TakeOutcome.HELD, TakeOutcome.PLATE_BUSY]
    [hold] = decided.new_holds
    assert (hold.account_id, hold.plate) == (ALI, "77IR123") and decided.granted == {EIGHT: 1}
    assert decided.decisions[1].hold is None, "the dispatcher is not shown the driver's hold"
    assert decided.decisions[1].offer_at is None and decided.to_offer == {}


def test_a_plate_held_or_booked_from_another_account_is_busy_that_day_only_and_at_that_checkpoint_only():
    for earlier in (held(70, ALI, ALI_TRUCK, EIGHT), booked(70, ALI, ALI_TRUCK, EIGHT)):
        earlier = replace(earlier, plate="77IR123")
        busy = decide((DANA, DANA_FOLLOWS_ALI, EIGHT_THIRTY), trucks=FOLLOWED, active=[earlier],
                      slots=[slot(EIGHT_THIRTY, 5)])
        assert outcomes(busy) == [TakeOutcome.PLATE_BUSY] and busy.new_holds == [] and busy.granted == {}
        elsewhere = decide((DANA, DANA_FOLLOWS_ALI, TUESDAY_EIGHT), (DANA, DANA_FOLLOWS_ALI, DOSTYK_NINE),
                           trucks=FOLLOWED, active=[earlier],
                           slots=[slot(TUESDAY_EIGHT, 5, TUESDAY), slot(DOSTYK_NINE, 5, checkpoint="dostyk")])
        assert outcomes(elsewhere) == [TakeOutcome.HELD, TakeOutcome.HELD]


def test_the_plate_rule_refuses_before_the_hold_limit_and_a_full_slot_and_never_a_trucks_own_hold():
    earlier = replace(held(70, ALI, ALI_TRUCK, EIGHT), plate="77IR123")
    # Dana holds two times already and the slot is full: the plate is still the reason she hears.
    hers = [held(71 + i, DANA, DANA_TRUCKS[i], TUESDAY_EIGHT, TUESDAY) for i in range(2)]
    refused = decide((DANA, DANA_FOLLOWS_ALI, EIGHT_THIRTY), trucks=FOLLOWED, active=[earlier, *hers],
                     slots=[slot(EIGHT_THIRTY, 0)])
    assert outcomes(refused) == [TakeOutcome.PLATE_BUSY]
    # Ali's own second tap on his hold is the same hold, not a refusal by his own plate.
    again = decide((ALI, ALI_TRUCK, EIGHT), trucks=FOLLOWED, active=[earlier], slots=[slot(EIGHT, 4)])
    assert outcomes(again) == [TakeOutcome.HELD] and again.decisions[0].hold is earlier


def test_a_hold_from_before_the_plate_rule_blocks_only_its_own_truck():
    legacy = held(70, ALI, ALI_TRUCK, EIGHT)  # no plate recorded
    decided = decide((DANA, DANA_FOLLOWS_ALI, EIGHT_THIRTY), (ALI, ALI_TRUCK, EIGHT_THIRTY), trucks=FOLLOWED,
                     active=[legacy], slots=[slot(EIGHT_THIRTY, 5)])
    assert outcomes(decided) == [TakeOutcome.HELD, TakeOutcome.TRUCK_BUSY]


def test_a_forged_button_for_someone_elses_truck_takes_nothing():
    # Ali's button carries Aigerim's truck; and a truck that no longer exists (removed).
    decided = decide((ALI, AIGERIM_TRUCK, EIGHT), (ALI, 999, EIGHT), (AIGERIM, AIGERIM_TRUCK, EIGHT),
                     slots=[slot(EIGHT, 1)])
    assert outcomes(decided) == [TakeOutcome.NOT_YOURS, TakeOutcome.NOT_YOURS, TakeOutcome.HELD]
    assert decided.decisions[0].hold is None and decided.decisions[0].offer_at is None
    assert [h.account_id for h in decided.new_holds] == [AIGERIM], "the place stays for its owner's tap"


def test_a_slot_past_its_lead_time_or_unknown_is_gone():
    decided = decide((ALI, ALI_TRUCK, EIGHT), (AIGERIM, AIGERIM_TRUCK, 404), slots=[slot(EIGHT, 5, day=None)])
    assert outcomes(decided) == [TakeOutcome.SLOT_GONE, TakeOutcome.SLOT_GONE]
    assert decided.new_holds == [] and decided.granted == {}
    # The one whose slot passed is shown another time at that checkpoint; an unknown slot names none.
    assert [d.offer_at for d in decided.decisions] == ["khorgos", None]
    assert decided.to_offer == {"khorgos": 1}


def test_refused_drivers_are_offered_distinct_next_places_in_arrival_order():
    drivers = [TruckSeen(100 + i, i, f"{i:03d}KZ01") for i in range(1, 7)]
    decided = decide((1, 101, EIGHT), (2, 102, EIGHT), (3, 103, DOSTYK_NINE), (4, 104, EIGHT), (5, 105, EIGHT),
                     (6, 106, DOSTYK_NINE), trucks=drivers,
                     slots=[slot(EIGHT, 1), slot(DOSTYK_NINE, 0, checkpoint="dostyk")])
    assert outcomes(decided) == [TakeOutcome.HELD] + [TakeOutcome.SLOT_FULL] * 5
    assert decided.to_offer == {"khorgos": 3, "dostyk": 2}
    # 08:30 has two places left and 09:00 one: each place goes to one driver; Dostyk has one left.
    offers = assign_offers(decided.decisions, {"khorgos": ["08:30", "08:30", "09:00"], "dostyk": ["10:00"]})
    assert offers == [None, "08:30", "10:00", "08:30", "09:00", None]


def test_when_the_places_run_out_the_last_refused_are_offered_nothing():
    drivers = [TruckSeen(100 + i, i, f"{i:03d}KZ01") for i in range(1, 4)]
    decided = decide(*((i, 100 + i, EIGHT) for i in range(1, 4)), slots=[slot(EIGHT, 0)], trucks=drivers)
    assert assign_offers(decided.decisions, {"khorgos": ["08:30"]}) == ["08:30", None, None]
    assert assign_offers(decided.decisions, {"khorgos": []}) == [None, None, None]
    assert assign_offers(decided.decisions, {}) == [None, None, None]


def test_in_a_rush_the_places_granted_per_slot_are_exactly_the_holds_created():
    rng = random.Random(2026)
    slots = [slot(s, rng.randint(0, 20)) for s in range(1, 41)] + [slot(41, 5, day=None)]
    # One plate in ten is followed by two accounts (a driver and a dispatcher).
    drivers = [TruckSeen(10_000 + a, a, f"{a - 1 if a % 10 == 1 else a:05d}KZ") for a in range(1, 2001)]
    # 3,000 taps by 2,000 drivers: double taps, one button in twenty forged, and a slot just passed.
    taps = [(a, 10_000 + (a if rng.random() < 0.95 else rng.randint(1, 2000)), rng.randint(1, 41))
            for a in (rng.randint(1, 2000) for _ in range(3000))]
    decided = decide(*taps, slots=slots, trucks=drivers)

    assert decided.granted == dict(Counter(h.slot_id for h in decided.new_holds))
    assert all(decided.granted.get(s.id, 0) <= s.free for s in slots), "no slot gives more than it has"
    new = [d for d in decided.decisions if d.outcome is TakeOutcome.HELD and d.hold.id is None]
    assert {id(d.hold) for d in new} == {id(h) for h in decided.new_holds}
    assert len({h.key for h in decided.new_holds}) == len(decided.new_holds), "one hold per truck per day"
    assert len({h.plate_key for h in decided.new_holds}) == len(decided.new_holds), "one hold per plate per day"
    assert max(Counter(h.account_id for h in decided.new_holds).values()) <= 2
    with_room = {s.id for s in slots if decided.granted.get(s.id, 0) < s.free}
    assert not any(d.outcome is TakeOutcome.SLOT_FULL and tap[2] in with_room
                   for d, tap in zip(decided.decisions, taps)), "nobody is refused from a slot with a place left"


NOW = UNTIL - timedelta(minutes=15)


def test_a_banned_or_rating_blocked_account_takes_nothing_until_then_but_keeps_its_double_tap():
    later = NOW + timedelta(hours=1)
    mine = held(7, ALI, ALI_TRUCK, EIGHT)
    decided = decide_takes(
        [TakeRequest(ALI, ALI_TRUCK, EIGHT), TakeRequest(AIGERIM, AIGERIM_TRUCK, EIGHT),
         TakeRequest(DANA, DANA_TRUCKS[0], EIGHT)],
        trucks={t.id: t for t in TRUCKS}, slots={EIGHT: slot(EIGHT, 5)}, active=[mine], max_active_holds=2,
        hold_until=UNTIL, now=NOW, paused={ALI: Paused(TakeOutcome.RATING_BLOCKED, later),
                                           AIGERIM: Paused(TakeOutcome.BANNED, later)})
    assert outcomes(decided) == [TakeOutcome.HELD, TakeOutcome.BANNED, TakeOutcome.HELD]
    assert decided.decisions[0].hold is mine, "the hold from before the pause answers its double tap"
    assert decided.decisions[1].until == later
    assert [h.account_id for h in decided.new_holds] == [DANA]


def test_holds_per_hour_count_the_last_hour_and_this_batch_and_say_when_the_next_is_possible():
    recent = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=20)]
    decided = decide_takes(
        [TakeRequest(DANA, truck, EIGHT) for truck in DANA_TRUCKS], trucks={t.id: t for t in TRUCKS},
        slots={EIGHT: slot(EIGHT, 10)}, active=[], max_active_holds=10, hold_until=UNTIL, now=NOW,
        recent={DANA: recent}, max_holds_per_hour=3)
    assert outcomes(decided) == [TakeOutcome.HELD, TakeOutcome.HOURLY_LIMIT, TakeOutcome.HOURLY_LIMIT]
    assert decided.decisions[1].until == recent[0] + timedelta(hours=1)

"""The audit chain's hash, without a database: the canonical text anyone can rebuild, and a hash
that moves with every field and with the record before."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.audit.trail import GENESIS, Entry, canonical, canonical_json, chain_hash
from services.booking.take_writes import take_entries
from services.booking.takes import Decision, Hold, TakeOutcome, TakeRequest, TruckSeen

ENTRY = Entry(datetime(2026, 11, 23, 6, 0, 0, 250, tzinfo=timezone(timedelta(hours=5))), "account:7", "hold.take",
              "reservation:1", "held", 7,
              {"plate": "ایران ۱۲", "note": 'a "quoted"\nline \\ \u2068x\u2069', "n": [1, None]})


@pytest.mark.parametrize("entry", [ENTRY, dataclasses.replace(ENTRY, account_id=None, details={})])
def test_the_canonical_text_is_what_any_json_library_gives_with_sorted_keys_and_no_whitespace(entry):
    fields = {"id": 12, "at": "2026-11-23T01:00:00.000250+00:00", "actor": entry.actor, "action": entry.action,
              "subject": entry.subject, "result": entry.result, "account_id": entry.account_id,
              "details": entry.details}
    assert canonical(12, entry) == json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert "ایران" in canonical(12, entry) or not entry.details, "text as itself, not \\u escapes"


@pytest.mark.parametrize("value", [
    {}, {"b": 1, "a": [True, False, None], "c": {"z": 0.1, "y": -2.5e-10, "x": 10**20}},
    {"plate": "ایران ۱۲", "note": 'a "quoted"\nline \\ \u2068x\u2069\x00'}, [{"b": 2, "a": 1}], "text", 3,
])
def test_canonical_json_is_what_json_dumps_gives_with_sorted_keys_and_no_whitespace(value):
    assert canonical_json(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_canonical_json_refuses_what_json_cannot_write():
    with pytest.raises(TypeError):
        canonical_json({"at": datetime(2026, 11, 23, tzinfo=UTC)})


def test_the_hash_moves_with_every_field_the_id_and_the_previous_hash():
    base = chain_hash(GENESIS, 1, ENTRY)
    changed = [
        chain_hash(GENESIS, 2, ENTRY), chain_hash("1" * 64, 1, ENTRY),
        *(chain_hash(GENESIS, 1, dataclasses.replace(ENTRY, **{name: value})) for name, value in [
            ("at", ENTRY.at + timedelta(microseconds=1)), ("actor", "account:8"), ("action", "hold.refused"),
            ("subject", "reservation:2"), ("result", "slot_full"), ("account_id", 8),
            ("details", {**ENTRY.details, "n": [1, 0]}),
        ]),
    ]
    assert len({base, *changed}) == len(changed) + 1
    assert chain_hash(GENESIS, 1, dataclasses.replace(ENTRY, at=ENTRY.at.astimezone(UTC))) == base, \
        "the same moment in another zone is the same record"


def test_the_take_records_details_are_the_canonical_json_of_what_was_asked_and_what_came_of_it():
    """The booking engine writes a take's details as text, not as a dict for the trail to encode:
    each form must be exactly the text `canonical_json` gives, or the chain would hash another."""
    now = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    day, until = date(2026, 11, 24), now + timedelta(minutes=15)
    plate = 'ایران "۱۲"\\'  # not a plate the rules let in: text that JSON must escape
    trucks = {5: TruckSeen(5, 1, plate), 6: TruckSeen(6, 2, "110ABC02"), 7: TruckSeen(7, 3, plate)}
    new = Hold(None, 1, 5, 40, "khorgos", day, until, plate=plate)
    taps = [
        (TakeRequest(1, 5, 40), Decision(TakeOutcome.HELD, hold=new)),
        (TakeRequest(1, 5, 40), Decision(TakeOutcome.HELD, hold=new)),  # the double tap
        (TakeRequest(1, 5, 41), Decision(TakeOutcome.TRUCK_BUSY, hold=new)),
        (TakeRequest(2, 6, 41), Decision(TakeOutcome.TRUCK_BUSY, hold=dataclasses.replace(new, id=77, truck_id=6))),
        (TakeRequest(3, 7, 40), Decision(TakeOutcome.PLATE_BUSY)),
        (TakeRequest(2, 6, 42), Decision(TakeOutcome.SLOT_FULL, offer_at="khorgos")),
        (TakeRequest(3, 7, 42), Decision(TakeOutcome.BANNED, until=now + timedelta(days=90))),
    ]
    entries = list(take_entries([r for r, _ in taps], [d for _, d in taps], {new.key: 501}, trucks, now))

    asked = [json.loads(entry.details) for entry in entries]
    assert [entry.details for entry in entries] == [canonical_json(details) for details in asked]
    assert asked == [
        {"truck_id": 5, "slot_id": 40, "plate": plate, "expires_at": "2026-11-23T19:15:00.000000+00:00"},
        {"truck_id": 5, "slot_id": 40, "again": True},
        {"truck_id": 5, "slot_id": 41, "busy_with": 501},
        {"truck_id": 6, "slot_id": 41, "busy_with": 77},
        {"truck_id": 7, "slot_id": 40, "plate": plate},
        {"truck_id": 6, "slot_id": 42},
        {"truck_id": 7, "slot_id": 42},
    ]
    assert [(e.action, e.subject, e.result) for e in entries] == [
        ("hold.take", "reservation:501", "held"), ("hold.take", "reservation:501", "held"),
        ("hold.refused", "slot:41", "truck_busy"), ("hold.refused", "slot:41", "truck_busy"),
        ("hold.refused", "slot:40", "plate_busy"), ("hold.refused", "slot:42", "slot_full"),
        ("hold.refused", "slot:42", "banned"),
    ]
    record = canonical(9, entries[0])
    assert json.loads(record)["details"] == asked[0] and chain_hash(GENESIS, 9, entries[0]) == chain_hash(
        GENESIS, 9, dataclasses.replace(entries[0], details=asked[0])), "text or dict, the same record"

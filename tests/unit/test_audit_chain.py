"""The audit chain's hash, without a database: the canonical text anyone can rebuild, and a hash
that moves with every field and with the record before."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.audit import GENESIS, Entry, canonical, canonical_json, chain_hash

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

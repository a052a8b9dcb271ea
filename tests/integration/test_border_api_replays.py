"""The border API as a recording meets it, and a body that is not what a request takes.

A signed request is good for the whole skew its timestamp is allowed (five minutes each way). Within
it, a replayed registration of a truck must not set the truck's phones back (a registration carries
its version: one not newer than the version applied is 409), nor may one without a version be
applied (428). And whatever the body, signed correctly or not, the answer is a JSON 4xx that says
what is wrong, never a 500 with a traceback in the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from sqlalchemy import insert, select

from border_api.endpoints import signature
from border_api.routes import SIGNATURE_HEADER, TIMESTAMP_HEADER
from services.accounts.follow_tables import AccountPhone, RegisteredTruck
from services.notices.tables import Event
from tests.border import SECRET, count, event
from tests.integration import test_border_api
from tests.integration.test_border_api import follows, two_followers

# The border API's settings: the bot with the shared secret (the border system calling it is the
# integration tests' `border` fixture).
settings_overrides = test_border_api.settings_overrides

PHONE_A, PHONE_B = "77012345678", "77015550000"


async def sharing(nobat, clock, *phones: str) -> list[int]:
    """An account per phone, each having shared it with the bot: accounts 7101, 7102..."""
    accounts = [7101 + i for i in range(len(phones))]
    for account_id in accounts:
        await nobat.services.accounts.ensure(account_id, "Driver", "kk")
    async with nobat.db.transaction() as session:
        await session.execute(insert(AccountPhone), [{"account_id": account_id, "phone": phone,
                                                      "shared_at": clock.now()}
                                                     for account_id, phone in zip(accounts, phones)])
    return accounts


def recorded(method: str, path: str, body: dict) -> tuple[bytes, dict]:
    """A request signed once, as someone on the way records it: its body and its headers, to send again."""
    raw, stamp = json.dumps(body).encode(), str(int(time.time()))
    return raw, {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(SECRET, stamp, method, path, raw)}


async def registered_phones(db, plate: str = "123ABC02") -> set[str]:
    async with db.reading() as session:
        return set(await session.scalars(select(RegisteredTruck.phone).where(RegisteredTruck.plate == plate)))


async def test_a_registration_replayed_within_its_window_is_409_and_the_truck_keeps_its_phones(nobat, border, clock):
    """The review's case: phone A, then phone B, then the first signed request again."""
    owner_a, owner_b = await sharing(nobat, clock, PHONE_A, PHONE_B)
    first, first_headers = recorded("PUT", "/v1/trucks/123ABC02", {"version": 1, "phones": ["+7 701 234 56 78"]})
    status, answer = await border.call("PUT", "/v1/trucks/123ABC02", first, headers=first_headers)
    assert (status, answer["following"]) == (200, [owner_a])
    status, answer = await border.call("PUT", "/v1/trucks/123ABC02", {"version": 2, "phones": ["+7 701 555 00 00"]})
    assert (status, answer) == (200, {"plate": "123ABC02", "version": 2, "phones": [PHONE_B],
                                      "following": [owner_b]})

    status, answer = await border.call("PUT", "/v1/trucks/123ABC02", first, headers=first_headers)
    assert (status, answer["error"]) == (409, "stale_version"), answer
    assert "version 1" in answer["message"] and "version 2" in answer["message"], answer
    assert answer["details"] == [{"field": "version", "problem": "not newer than the version applied", "applied": 2}]
    assert await follows(nobat.db) == {(owner_b, "phone")}
    assert await registered_phones(nobat.db) == {PHONE_B}


async def test_a_registration_overtaken_by_a_later_one_is_refused_even_after_the_list_was_emptied(nobat, border,
                                                                                                clock):
    owner_a, owner_b = await sharing(nobat, clock, PHONE_A, PHONE_B)

    def put(version: int, *phones: str):
        return border.call("PUT", "/v1/trucks/123ABC02", {"version": version, "phones": list(phones)})

    assert (await put(1_700_000_000_500, PHONE_A))[0] == 200  # a version may be a time in milliseconds
    status, answer = await put(1_700_000_000_400, PHONE_B)  # signed later, sent earlier: it arrives late
    assert (status, answer["error"]) == (409, "stale_version"), answer
    assert await follows(nobat.db) == {(owner_a, "phone")}

    # An empty list ends the registration, not its versions: the older list stays refused.
    assert await put(1_700_000_000_600) == (200, {"plate": "123ABC02", "version": 1_700_000_000_600, "phones": [],
                                                 "following": []})
    status, answer = await put(1_700_000_000_500, PHONE_A)
    assert (status, answer["error"]) == (409, "stale_version"), answer
    assert await follows(nobat.db) == set() and await registered_phones(nobat.db) == set()
    status, answer = await put(1_700_000_000_700, PHONE_B)
    assert (status, answer["following"]) == (200, [owner_b])
    # Each plate counts its own versions.
    status, answer = await border.call("PUT", "/v1/trucks/555KZX01", {"version": 1, "phones": [PHONE_A]})
    assert (status, answer["following"]) == (200, [owner_a])


async def test_a_registration_without_a_version_is_428_and_changes_nothing(nobat, border, clock):
    await sharing(nobat, clock, PHONE_A)
    status, answer = await border.call("PUT", "/v1/trucks/123ABC02", {"phones": ["+7 701 234 56 78"]})
    assert (status, answer["error"]) == (428, "version_required"), answer
    assert '"version"' in answer["message"], answer
    assert await follows(nobat.db) == set() and await registered_phones(nobat.db) == set()


async def test_registrations_sent_at_once_leave_the_newest_version_whatever_their_order(nobat, border, clock):
    accounts = await sharing(nobat, clock, *(f"7701000000{i}" for i in range(8)))
    answers = await asyncio.gather(*(border.call("PUT", "/v1/trucks/123ABC02",
                                                 {"version": version + 1, "phones": [f"+7701000000{version}"]})
                                     for version in reversed(range(8))))
    assert {status for status, _ in answers} <= {200, 409}, answers
    assert answers[0] == (200, {"plate": "123ABC02", "version": 8, "phones": ["77010000007"],
                                "following": [accounts[7]]}), "the newest is applied, whenever it came"
    assert await follows(nobat.db) == {(accounts[7], "phone")}
    assert await registered_phones(nobat.db) == {"77010000007"}


# --- bodies that are not what a request takes ---------------------------------------------------

NESTED = b"[" * 30_000 + b"]" * 30_000  # 60 KB, under the 64 KiB a body may have
BODY_ENDPOINTS = [("POST", "/v1/events"), ("PUT", "/v1/trucks/123ABC02")]


@pytest.mark.parametrize("method, path", BODY_ENDPOINTS)
async def test_sixty_kb_of_nested_brackets_signed_is_400_and_no_traceback(nobat, border, caplog, method, path):
    await two_followers(nobat.services)
    with caplog.at_level(logging.INFO):
        status, answer = await border.call(method, path, NESTED)
        assert (status, answer["error"]) == (400, "malformed_json"), answer
        assert "nested too deeply" in answer["message"]
        # Inside a field as well.
        status, answer = await border.call(method, path, b'{"phones": ' + NESTED[15_000:-15_000] + b"}")
        assert (status, answer["error"]) == (400, "malformed_json"), answer
    assert "Traceback" not in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], caplog.text
    assert await count(nobat.db, Event) == 0 and await registered_phones(nobat.db) == set()


def _body(fields: dict) -> bytes:
    """An event and a registration in one body, so that each endpoint meets the fault in a field it takes."""
    return json.dumps({**event("kh-1"), "version": 1, "phones": [PHONE_A], **fields}).encode()


MALFORMED = {
    "not utf-8": b'{"event_id": "kh-\xff", "phones": []}',
    # An array of events is a batch of POST /v1/events (tests/integration/test_border_api_batches.py);
    # one that holds anything but objects is no batch, and no registration either.
    "an array": b"[" + _body({}) + b", 12]",
    "a number": b"12",
    "null": b"null",
    "a number of 5000 digits": b'{"version": ' + b"9" * 5000 + b"}",
    "nul in a string": _body({"event_id": "kh\u0000", "booking_ref": "AB\u0000", "phones": ["+7701\u0000"]}),
    "nul in a key": _body({"gate\u0000": "3"}),
    "a lone surrogate": _body({"event_id": "kh-\ud800", "phones": ["\udfff"]}),
    "a lone surrogate deep down": _body({"details": {"documents": ["CMR", "\ud83d"]}}),
}


@pytest.mark.parametrize("method, path", BODY_ENDPOINTS)
@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_body_that_is_not_json_of_unicode_text_is_400_and_no_traceback(nobat, border, caplog, method, path,
                                                                               raw):
    await two_followers(nobat.services)
    with caplog.at_level(logging.INFO):
        status, answer = await border.call(method, path, raw)
    assert (status, answer["error"]) == (400, "malformed_json"), answer
    assert "Traceback" not in caplog.text
    assert await count(nobat.db, Event) == 0 and await registered_phones(nobat.db) == set()


@pytest.mark.parametrize("fields, wrong", [
    ({"occurred_at": "9999-12-31T23:00:00-05:00"}, ["occurred_at"]),
    ({"occurred_at": "0001-01-01T00:30:00+05:00"}, ["occurred_at"]),
    ({"type": "booking_moved", "details": {"new_time": "9999-12-31T22:00:00-12:00"}}, ["details.new_time"]),
    ({"occurred_at": 1e999}, ["occurred_at"]),  # infinity, as Python's JSON reads it
    ({"details": {"queue_position": 10**30}}, ["details.queue_position"]),
], ids=["after 9999 in utc", "before year 1 in utc", "a new time after 9999", "infinity", "a huge number"])
async def test_an_event_with_a_time_or_number_out_of_range_is_422_naming_it(nobat, border, caplog, fields, wrong):
    await two_followers(nobat.services)
    with caplog.at_level(logging.INFO):
        status, answer = await border.post_event({**event("kh-range"), **fields})
    assert (status, answer["error"]) == (422, "invalid"), answer
    assert [problem["field"] for problem in answer["details"]] == wrong, answer
    assert "Traceback" not in caplog.text
    assert await count(nobat.db, Event) == 0


@pytest.mark.parametrize("query", ["event_id=kh%00", "plate=123ABC02%00"])
async def test_a_query_with_a_nul_is_422(nobat, border, caplog, query):
    await two_followers(nobat.services)
    with caplog.at_level(logging.INFO):
        status, answer = await border.call("GET", "/v1/deliveries?" + query, NESTED)  # a GET's body is not read
    assert (status, answer["error"]) == (422, "invalid"), answer
    assert "Traceback" not in caplog.text

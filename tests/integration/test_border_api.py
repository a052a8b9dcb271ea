"""The border system's API as the border system meets it: signed events in, deliveries queued for
every chat that follows the truck, trucks registered with phones; and every request that is not
exactly right refused with a JSON error, nothing stored."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import os
import re
import time
from datetime import timedelta
from urllib.parse import quote

import aiohttp
import pytest
from sqlalchemy import insert, select

from border_api.endpoints import signature
from services.accounts.follow_tables import AccountPhone, Follow
from services.booking.outcomes import ConfirmOutcome
from services.booking.takes import TakeOutcome
from services.container import Services
from services.notices.tables import Event
from services.outbox.tables import OutboxRow
from services.storage.database import Database
from services.storage.models import Release, Reservation, Slot
from tests.border import SECRET, count, event
from tests.processes import ROOT, raw_request


@pytest.fixture
def settings_overrides() -> dict:
    return {"api": {"secret": SECRET, "port": 0}}


async def two_followers(services: Services, plate: str = "123 ABC 02") -> tuple[int, int]:
    """A driver and a dispatcher who both added the truck."""
    for account_id in (7001, 7002):
        await services.accounts.ensure(account_id, f"Account {account_id}", "ru")
        await services.trucks.add(account_id, plate)
    return 7001, 7002


async def test_a_signed_event_queues_one_delivery_for_every_follower(nobat, border, clock):
    driver, dispatcher = await two_followers(nobat.services)
    status, answer = await border.post_event(event("khorgos-1", type="called"))
    assert status == 202
    assert answer == {"event_id": "khorgos-1", "outcome": "queued", "plate": "123ABC02", "booking_ref": None,
                      "deliveries": 2, "booking_cancelled": None, "booking_moved": None, "new_time": None,
                      "previous_time": None}
    async with nobat.db.reading() as session:
        stored = await session.scalar(select(Event))
        rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.chat_id))).all()
    assert (stored.event_id, stored.type, stored.plate, stored.checkpoint) == ("khorgos-1", "called", "123ABC02",
                                                                               "khorgos")
    assert stored.occurred_at.isoformat() == "2026-11-23T01:05:00+00:00"
    assert [(r.kind, r.chat_id, r.event_id, r.status, r.next_attempt_at) for r in rows] == [
        ("notice", account, stored.id, "queued", clock.now()) for account in (driver, dispatcher)]

    status, listed = await border.call("GET", "/v1/deliveries?event_id=khorgos-1")
    assert status == 200
    assert listed == {"deliveries": [
        {"event_id": "khorgos-1", "type": "called", "recipient": account, "status": "queued", "sent_at": None}
        for account in (driver, dispatcher)]}
    # The plate in another spelling (Cyrillic look-alikes, spaces) names the same truck.
    status, by_plate = await border.call("GET", "/v1/deliveries?plate=" + quote("123 АВС 02"))
    assert (status, by_plate) == (200, listed)


async def test_a_silent_status_edits_the_card_and_does_not_ring(nobat, border, tg):
    driver, dispatcher = await two_followers(nobat.services)
    users = [tg.user(account, first_name="Driver", language_code="ru") for account in (driver, dispatcher)]
    status, _ = await border.post_event(event("khorgos-q", type="queue_position", details={"queue_position": 4}))
    assert status == 202
    await nobat.outbox.drain()
    assert [len(user.bot_messages()) for user in users] == [1, 1], "the card alone"
    status, _ = await border.post_event(event("khorgos-c", type="called", details={"gate": "4"}))
    assert status == 202
    await nobat.outbox.drain()
    sounds = [[bool(p.get("disable_notification")) for name, p in tg.requests
               if name == "sendMessage" and p.get("chat_id") in (user.user_id, str(user.user_id))] for user in users]
    assert sounds == [[True, False], [True, False]], "a silent card each, then the call, which rings"


@pytest.mark.parametrize("tamper, code", [
    ({"signed": False}, "unsigned"),
    ({"headers": {"X-Nobat-Signature": ""}}, "unsigned"),
    ({"secret": "another-secret-entirely"}, "bad_signature"),
    ({"sent_body": b'{"event_id": "khorgos-2", "type": "exited"}'}, "bad_signature"),
    ({"headers": {"X-Nobat-Signature": "sha256=" + "0" * 64}}, "bad_signature"),
    # A request recorded five minutes ago, replayed; or stamped as far ahead. Five seconds past the
    # window: the signed stamp is whole seconds, and the server's clock moves on while the test runs.
    ({"skew": -305}, "stale_timestamp"),
    ({"skew": 305}, "stale_timestamp"),
    ({"headers": {"X-Nobat-Timestamp": "soon"}}, "unsigned"),
])
async def test_a_request_not_signed_exactly_right_is_refused_and_stores_nothing(nobat, border, tamper, code):
    await two_followers(nobat.services)
    status, answer = await border.post_event(event("khorgos-2"), **tamper)
    assert (status, answer["error"]) == (401, code), answer
    assert await count(nobat.db, Event) == 0
    status, answer = await border.call("GET", "/v1/deliveries?event_id=khorgos-2", **tamper)
    assert (status, answer["error"]) == (401, code), answer


@pytest.mark.parametrize("tamper", [
    {"sent_path": "/v1/trucks/555KZX01?by=customs"},
    {"sent_path": "/v1/trucks/123ABC02?by=police"},
    {"sent_method": "POST"},
    {"sent_body": b'{"version": 1, "phones": ["+7 701 555 00 00"]}'},
], ids=["path", "query", "method", "body"])
async def test_a_signed_request_changed_on_the_way_in_any_part_is_refused(nobat, border, clock, tamper):
    await nobat.services.accounts.ensure(7101, "Driver", "kk")
    async with nobat.db.transaction() as session:
        await session.execute(insert(AccountPhone), [{"account_id": 7101, "phone": "77012345678",
                                                      "shared_at": clock.now()}])
    signed = ("PUT", "/v1/trucks/123ABC02?by=customs", {"version": 1, "phones": ["+7 701 234 56 78"]})
    status, answer = await border.call(*signed, **tamper)
    assert (status, answer["error"]) == (401, "bad_signature"), answer
    assert await follows(nobat.db) == set()
    status, answer = await border.call(*signed)
    assert (status, answer["following"]) == (200, [7101])
    assert await follows(nobat.db) == {(7101, "phone")}


async def test_one_signature_fits_one_request_only_wherever_its_parts_are_cut(nobat, border):
    """The parts of the signed text were once joined by "." alone: a signature of `?event_id=kh.2026.7`
    without a body then passed `?event_id=kh` with the body `2026.7.`, another request."""
    await two_followers(nobat.services)
    assert (await border.post_event(event("kh")))[0] == 202
    status, answer = await border.call("GET", "/v1/deliveries?event_id=kh.2026.7",
                                       sent_path="/v1/deliveries?event_id=kh", sent_body=b"2026.7.")
    assert (status, answer["error"]) == (401, "bad_signature"), answer
    assert signature(SECRET, "1", "GET", "/v1/deliveries?event_id=kh.2026.7", b"") != signature(
        SECRET, "1", "GET", "/v1/deliveries?event_id=kh", b"2026.7.")
    status, answer = await border.call("GET", "/v1/deliveries?event_id=kh")
    assert status == 200 and len(answer["deliveries"]) == 2


async def test_a_request_signed_as_the_document_says_is_accepted(nobat, border):
    """Signed here with hashlib and hmac alone, from docs/border-api.md: not with the
    server's own function, which would agree with itself whatever it did."""
    await two_followers(nobat.services)
    body = json.dumps(event("kh-doc")).encode()
    stamp = str(int(time.time()))
    text = f"{stamp}\nPOST\n/v1/events\n{hashlib.sha256(body).hexdigest()}"
    mac = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    async with aiohttp.ClientSession() as http, http.post(border.base_url + "/v1/events", data=body, headers={
            "Content-Type": "application/json", "X-Nobat-Timestamp": stamp,
            "X-Nobat-Signature": f"sha256={mac}"}) as answer:
        assert answer.status == 202, await answer.text()
        assert (await answer.json())["deliveries"] == 2


API_DOC = ROOT / "docs" / "border-api.md"


def _blocks(language: str) -> list[str]:
    """The code blocks of the document's section on signing."""
    signing = API_DOC.read_text(encoding="utf-8").split("\n## Signing\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", signing, re.S)


async def test_the_documented_curl_and_openssl_recipe_posts_an_event(nobat, border):
    await two_followers(nobat.services)
    recipe = _blocks("bash")[0]
    assert "base=http://127.0.0.1:8090" in recipe
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", recipe.replace("base=http://127.0.0.1:8090", f"base={border.base_url}"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "NOBAT_API__SECRET": SECRET})
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    answer = json.loads(out)
    assert (answer["event_id"], answer["outcome"], answer["deliveries"]) == ("kh-2026-000123", "queued", 2), answer


async def test_the_documented_python_signing_registers_a_truck_and_reads_deliveries(nobat, border, clock):
    await nobat.services.accounts.ensure(7101, "Driver", "kk")
    async with nobat.db.transaction() as session:
        await session.execute(insert(AccountPhone), [{"account_id": 7101, "phone": "77012345678",
                                                      "shared_at": clock.now()}])
    documented: dict = {}
    exec(_blocks("python")[0], documented)  # the definitions; the next block shows them in use
    call = functools.partial(documented["call"], secret=SECRET, base=border.base_url)
    # urllib blocks: in a thread, so the server in this loop can answer.
    status, answer = await asyncio.to_thread(call, "PUT", "/v1/trucks/123ABC02",
                                            {"version": 1, "phones": ["+7 701 234 56 78"]})
    assert (status, answer["following"]) == (200, [7101])
    assert (await border.post_event(event("kh-2026-000123")))[0] == 202
    status, answer = await asyncio.to_thread(call, "GET", "/v1/deliveries?event_id=kh-2026-000123")
    assert (status, [d["recipient"] for d in answer["deliveries"]]) == (200, [7101])
    status, answer = await asyncio.to_thread(call, "GET", "/v1/deliveries?event_id=kh-2026-000123", secret="x" * 16)
    assert (status, answer["error"]) == (401, "bad_signature")


@pytest.mark.parametrize("given", ["sha256=подпись".encode(), b"sha256=\xff\xfe", b"\xc3"])
async def test_a_signature_header_that_is_not_ascii_is_refused_as_a_bad_signature(nobat, border, caplog, given):
    body = json.dumps(event("kh-bytes")).encode()
    head = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" \
           b"X-Nobat-Timestamp: %d\r\nX-Nobat-Signature: %s\r\n" % (int(time.time()), given)
    status, answer = await raw_request(nobat.api_port, head, body)
    assert (status, json.loads(answer)["error"]) == (401, "bad_signature"), answer
    assert not [record for record in caplog.records if record.exc_info], "refused calmly, no traceback"
    assert await count(nobat.db, Event) == 0


async def test_a_replayed_request_within_the_window_is_a_repeat_that_sends_nothing_again(nobat, border):
    await two_followers(nobat.services)
    first = await border.post_event(event("khorgos-3"))
    assert first[0] == 202
    # The same event_id again, even with another status: the first answer, no new rows.
    again = await border.post_event(event("khorgos-3", type="exited"))
    assert again == (200, first[1])
    assert await count(nobat.db, Event) == 1 and await count(nobat.db, OutboxRow) == 2


async def test_identical_posts_at_the_same_moment_make_one_event(nobat, border):
    await two_followers(nobat.services)
    answers = await asyncio.gather(*(border.post_event(event("khorgos-4")) for _ in range(8)))
    assert sorted(status for status, _ in answers) == [200] * 7 + [202]
    assert len({str(answer) for _, answer in answers}) == 1
    assert await count(nobat.db, Event) == 1 and await count(nobat.db, OutboxRow) == 2


async def test_posts_of_one_moment_are_each_answered_as_if_they_came_alone(nobat, border):
    """The posts that arrive together are written together; a refusal among them, or a repeat,
    changes nothing for the others."""
    await two_followers(nobat.services)
    await nobat.services.accounts.ensure(7003, "Account 7003", "ru")
    await nobat.services.trucks.add(7003, "555 KZX 01")
    bodies = [event(f"moment-{i}", type=("arrived", "called")[i % 2]) for i in range(20)]
    answers = await asyncio.gather(*(border.post_event(body) for body in
                                     [*bodies, event("moment-3"), event("moment-x", plate="777 KZX 01")]))
    firsts = [status for i, (status, _) in enumerate(answers[:20]) if i != 3]
    assert firsts == [202] * 19 and [a["deliveries"] for _, a in answers[:20]] == [2] * 20
    assert {answers[3][0], answers[20][0]} == {200, 202} and answers[20][1] == answers[3][1]
    assert (answers[21][0], answers[21][1]["error"]) == (404, "unknown_truck")
    again, other = await asyncio.gather(border.post_event(event("moment-7", plate="555 KZX 01")),
                                        border.post_event(event("moment-y", plate="555 KZX 01", type="released")))
    assert again == (200, answers[7][1]), "a repeated event_id is the first event, whatever else it says"
    assert (other[0], other[1]["plate"], other[1]["deliveries"]) == (202, "555KZX01", 1)
    assert await count(nobat.db, Event) == 21 and await count(nobat.db, OutboxRow) == 20 * 2 + 1


async def test_two_processes_recording_one_event_at_once_store_it_once(nobat, clock):
    """Two engines on one database, so neither process's own lock orders them: the unique
    constraint does, and the loser answers with the winner's answer."""
    await two_followers(nobat.services)
    other_db = Database(nobat.db.url)
    try:
        other = Services.build(other_db, list(nobat.services.checkpoints.values()), nobat.services.rules, clock)
        model = nobat.services.events.model
        posted = model.model_validate(event("khorgos-5"))
        results = await asyncio.gather(*(services.events.record(posted) for services in (nobat.services, other)
                                         for _ in range(3)))
    finally:
        await other_db.close()
    assert sorted(result.repeated for result in results) == [False] + [True] * 5
    assert len({result.answer.model_dump_json() for result in results}) == 1
    assert await count(nobat.db, Event) == 1 and await count(nobat.db, OutboxRow) == 2


@pytest.mark.parametrize("body, field", [
    (event("e", type="teleported"), "type"),
    (event("e", checkpoint="atlantis"), "checkpoint"),
    (event("e", plate=None), "body"),  # neither plate nor booking_ref
    (event("e", plate="not a plate"), "plate"),
    (event("e", occurred_at="2026-11-23T06:05:00"), "occurred_at"),  # no zone
    (event("e", occurred_at="yesterday"), "occurred_at"),
    (event("", type="called"), "event_id"),
    (event("x" * 65), "event_id"),
    (event("e", details={"reason": "r" * 501}), "details.reason"),
    (event("e", details={"queue_position": -1}), "details.queue_position"),
    (event("e", details={"colour": "red"}), "details.colour"),
    (event("e", details={"documents": ["CMR", ""]}), "details.documents.1"),
    (event("e", details={"new_time": "tomorrow"}), "details.new_time"),
    ({"event_id": "e"}, "type"),
])
async def test_an_event_with_a_wrong_field_is_refused_with_422_naming_it(nobat, border, body, field):
    await two_followers(nobat.services)
    status, answer = await border.post_event(body)
    assert (status, answer["error"]) == (422, "invalid"), answer
    assert field in [problem["field"] or "body" for problem in answer["details"]], answer
    assert await count(nobat.db, Event) == 0


@pytest.mark.parametrize("raw", [b"{", b"", b"\xff\xfe", b"[1, 2]", b'"an event"'])
async def test_a_body_that_is_not_a_json_object_is_400(nobat, border, raw):
    status, answer = await border.post_event(raw)
    assert (status, answer["error"]) == (400, "malformed_json"), answer


async def test_an_unknown_truck_or_booking_is_refused_and_not_stored(nobat, border):
    await two_followers(nobat.services)
    status, answer = await border.post_event(event("khorgos-6", plate="777 KZX 01"))
    assert (status, answer["error"]) == (404, "unknown_truck")
    assert "777KZX01" in answer["message"]
    status, answer = await border.post_event(event("khorgos-7", plate=None, booking_ref="ZZZZZZZ"))
    assert (status, answer["error"]) == (404, "unknown_booking")
    assert await count(nobat.db, Event) == 0
    # Refused, not stored: once the truck is known, the same event_id is recorded.
    status, _ = await border.call("PUT", "/v1/trucks/777KZX01", {"version": 1, "phones": ["+7 701 000 00 01"]})
    assert status == 200
    status, answer = await border.post_event(event("khorgos-6", plate="777 KZX 01"))
    assert (status, answer["outcome"]) == (202, "no_recipient")


async def test_an_event_nobody_follows_is_stored_and_answered_no_recipient(nobat, border):
    status, _ = await border.call("PUT", "/v1/trucks/" + quote("123 ABC 02"), {"version": 1,
                                                                                  "phones": ["87012345678"]})
    assert status == 200
    status, answer = await border.post_event(event("khorgos-8"))
    assert (status, answer["outcome"], answer["deliveries"]) == (202, "no_recipient", 0)
    assert await count(nobat.db, Event, Event.event_id == "khorgos-8") == 1
    assert await count(nobat.db, OutboxRow) == 0
    assert await border.call("GET", "/v1/deliveries?event_id=khorgos-8") == (200, {"deliveries": []})
    status, answer = await border.call("GET", "/v1/deliveries?event_id=never-sent")
    assert (status, answer["error"]) == (404, "unknown_event")


async def test_a_body_over_64_kib_is_413_and_stores_nothing(nobat, border):
    await two_followers(nobat.services)
    huge = event("khorgos-9", details={"reason": "r" * 500})
    huge["padding"] = "x" * (64 * 1024)
    status, answer = await border.post_event(huge)
    assert (status, answer["error"]) == (413, "too_large")
    assert await count(nobat.db, Event) == 0


@pytest.mark.parametrize("settings_overrides", [{"api": {"port": 0}}])
async def test_without_a_secret_every_signed_endpoint_is_503_and_the_document_is_served(nobat, border):
    for method, path, body in (("POST", "/v1/events", event("e")), ("GET", "/v1/deliveries?event_id=e", None),
                               ("PUT", "/v1/trucks/123ABC02", {"version": 1, "phones": []})):
        status, answer = await border.call(method, path, body)
        assert (status, answer["error"]) == (503, "not_configured"), (method, answer)
        assert "not configured" in answer["message"]
    status, document = await border.call("GET", "/v1/openapi.json", signed=False)
    assert status == 200 and document["openapi"].startswith("3.1")


async def test_registering_a_truck_makes_the_accounts_that_shared_its_phone_follow_it(nobat, border, clock):
    services = nobat.services
    for account_id in (7101, 7102, 7103):
        await services.accounts.ensure(account_id, "Driver", "kk")
    async with nobat.db.transaction() as session:
        await session.execute(insert(AccountPhone), [
            {"account_id": 7101, "phone": "77012345678", "shared_at": clock.now()},
            {"account_id": 7102, "phone": "77015550000", "shared_at": clock.now()},
        ])
    await services.trucks.add(7103, "123 ABC 02")  # its own truck, whatever the phones say

    status, answer = await border.call("PUT", "/v1/trucks/" + quote("123 abc 02"),
                                       {"version": 1, "phones": ["+7 (701) 234-56-78", "8 701 234 56 78",
                                                                 "+90 532 000 00 00"]})
    assert status == 200
    assert answer == {"plate": "123ABC02", "version": 1, "phones": ["77012345678", "905320000000"],
                      "following": [7101]}
    assert await follows(nobat.db) == {(7101, "phone"), (7103, "own")}
    status, answer = await border.post_event(event("khorgos-10", type="documents_required",
                                                   details={"documents": ["CMR", "TIR carnet"]}))
    assert (status, answer["deliveries"]) == (202, 2)

    # The phones change hands: the old phone's account stops hearing of the truck, the new one starts.
    status, answer = await border.call("PUT", "/v1/trucks/123ABC02", {"version": 2, "phones": ["+7 701 555 00 00"]})
    assert (status, answer["following"]) == (200, [7102])
    assert await follows(nobat.db) == {(7102, "phone"), (7103, "own")}
    status, _ = await border.call("PUT", "/v1/trucks/123ABC02", {"version": 3, "phones": ["+7 701 555 00 00"]})
    assert status == 200 and await follows(nobat.db) == {(7102, "phone"), (7103, "own")}, "idempotent"


async def follows(db) -> set[tuple[int, str]]:
    async with db.reading() as session:
        return {tuple(row) for row in await session.execute(select(Follow.account_id, Follow.source))}


async def test_a_fault_is_a_500_logged_with_the_request_and_the_code_not_the_phones_it_carried(nobat, border,
                                                                                              monkeypatch, caplog):
    async def fails_quoting(plate, phones, version):
        raise ValueError(f"cannot register {plate} with {phones}")

    monkeypatch.setattr(nobat.services.registry, "register", fails_quoting)
    with caplog.at_level(logging.INFO):
        status, answer = await border.call("PUT", "/v1/trucks/123ABC02",
                                           {"version": 1, "phones": ["+7 701 555 01 99"]})
    assert (status, answer["error"]) == (500, "internal")
    assert "PUT /v1/trucks/123ABC02 failed:" in caplog.text and "fails_quoting" in caplog.text
    assert "701 555" not in caplog.text and "7015550199" not in caplog.text


@pytest.mark.parametrize("path, body, field", [
    ("/v1/trucks/123ABC02", {"version": 1, "phones": ["12"]}, "phones[0]"),
    ("/v1/trucks/123ABC02", {"version": 1, "phones": ["+7 701 234 56 78", "call me"]}, "phones[1]"),
    ("/v1/trucks/123ABC02", {"version": 1, "phones": "+77012345678"}, "phones"),
    ("/v1/trucks/123ABC02", {"version": 1, "phones": ["+7701234567%d" % i for i in range(21)]}, "phones"),
    ("/v1/trucks/" + quote("no such plate"), {"version": 1, "phones": []}, "plate"),
    ("/v1/trucks/123ABC02", {"version": 0, "phones": []}, "version"),
    ("/v1/trucks/123ABC02", {"version": "two", "phones": []}, "version"),
    ("/v1/trucks/123ABC02", {"version": 2**63, "phones": []}, "version"),
])
async def test_a_registration_with_a_bad_phone_or_plate_is_422_and_changes_nothing(nobat, border, path, body, field):
    status, answer = await border.call("PUT", path, body)
    assert (status, answer["error"]) == (422, "invalid"), answer
    assert field in answer["message"] or field in str(answer["details"]), answer


async def test_an_operators_cancellation_cancels_the_booking_and_its_place_comes_back_later(nobat, border, clock):
    services = nobat.services
    driver, _dispatcher = await two_followers(services)
    truck = (await services.trucks.list(driver))[0]
    offer = await services.calendar.first_free(services.checkpoints["khorgos"])
    held = await services.booking.take(driver, truck.id, offer.slot_id)
    assert held.outcome is TakeOutcome.HELD
    booked = await services.booking.confirm(driver, held.hold.id)
    assert booked.outcome is ConfirmOutcome.BOOKED
    ref = booked.booking.ref
    taken = await slot_taken(nobat.db, offer.slot_id)

    cancelled = event("khorgos-11", type="booking_cancelled", plate=None, booking_ref=ref.lower(),
                      details={"reason": "The post is closed for repairs"})
    status, answer = await border.post_event(cancelled)
    assert status == 202
    assert (answer["booking_ref"], answer["plate"], answer["booking_cancelled"], answer["deliveries"]) == (
        ref, "123ABC02", True, 2)
    async with nobat.db.reading() as session:
        assert await session.scalar(select(Reservation.status).where(Reservation.ref == ref)) == "cancelled"
        release_at = await session.scalar(select(Release.release_at))
        assert await session.scalar(select(Event.reservation_id)) == held.hold.id
    # Not back at once (rule 5): the place waits for its random release time.
    assert await slot_taken(nobat.db, offer.slot_id) == taken
    assert clock.now() <= release_at <= offer.starts_at
    clock.set(release_at + timedelta(seconds=1))
    assert await services.releases.release_due() == 1
    assert await slot_taken(nobat.db, offer.slot_id) == taken - 1

    # Again with another event_id: the booking had ended already.
    status, answer = await border.post_event({**cancelled, "event_id": "khorgos-12"})
    assert (status, answer["booking_cancelled"]) == (202, False)
    # A booking of another checkpoint than the event says is refused.
    status, answer = await border.post_event({**cancelled, "event_id": "khorgos-13", "checkpoint": "dostyk"})
    assert (status, answer["error"]) == (422, "mismatch")


async def slot_taken(db, slot_id: int) -> int:
    async with db.reading() as session:
        return await session.scalar(select(Slot.taken).where(Slot.id == slot_id))


async def test_a_clock_a_little_off_is_within_the_allowed_skew(nobat, border):
    await two_followers(nobat.services)
    assert (await border.post_event(event("khorgos-14"), skew=-250))[0] == 202
    assert (await border.post_event(event("khorgos-15"), skew=250))[0] == 202


async def test_a_body_over_64_kib_sent_in_chunks_without_a_length_is_413_too(nobat, border):
    import aiohttp

    async def chunks():
        for _ in range(70):
            yield b" " * 1024

    async with aiohttp.ClientSession() as http, http.post(border.base_url + "/v1/events", data=chunks(), headers={
            "X-Nobat-Timestamp": "1", "X-Nobat-Signature": "sha256=" + "0" * 64}) as answer:
        assert answer.status == 413 and (await answer.json())["error"] == "too_large"

"""The border system's events in batches: one signed `POST /v1/events` with an array of events,
recorded in one transaction, each event answered as it would have been alone; a batch that is not
exactly right refused whole, nothing stored."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from border_api.routes import MAX_EVENTS_PER_REQUEST
from services.container import Services
from services.notices.events import Recorded
from services.notices.tables import Event
from services.outbox.tables import OutboxRow
from services.storage.database import Database
from services.storage.unavailable import DatabaseUnavailable
from tests.border import SECRET, Border, count, event


@pytest.fixture
def settings_overrides() -> dict:
    return {"api": {"secret": SECRET, "port": 0}}


async def followers(services: Services, plate: str = "123 ABC 02", accounts: tuple[int, ...] = (7001, 7002)) -> None:
    """A driver and a dispatcher who both added the truck."""
    for account_id in accounts:
        await services.accounts.ensure(account_id, f"Account {account_id}", "ru")
        await services.trucks.add(account_id, plate)


def _sent(tg) -> Counter:
    """What the bot has put in chats so far, by method and chat (polling's getUpdates aside)."""
    return Counter((name, params.get("chat_id")) for name, params in tg.requests
                   if name.startswith(("send", "edit", "copy", "forward")))


async def post_batch(border: Border, events: list, **options) -> tuple[int, dict]:
    return await border.call("POST", "/v1/events", events, **options)


def alone(body: dict, suffix: str) -> dict:
    return {**body, "event_id": body["event_id"] + suffix}


async def test_a_batch_is_answered_event_by_event_as_if_each_had_come_alone(nobat, border):
    """New events, one repeated within the batch, one from an earlier request, an unknown truck and
    a truck nobody follows: the batch's results are what the same events get one request each."""
    await followers(nobat.services)
    status, _ = await border.call("PUT", "/v1/trucks/555KZX01", {"version": 1, "phones": ["+7 701 000 00 01"]})
    assert status == 200
    status, earlier = await border.post_event(event("earlier-1", type="arrived"))
    assert status == 202

    def mixed(suffix: str) -> list[dict]:
        return [alone(event("mix-1", type="called"), suffix),
                alone(event("mix-2", type="queue_position", details={"queue_position": 4}), suffix),
                alone(event("mix-1", type="exited"), suffix),  # a repeat of the first, whatever else it says
                event("earlier-1", type="released"),
                alone(event("mix-3", plate="777 KZX 01"), suffix),  # no such truck
                alone(event("mix-4", plate="555 KZX 01", type="released"), suffix)]  # nobody follows it

    status, batch = await post_batch(border, mixed(""))
    assert status == 200
    results = batch["results"]
    one_by_one = [await border.post_event(body) for body in mixed("-alone")]
    assert len(results) == len(one_by_one) == 6
    for result, (alone_status, alone_answer), sent in zip(results, one_by_one, mixed(""), strict=True):
        assert result["status"] == alone_status, (sent, result)
        answer = {key: value for key, value in result.items() if key != "status"}
        if "event_id" in alone_answer:
            alone_answer["event_id"] = alone_answer["event_id"].removesuffix("-alone")
        assert answer == alone_answer, sent
    assert [r["status"] for r in results] == [202, 202, 200, 200, 404, 202]
    assert results[2] == {**results[0], "status": 200}
    assert {k: v for k, v in results[3].items() if k != "status"} == earlier
    assert (results[4]["error"], results[5]["outcome"]) == ("unknown_truck", "no_recipient")
    # Stored: earlier-1, and mix-1, mix-2 and mix-4 each by the batch and alone; two followers each of
    # the events of 123 ABC 02 (earlier-1, mix-1, mix-2, twice over but for earlier-1).
    assert await count(nobat.db, Event) == 1 + 3 * 2
    assert await count(nobat.db, OutboxRow) == 2 * (1 + 2 * 2)


async def test_a_batch_sent_twice_records_nothing_twice_and_tells_each_follower_once(nobat, border, tg):
    await followers(nobat.services)
    users = [tg.user(account, first_name="Driver", language_code="ru") for account in (7001, 7002)]
    batch = [event("twice-1", type="queue_position", details={"queue_position": 7}),
             event("twice-2", type="called", details={"gate": "4"}),
             event("twice-3", type="released")]
    status, first = await post_batch(border, batch)
    assert status == 200 and [r["status"] for r in first["results"]] == [202, 202, 202]
    await nobat.outbox.drain()
    told = _sent(tg)

    status, second = await post_batch(border, batch)
    assert status == 200
    assert second["results"] == [{**result, "status": 200} for result in first["results"]]
    await nobat.outbox.drain()
    assert _sent(tg) == told, "nobody told again"
    assert await count(nobat.db, Event) == 3 and await count(nobat.db, OutboxRow) == 3 * 2
    for event_id in ("twice-1", "twice-2", "twice-3"):
        status, listed = await border.call("GET", f"/v1/deliveries?event_id={event_id}")
        assert status == 200
        assert sorted((d["recipient"], d["status"]) for d in listed["deliveries"]) == [(7001, "sent"), (7002, "sent")]
    # The called and the released ring, once each, in each chat (the queue position edits the card).
    rang = Counter(str(params.get("chat_id")) for name, params in tg.requests
                   if name == "sendMessage" and not params.get("disable_notification"))
    assert [rang[str(user.user_id)] for user in users] == [2, 2]


async def test_a_full_batch_of_the_maximum_is_taken_though_its_body_is_over_one_events_limit(nobat, border):
    await followers(nobat.services, accounts=(7001,))
    batch = [event(f"full-{i}", type="queue_position", details={"queue_position": i})
             for i in range(MAX_EVENTS_PER_REQUEST)]
    status, answer = await post_batch(border, batch)
    assert status == 200, answer
    assert [r["status"] for r in answer["results"]] == [202] * MAX_EVENTS_PER_REQUEST
    assert [r["event_id"] for r in answer["results"]] == [body["event_id"] for body in batch]
    assert await count(nobat.db, Event) == MAX_EVENTS_PER_REQUEST
    assert await count(nobat.db, OutboxRow) == MAX_EVENTS_PER_REQUEST


@pytest.mark.parametrize("batch, status, code, index", [
    ([], 422, "invalid", None),
    ([event(f"many-{i}") for i in range(MAX_EVENTS_PER_REQUEST + 1)], 422, "invalid", None),
    ([event("ok-1"), 1, event("ok-2")], 400, "malformed_json", 1),
    ([event("ok-1"), ["an event"]], 400, "malformed_json", 1),
    ([event("bad", type="teleported"), "an event"], 400, "malformed_json", 1),  # malformed before invalid
    ([event("ok-1"), event("ok-2"), event("bad", type="teleported")], 422, "invalid", 2),
    ([event("ok-1"), event("bad", plate=None)], 422, "invalid", 1),
    ([event("bad", details={"reason": "r" * 501}), event("ok-1")], 422, "invalid", 0),
    ([event("ok-1"), event("bad", details={"gate": "3\x00"})], 400, "malformed_json", 1),
])
async def test_a_batch_not_exactly_right_is_refused_whole_naming_the_event_and_stores_nothing(
        nobat, border, batch, status, code, index):
    await followers(nobat.services)
    got, answer = await post_batch(border, batch)
    assert (got, answer["error"]) == (status, code), answer
    if index is not None:
        assert f"event {index} of the batch" in answer["message"], answer
        assert {detail["index"] for detail in answer["details"]} == {index}, answer
    else:
        assert str(MAX_EVENTS_PER_REQUEST) in answer["message"], answer
    assert await count(nobat.db, Event) == 0 and await count(nobat.db, OutboxRow) == 0


async def test_a_batch_is_signed_as_one_request(nobat, border):
    await followers(nobat.services)
    batch = [event("signed-1"), event("signed-2")]
    status, answer = await post_batch(border, batch, sent_body=b'[{"event_id": "signed-1"}]')
    assert (status, answer["error"]) == (401, "bad_signature")
    status, answer = await post_batch(border, batch, secret="another-secret-entirely")
    assert (status, answer["error"]) == (401, "bad_signature")
    assert await count(nobat.db, Event) == 0


@pytest.mark.parametrize("fault, status, code", [
    (DatabaseUnavailable("the database went away mid-batch"), 503, "unavailable"),
    (RuntimeError("a fault mid-batch"), 500, "internal"),
])
async def test_a_fault_mid_batch_records_none_of_it_and_is_answered_as_the_single_form_is(
        nobat, border, monkeypatch, fault, status, code):
    """The fault strikes once every event of the batch is written and before their deliveries are:
    the one transaction leaves neither, and the border system, told to retry, loses nothing."""
    await followers(nobat.services)
    outbox = nobat.services.events.outbox
    add = outbox.add

    async def fails(*args, **kwargs):
        raise fault

    monkeypatch.setattr(outbox, "add", fails)
    got, answer = await post_batch(border, [event("fault-1"), event("fault-2", type="released")])
    assert (got, answer["error"]) == (status, code), answer
    alone = await border.post_event(event("fault-3"))
    assert (alone[0], alone[1]["error"]) == (status, code), "as the single form answers the same fault"
    assert await count(nobat.db, Event) == 0 and await count(nobat.db, OutboxRow) == 0

    monkeypatch.setattr(outbox, "add", add)
    got, answer = await post_batch(border, [event("fault-1"), event("fault-2", type="released")])
    assert got == 200 and [r["status"] for r in answer["results"]] == [202, 202]
    assert await count(nobat.db, Event) == 2 and await count(nobat.db, OutboxRow) == 2 * 2


async def test_a_batch_and_single_posts_of_the_same_events_at_once_store_each_once(nobat, border):
    await followers(nobat.services)
    batch = [event(f"race-{i}") for i in range(10)]
    answers = await asyncio.gather(post_batch(border, batch), *(border.post_event(body) for body in batch[::3]))
    (status, together), singles = answers[0], answers[1:]
    assert status == 200 and all(status in (200, 202) for status, _ in singles)
    statuses = Counter(r["status"] for r in together["results"]) + Counter(status for status, _ in singles)
    assert statuses == Counter({202: 10, 200: 4}), "each event recorded once, the rest answered as repeats"
    assert await count(nobat.db, Event) == 10 and await count(nobat.db, OutboxRow) == 10 * 2


async def test_two_processes_recording_overlapping_batches_at_once_store_each_event_once(nobat, clock):
    """Two engines on one database: a batch meeting an event_id the other committed meanwhile reads
    the answers again and records the rest, still in one transaction."""
    await followers(nobat.services)
    other_db = Database(nobat.db.url)
    try:
        other = Services.build(other_db, list(nobat.services.checkpoints.values()), nobat.services.rules, clock)
        model = nobat.services.events.model
        batches = [[model.model_validate(event(f"both-{i}")) for i in range(start, start + 20)]
                   for start in (0, 10, 5)]
        results: list[list[Recorded]] = await asyncio.gather(
            nobat.services.events.record_many(batches[0]), other.events.record_many(batches[1]),
            other.events.record_many(batches[2]))
    finally:
        await other_db.close()
    first: dict[str, list[Recorded]] = {}
    for batch, recorded in zip(batches, results, strict=True):
        for posted, result in zip(batch, recorded, strict=True):
            first.setdefault(posted.event_id, []).append(result)
    assert len(first) == 30
    for event_id, recorded in first.items():
        assert sorted(result.repeated for result in recorded) == [False] + [True] * (len(recorded) - 1), event_id
        assert len({result.answer.model_dump_json() for result in recorded}) == 1, event_id
    assert await count(nobat.db, Event) == 30 and await count(nobat.db, OutboxRow) == 30 * 2


async def test_a_batch_meeting_an_event_id_committed_after_it_looked_reads_again_and_records_the_rest(
        nobat, monkeypatch, caplog):
    """The race the two processes above may or may not run into, made certain: the batch looked for
    its event_ids before another post committed one of them."""
    await followers(nobat.services)
    events = nobat.services.events
    model = events.model
    committed = await events.record(model.model_validate(event("late-1", type="arrived")))
    answers_of = events._answers_of
    looked: list[list[str]] = []

    async def looked_too_early(event_ids: list[str]):
        looked.append(event_ids)
        found = await answers_of(event_ids)
        return {} if len(looked) == 1 else found

    monkeypatch.setattr(events, "_answers_of", looked_too_early)
    with caplog.at_level("INFO", logger="services.notices.events"):
        recorded = await events.record_many([model.model_validate(event(f"late-{i}")) for i in range(3)])
    assert len(looked) == 2, "read again once"
    assert [(r.repeated, r.answer.event_id) for r in recorded] == [(False, "late-0"), (True, "late-1"),
                                                                   (False, "late-2")]
    assert recorded[1].answer == committed.answer
    assert "met an event_id committed meanwhile" in caplog.text
    assert await count(nobat.db, Event) == 3 and await count(nobat.db, OutboxRow) == 3 * 2

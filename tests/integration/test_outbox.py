"""The outbox's claims on SQLite and PostgreSQL: each due row to one sender, one row of a stream at a
time and in the stream's order, a dead sender's rows back once its lease runs out, and what Telegram
answered recorded once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.accounts.accounts import AccountService
from services.notices.types import EventType
from services.outbox.kinds import Kind
from services.outbox.outbox import Failed, Outbox, Post, Retry, RetryPolicy, Sent, Settled, ticket_stream
from services.outbox.tables import OutboxRow
from tests.notices import deliveries, post_event


@pytest.fixture
async def outbox(db, clock):
    accounts = AccountService(db, clock)
    for account_id in range(1, 31):
        await accounts.ensure(account_id, "Driver", "ru")
    return Outbox(db, clock, lease=timedelta(seconds=60))


async def test_senders_claiming_at_once_never_share_a_row_and_leave_none(outbox, db, clock):
    await post_event(db, EventType.CALLED, list(range(1, 31)), at=clock.now())
    ids: list[int] = []
    for _ in range(3):  # rounds of five senders claiming at the same moment
        claims = await asyncio.gather(*(outbox.claim(4, to_group=False) for _ in range(5)))
        ids += [row.id for claim in claims for row in claim]
    assert len(ids) == len(set(ids)) == 30, "each row claimed once, and all of them"
    assert await outbox.claim(10, to_group=False) == [], "nothing left to claim while the leases hold"


async def test_senders_claiming_at_once_take_one_row_of_a_chat_at_a_time_in_its_order(outbox, db, clock):
    # Two senders with one chat each would post two status cards in it, or edit one card at once.
    events = [await post_event(db, EventType.ARRIVED, [1, 2, 3], at=clock.now() - timedelta(minutes=6 - minute))
              for minute in range(6)]
    told: dict[int, list[int]] = {1: [], 2: [], 3: []}
    for _ in range(6):
        claims = await asyncio.gather(*(outbox.claim(2, to_group=False) for _ in range(6)))
        claimed = [row for claim in claims for row in claim]
        assert sorted(row.chat_id for row in claimed) == [1, 2, 3], "one row of each chat, no more"
        for row in claimed:
            told[row.chat_id].append(row.event_id)
            await outbox.settle(row, Sent(1))
    assert told == {1: events, 2: events, 3: events}, "each chat's notices in the order they were written"


async def test_a_stream_goes_in_its_own_order_not_the_order_rows_were_written(outbox, db, clock):
    # A driver's second message stored before the first (a burst handled side by side).
    stream = ticket_stream(7, "driver")
    await outbox.post([Post(Kind.TO_AGENTS, None, stream, 1, {"message": "second"}, seq=42),
                       Post(Kind.TO_AGENTS, None, stream, 1, {"message": "first"}, seq=41)])
    [first] = await outbox.claim(5, to_group=True)
    assert first.payload == {"message": "first"} and first.chat_id is None
    assert await outbox.claim(5, to_group=False) == [], "rows for the agents' group are not a private chat's"
    await outbox.settle(first, Sent(900))
    [second] = await outbox.claim(5, to_group=True)
    assert second.payload == {"message": "second"}


async def test_a_late_earlier_row_waits_while_a_later_one_of_its_stream_is_under_way(outbox, db, clock):
    stream = ticket_stream(8, "driver")
    await outbox.post([Post(Kind.TO_AGENTS, None, stream, 1, {"message": "second"}, seq=52)])
    [under_way] = await outbox.claim(5, to_group=True)
    await outbox.post([Post(Kind.TO_AGENTS, None, stream, 1, {"message": "first"}, seq=51)])
    assert await outbox.claim(5, to_group=True) == [], "no two rows of one stream under way at once"
    await outbox.settle(under_way, Sent(1))
    [late] = await outbox.claim(5, to_group=True)
    assert late.payload == {"message": "first"}


async def test_the_agents_rows_of_a_driver_still_writing_wait(outbox, db, clock):
    await outbox.post([Post(Kind.TO_AGENTS, None, ticket_stream(1, "driver"), 1, {"message": 1}, seq=5),
                       Post(Kind.TO_AGENTS, None, ticket_stream(2, "driver"), 2, {"message": 2}, seq=5)])
    claimed = await outbox.claim(5, to_group=True, skip={1}, skip_kinds=[Kind.TO_AGENTS])
    assert [row.account_id for row in claimed] == [2]


async def test_a_dead_senders_rows_come_back_once_their_lease_runs_out(outbox, db, clock):
    for minute in range(3):
        await post_event(db, EventType.ARRIVED, [1], at=clock.now() - timedelta(minutes=3 - minute))
    [first] = await outbox.claim(5, to_group=False)
    assert await outbox.claim(5, to_group=False) == [], "its other rows wait while one is leased"
    clock.advance(timedelta(seconds=61))  # the sender died: its lease ran out
    [again] = await outbox.claim(5, to_group=False)
    assert again.id == first.id
    await outbox.settle(again, Sent(77))
    [second] = await outbox.claim(5, to_group=False)
    assert second.id != first.id and second.event_id > first.event_id


async def test_a_429_comes_back_when_telegram_says_and_spends_no_attempt(outbox, db, clock):
    await post_event(db, EventType.ARRIVED, [5], at=clock.now())
    [row] = await outbox.claim(5, to_group=False)
    await outbox.settle(row, Retry(7, "429 Too Many Requests", row.attempts))
    [stored] = await deliveries(db)
    assert (stored.attempts, stored.next_attempt_at, stored.claimed_until) == (0, clock.now() + timedelta(seconds=7),
                                                                               None)
    assert await outbox.claim(5, to_group=False) == [], "not before its time"
    clock.advance(timedelta(seconds=7))
    assert [again.id for again in await outbox.claim(5, to_group=False)] == [row.id]


async def test_failures_back_off_then_end_and_an_outcome_recorded_stays(outbox, db, clock):
    policy = RetryPolicy(retry_limit=3)
    await post_event(db, EventType.ARRIVED, [5], at=clock.now())
    verdicts = []
    for _ in range(3):
        [row] = await outbox.claim(5, to_group=False)
        verdicts.append(policy.failed(row, "502 Bad Gateway"))
        await outbox.settle(row, verdicts[-1])
        clock.advance(timedelta(minutes=10))
    assert verdicts == [Retry(2, "502 Bad Gateway", 1), Retry(4, "502 Bad Gateway", 2), Failed("502 Bad Gateway", 3)]
    [stored] = await deliveries(db)
    assert (stored.status, stored.attempts, stored.error) == ("failed", 3, "502 Bad Gateway")
    await outbox.settle(row, Sent(9))
    [stored] = await deliveries(db)
    assert (stored.status, stored.message_id) == ("failed", None), "an outcome recorded stays"


async def test_a_message_sent_is_recorded_before_the_row_ends_and_kept_by_a_later_outcome(outbox, db, clock):
    await post_event(db, EventType.CALLED, [5], at=clock.now())
    [row] = await outbox.claim(5, to_group=False)
    await outbox.progress(row.id, 31)
    assert await outbox.claim(5, to_group=False) == [], "still leased"
    await outbox.settle(row, Retry(2, "502 Bad Gateway", 1))
    clock.advance(timedelta(seconds=2))
    [again] = await outbox.claim(5, to_group=False)
    assert again.message_id == 31, "a try after the fault knows the message went out"
    await outbox.settle(again, Sent(None))
    [stored] = await deliveries(db)
    assert (stored.status, stored.message_id, stored.sent_at) == ("sent", 31, clock.now() - timedelta(seconds=2))


async def test_what_a_row_leads_to_is_written_with_its_outcome(outbox, db, clock):
    await outbox.post([Post.to_chat(Kind.SUPPORT_NOTE, 3, {"note": "answering"})])
    [row] = await outbox.claim(5, to_group=False)
    await outbox.settle(row, Settled("unchanged"), [Post.to_chat(Kind.SUPPORT_NOTE, 3, {"note": "delivered"})])
    async with db.reading() as session:
        rows = (await session.execute(select(OutboxRow.status, OutboxRow.payload).order_by(OutboxRow.id))).all()
    assert [tuple(r) for r in rows] == [("settled", '{"note": "answering"}'), ("queued", '{"note": "delivered"}')]


async def test_a_stopping_sender_gives_its_rows_back_at_once(outbox, db, clock):
    await post_event(db, EventType.ARRIVED, [1, 2], at=clock.now())
    claimed = await outbox.claim(5, to_group=False)
    assert len(claimed) == 2
    await outbox.release([row.id for row in claimed])
    assert sorted(row.id for row in await outbox.claim(5, to_group=False)) == sorted(row.id for row in claimed)


async def test_a_live_senders_leases_are_renewed_and_its_own_rows_never_claimed_twice(outbox, db, clock):
    await post_event(db, EventType.ARRIVED, [1, 2], at=clock.now())
    first = await outbox.claim(1, to_group=False)
    clock.advance(timedelta(seconds=50))
    await outbox.renew([row.id for row in first])  # still waiting for Telegram's limits, 50 s on
    clock.advance(timedelta(seconds=50))
    second = await outbox.claim(5, to_group=False)
    assert [row.id for row in second] != [row.id for row in first] and len(second) == 1, \
        "a renewed lease holds past the first one's end"
    clock.advance(timedelta(seconds=120))  # neither renewed since: both leases ran out
    again = await outbox.claim(5, to_group=False, mine=[first[0].id])
    assert [row.id for row in again] == [second[0].id], "what a sender has under way it does not claim again"

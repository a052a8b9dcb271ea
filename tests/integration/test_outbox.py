"""The outbox's claims on SQLite and PostgreSQL: each due row to one sender, one row per chat at a
time, and a dead sender's rows back once its lease runs out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services.accounts.accounts import AccountService
from services.notices.sender import NoticeOutbox, retry_delay
from services.notices.types import EventType
from tests.integration.test_booking_engine import KHORGOS
from tests.notices import deliveries, post_event


@pytest.fixture
async def outbox(db, clock):
    accounts = AccountService(db, clock)
    for account_id in range(1, 31):
        await accounts.ensure(account_id, "Driver", "ru")
    return NoticeOutbox(db, clock, {KHORGOS.code: KHORGOS}, retry_limit=3, lease=timedelta(seconds=60))


async def test_senders_claiming_at_once_never_share_a_row(outbox, db, clock):
    await post_event(db, EventType.CALLED, list(range(1, 31)), at=clock.now())
    ids: list[int] = []
    for _ in range(10):  # rounds of five senders claiming at the same moment
        claims = await asyncio.gather(*(outbox.claim(limit=8) for _ in range(5)))
        ids += [n.delivery_id for claim in claims for n in claim]
    assert len(ids) == len(set(ids)) == 30


async def test_senders_claiming_at_once_never_take_two_rows_of_one_chat(outbox, db, clock):
    # Two senders with one chat each would post two status cards in it, or edit one card at once.
    for minute in range(6):
        await post_event(db, EventType.ARRIVED, [1, 2, 3], at=clock.now() - timedelta(minutes=6 - minute))
    for _ in range(5):
        claims = await asyncio.gather(*(outbox.claim(limit=2) for _ in range(6)))
        chats = [n.account_id for claim in claims for n in claim]
        assert len(chats) == len(set(chats)) <= 3
        for claim in claims:
            for notice in claim:
                await outbox.sent(notice.delivery_id, 1)


async def test_one_chat_is_one_senders_at_a_time_and_a_dead_senders_rows_come_back(outbox, db, clock):
    for minute in range(3):
        await post_event(db, EventType.ARRIVED, [1], at=clock.now() - timedelta(minutes=3 - minute))
    [first] = await outbox.claim()
    assert await outbox.claim() == [], "its other rows wait while one is leased"
    clock.advance(timedelta(seconds=61))  # the sender died: its lease ran out
    [again] = await outbox.claim()
    assert again.delivery_id == first.delivery_id
    await outbox.sent(again.delivery_id, 77)
    [second] = await outbox.claim()
    assert second.delivery_id != first.delivery_id and second.event.type == EventType.ARRIVED


async def test_failures_back_off_then_give_up_and_a_429_spends_no_attempt(outbox, db, clock):
    await post_event(db, EventType.ARRIVED, [5], at=clock.now())
    [notice] = await outbox.claim()
    await outbox.retry_later(notice.delivery_id, 7, "429 Too Many Requests")
    [row] = await deliveries(db)
    assert (row.attempts, row.next_attempt_at, row.claimed_until) == (0, clock.now() + timedelta(seconds=7), None)
    assert [retry_delay(n) for n in (1, 2, 3, 20)] == [2, 4, 8, 600]
    assert await outbox.failed(notice.delivery_id, 0, "502 Bad Gateway") is True
    assert await outbox.failed(notice.delivery_id, 1, "502 Bad Gateway") is True
    assert await outbox.failed(notice.delivery_id, 2, "502 Bad Gateway") is False
    [row] = await deliveries(db)
    assert (row.status, row.attempts, row.error) == ("undeliverable", 3, "502 Bad Gateway")
    await outbox.sent(notice.delivery_id, 9)
    [row] = await deliveries(db)
    assert row.status == "undeliverable", "an outcome recorded stays"

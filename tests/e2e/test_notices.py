"""Status notices reach the drivers through the local Bot API server, its limits enforced: a card
per crossing edited in place, a message that rings when the driver must act, nothing lost to 429,
5xx or a blocked chat, nothing sent twice."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.notices.cards import TimelineEntry, timeline_from
from services.notices.tables import StatusCard
from services.notices.types import EventType
from services.outbox.tables import PostStatus
from tests.notices import deliveries, post_event, queued
from tests.story import _catalog, t

SENT, UNDELIVERABLE, FAILED = PostStatus.SENT.value, PostStatus.UNDELIVERABLE.value, PostStatus.FAILED.value


@pytest.fixture
def manual_outbox() -> bool:
    return True  # these tests drive the sender, a batch at a time


async def deliver_all(nobat, clock=None, rounds: int = 200) -> None:
    """The sender's batches until the outbox is empty; with `clock`, time moves on to each retry."""
    for _ in range(rounds):
        if not await queued(nobat.db):
            return
        if not await nobat.outbox.run_once() and clock is not None:
            clock.advance(timedelta(seconds=30))
    raise AssertionError("the outbox did not empty")


async def follower(tg, nobat, user_id: int, language: str = "ru"):
    user = tg.user(user_id, first_name="Driver", language_code=language)
    await nobat.services.accounts.ensure(user_id, "Driver", language)
    return user


def silent(tg, chat_id: int) -> list[bool]:
    """Whether each message the bot sent to the chat was sent without sound."""
    return [bool(p.get("disable_notification")) for name, p in tg.requests
            if name == "sendMessage" and str(p.get("chat_id")) == str(chat_id)]


async def test_the_first_event_posts_a_silent_card_and_the_next_ones_edit_it(tg, nobat, clock):
    driver = await follower(tg, nobat, 9001)
    await post_event(nobat.db, EventType.BOOKING_CONFIRMED, [9001], at=clock.now() - timedelta(minutes=9))
    await post_event(nobat.db, EventType.QUEUE_POSITION, [9001], at=clock.now() - timedelta(minutes=4),
                     details={"queue_position": 7})
    await post_event(nobat.db, EventType.ARRIVED, [9001], at=clock.now())
    await deliver_all(nobat)
    [card] = driver.bot_messages()
    assert card.edit_count == 2 and "Хоргос" in card.text and "K7Q2M" in card.text
    assert t("ru", "Now: <b>{status}</b>").replace("<b>{status}</b>", "") + t("ru", "Arrived at the waiting area") \
        in card.text
    assert card.text.index("05:51") < card.text.index("05:56") < card.text.index("06:00")  # Almaty time
    assert silent(tg, 9001) == [True]
    rows = await deliveries(nobat.db)
    assert {r.status for r in rows} == {SENT} and {r.message_id for r in rows} == {card.message_id}
    assert all(r.sent_at == clock.now() for r in rows)


async def test_an_event_that_rings_also_sends_a_message_with_sound(tg, nobat, clock):
    driver = await follower(tg, nobat, 9002, "kk")
    await post_event(nobat.db, EventType.ARRIVED, [9002], at=clock.now() - timedelta(minutes=1))
    await post_event(nobat.db, EventType.CALLED, [9002], at=clock.now(),
                     details={"gate": "4", "lane": "1"})
    await deliver_all(nobat)
    card, call = driver.bot_messages()
    assert card.edit_count == 1 and t("kk", "Called to the checkpoint") in card.text
    assert t("kk", "Gate {gate}, lane {lane}").format(gate=4, lane=1) in call.text
    assert silent(tg, 9002) == [True, False]
    rows = await deliveries(nobat.db)
    assert [r.message_id for r in rows] == [card.message_id, call.message_id]


async def test_two_followers_each_get_their_own_card_and_call(tg, nobat, clock):
    driver, dispatcher = await follower(tg, nobat, 9003, "fa"), await follower(tg, nobat, 9004, "ru")
    await post_event(nobat.db, EventType.CALLED, [9003, 9004], at=clock.now(), details={"gate": "2"})
    await deliver_all(nobat)
    assert [len(driver.bot_messages()), len(dispatcher.bot_messages())] == [2, 2]
    assert "خورگوس" in driver.bot_messages()[1].text and "Хоргос" in dispatcher.bot_messages()[1].text


async def test_a_chat_that_blocked_the_bot_is_undeliverable_and_the_others_get_theirs(tg, nobat, clock):
    blocked, other = await follower(tg, nobat, 9005), await follower(tg, nobat, 9006)
    blocked.block()
    await post_event(nobat.db, EventType.RELEASED, [9005, 9006], at=clock.now())
    await deliver_all(nobat)
    first, second = await deliveries(nobat.db)
    assert (first.status, second.status) == (UNDELIVERABLE, SENT)
    assert "blocked" in first.error and first.message_id is None
    assert len(other.bot_messages()) == 2


async def test_telegrams_5xx_is_tried_again_with_backoff(tg, nobat, clock):
    driver = await follower(tg, nobat, 9007)
    tg.fail_next("sendMessage", times=2, code=502, description="Bad Gateway")
    await post_event(nobat.db, EventType.ARRIVED, [9007], at=clock.now())
    assert await nobat.outbox.run_once() == 1
    [row] = await deliveries(nobat.db)
    assert (row.status, row.attempts, row.next_attempt_at) == ("queued", 1, clock.now() + timedelta(seconds=2))
    assert await nobat.outbox.run_once() == 0, "not before its time"
    clock.advance(timedelta(seconds=2))
    await nobat.outbox.run_once()
    [row] = await deliveries(nobat.db)
    assert (row.attempts, row.next_attempt_at) == (2, clock.now() + timedelta(seconds=4))
    clock.advance(timedelta(seconds=4))
    await nobat.outbox.run_once()
    [row] = await deliveries(nobat.db)
    assert row.status == SENT and len(driver.bot_messages()) == 1


@pytest.mark.parametrize("settings_overrides", [{"outbox": {"retry_limit": 3}}])
async def test_a_notice_that_keeps_failing_is_given_up_after_the_retry_limit(tg, nobat, clock):
    await follower(tg, nobat, 9008)
    tg.fail_next("sendMessage", times=10)
    await post_event(nobat.db, EventType.ARRIVED, [9008], at=clock.now())
    await deliver_all(nobat, clock)
    [row] = await deliveries(nobat.db)
    assert (row.status, row.attempts) == (FAILED, 3) and "Internal Server Error" in row.error
    [delivery] = await nobat.services.events.deliveries(plate="123ABC02")
    assert delivery.status == "undeliverable", "the border system falls back to SMS"


async def test_a_storm_of_notices_arrives_whole_without_telegram_refusing_one(tg, nobat, clock):
    """60 chats with a call each (60 new messages and 60 cards: four seconds of the overall limit),
    and one chat with 8 events at once (its own limit of one a second)."""
    users = [await follower(tg, nobat, 9100 + i) for i in range(60)]
    busy = await follower(tg, nobat, 9200)
    await post_event(nobat.db, EventType.CALLED, [u.user_id for u in users], at=clock.now(), details={"gate": "1"})
    for minute, kind in enumerate([EventType.ARRIVED, EventType.INSPECTION_STARTED, EventType.DOCUMENTS_REQUIRED,
                                   EventType.INSPECTION_PASSED, EventType.RELEASED, EventType.EXITED,
                                   EventType.QUEUE_POSITION, EventType.CALLED]):
        await post_event(nobat.db, kind, [busy.user_id], at=clock.now() - timedelta(minutes=8 - minute), ref="BUSY1")
    await asyncio.wait_for(deliver_all(nobat), timeout=60)
    assert all(len(u.bot_messages()) == 2 for u in users)
    assert len(busy.bot_messages()) == 1 + 3  # the card, and the 3 events that ring
    assert busy.bot_messages()[0].edit_count == 7
    assert tg.limit_violations == 0 and not [e for e in tg.errors if e[2] == 429]
    assert {r.status for r in await deliveries(nobat.db)} == {SENT}


async def test_a_sender_stopped_mid_batch_resumes_and_sends_each_notice_once(tg, nobat, clock):
    users = [await follower(tg, nobat, 9300 + i) for i in range(40)]
    await post_event(nobat.db, EventType.CALLED, [u.user_id for u in users], at=clock.now())
    batch = asyncio.create_task(nobat.outbox.run_once())
    while sum(len(u.bot_messages()) for u in users) < 20:
        await asyncio.sleep(0.01)
    batch.cancel()  # as a process dies: the claims stay, their lease runs
    await asyncio.gather(batch, return_exceptions=True)
    assert await nobat.outbox.run_once() == 0, "claimed rows wait for their lease"
    clock.advance(timedelta(minutes=3))
    await deliver_all(nobat)
    rows = await deliveries(nobat.db)
    assert {r.status for r in rows} == {SENT}
    for user in users:
        card, call = user.bot_messages()
        assert [m.message_id for m in user.bot_messages()] == [card.message_id, call.message_id]
    assert {r.message_id for r in rows} == {u.bot_messages()[1].message_id for u in users}


async def test_a_day_of_statuses_keeps_its_card_within_telegrams_length_and_a_call_still_rings(tg, nobat, clock):
    """A status every 5 minutes since early morning: the card holds what fits and counts the rest,
    every delivery is sent, and the call that comes after rings."""
    from local_bot_api import utf16_len

    driver = await follower(tg, nobat, 9400)
    start = clock.now() - timedelta(hours=14)
    await post_event(nobat.db, EventType.QUEUE_POSITION, [9400], at=start, details={"queue_position": 900})
    await deliver_all(nobat)
    # The rest of a long day's statuses, shown on the card one by one before now (at a chat's
    # message a second, a test would wait for each; the card's record is what they leave).
    async with nobat.db.transaction() as session:
        stored = await session.scalar(select(StatusCard).where(StatusCard.account_id == 9400))
        timeline = [*timeline_from(stored.timeline), *(
            TimelineEntry(10_000 + n, EventType.QUEUE_POSITION, start + timedelta(minutes=5 * n),
                          {"queue_position": 900 - n}) for n in range(1, 160))]
        stored.timeline = json.dumps([entry.as_json() for entry in timeline])
    await post_event(nobat.db, EventType.CALLED, [9400], at=clock.now(), details={"gate": "7"})
    await deliver_all(nobat)
    card, call = driver.bot_messages()
    assert 4000 < utf16_len(card.text) <= 4096 and card.edit_count == 1
    counted = card.text.split("\n\n", 1)[1].splitlines()[0]  # the first line under the card's head
    shown = sum(1 for line in card.text.splitlines() if " — " in line)
    earlier = _catalog("ru").ngettext("… {count} earlier status", "… {count} earlier statuses", 161 - shown)
    assert counted == earlier.format(count=161 - shown) and 100 < shown < 161
    assert t("ru", "Called to the checkpoint") in card.text.splitlines()[-1]
    assert t("ru", "Gate {gate}").format(gate=7) in call.text
    assert {r.status for r in await deliveries(nobat.db)} == {SENT}, "none refused as too long"


async def test_a_call_rings_even_when_its_card_cannot_be_edited(tg, nobat, clock):
    driver = await follower(tg, nobat, 9401)
    await post_event(nobat.db, EventType.ARRIVED, [9401], at=clock.now() - timedelta(minutes=2))
    await deliver_all(nobat)
    tg.fail_next("editMessageText", times=1, code=400, description="Bad Request: message is too long")
    await post_event(nobat.db, EventType.CALLED, [9401], at=clock.now(), details={"gate": "2"})
    await deliver_all(nobat)
    card, call = driver.bot_messages()
    assert t("ru", "Gate {gate}").format(gate=2) in call.text, "the driver is told what to do"
    rows = await deliveries(nobat.db)
    assert [r.status for r in rows] == [SENT, SENT] and rows[1].message_id == call.message_id


async def test_a_card_that_failed_for_a_moment_is_tried_again_without_a_second_call(tg, nobat, clock):
    driver = await follower(tg, nobat, 9402)
    await post_event(nobat.db, EventType.ARRIVED, [9402], at=clock.now() - timedelta(minutes=2))
    await deliver_all(nobat)
    tg.fail_next("editMessageText", times=1, code=502, description="Bad Gateway")
    await post_event(nobat.db, EventType.CALLED, [9402], at=clock.now(), details={"gate": "2"})
    await deliver_all(nobat, clock)
    card, call = driver.bot_messages()
    assert t("ru", "Called to the checkpoint") in card.text, "the card caught up"
    assert t("ru", "Gate {gate}").format(gate=2) in call.text
    [_, row] = await deliveries(nobat.db)
    assert (row.status, row.message_id, row.attempts) == (SENT, call.message_id, 1)

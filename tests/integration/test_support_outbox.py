"""The support sender's claims in the database: each side's messages of a ticket one at a time and
in their order on that side, a failure holding back the ones after it, a lease that a dead sender
leaves to run out, claims at once never taking one message twice, and a reply leading only to a
message of its own ticket."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services.container import Services
from services.kernel.rules import BookingRules
from services.support.outbox import SupportOutbox
from services.support.tables import Author, Copy
from tests.integration.test_booking_engine import KHORGOS, driver


@pytest.fixture
def services(db, clock):
    return Services.build(db, [KHORGOS], BookingRules(), clock)


@pytest.fixture
def outbox(db, clock):
    return SupportOutbox(db, clock, retry_limit=3, lease=timedelta(seconds=30))


async def test_a_tickets_messages_are_claimed_one_at_a_time_in_the_order_they_were_written(services, outbox):
    await driver(services, 1, "101ABC02")
    await driver(services, 2, "102ABC02")
    # Stored out of order, as handlers running side by side may store a burst.
    for message_id in (12, 10, 11):
        await services.support.driver_wrote(1, message_id, "text")
    await services.support.driver_wrote(2, 40, "text")
    first = await outbox.claim(Author.DRIVER, 10)
    assert sorted((c.account_id, c.driver_message_id) for c in first) == [(1, 10), (2, 40)]
    assert await outbox.claim(Author.DRIVER, 10) == [], "each ticket's next is under way"
    mine = next(c for c in first if c.account_id == 1)
    await services.support.copied(mine.id, 501)
    assert [c.driver_message_id for c in await outbox.claim(Author.DRIVER, 10)] == [11]



async def test_an_earlier_message_stored_while_a_later_one_is_under_way_waits_for_it(services, outbox):
    """A burst's handlers store its messages out of order, and a slow store (a busy database) may
    land after the sender claimed the later one, before its topic is on record: claiming the earlier
    one then would open the ticket's topic a second time."""
    await driver(services, 4, "104ABC02")
    await services.support.driver_wrote(4, 31, "text")
    [later] = await outbox.claim(Author.DRIVER, 10)
    assert later.thread_id is None, "its topic is still to be opened"
    await services.support.driver_wrote(4, 30, "text")
    assert await outbox.claim(Author.DRIVER, 10) == [], "not while the later one may be opening the topic"
    await services.support.copied(later.id, 601)
    [earlier] = await outbox.claim(Author.DRIVER, 10)
    assert earlier.driver_message_id == 30

async def test_a_failed_message_holds_back_the_next_until_its_backoff_is_over(services, outbox, clock):
    await driver(services, 3, "103ABC02")
    for message_id in (20, 21):
        await services.support.driver_wrote(3, message_id, "text")
    [first] = await outbox.claim(Author.DRIVER, 10)
    assert await outbox.failed(first.id, first.attempts)
    assert await outbox.claim(Author.DRIVER, 10) == [], "not the second before the first"
    clock.advance(timedelta(seconds=3))
    [again] = await outbox.claim(Author.DRIVER, 10)
    assert (again.driver_message_id, again.attempts) == (20, 1)
    assert await outbox.failed(again.id, again.attempts)
    clock.advance(timedelta(seconds=5))
    [third] = await outbox.claim(Author.DRIVER, 10)
    assert not await outbox.failed(third.id, third.attempts), "given up at the retry limit"
    [second] = await outbox.claim(Author.DRIVER, 10)
    assert second.driver_message_id == 21


async def test_a_dead_senders_claim_runs_out_and_is_claimed_again(services, outbox, clock):
    await driver(services, 4, "104ABC02")
    await services.support.driver_wrote(4, 30, "text")
    [claimed] = await outbox.claim(Author.DRIVER, 10)
    clock.advance(timedelta(seconds=29))
    assert await outbox.claim(Author.DRIVER, 10) == []
    clock.advance(timedelta(seconds=2))
    assert [c.id for c in await outbox.claim(Author.DRIVER, 10)] == [claimed.id]
    await outbox.release([claimed.id])
    assert [c.id for c in await outbox.claim(Author.DRIVER, 10)] == [claimed.id], "released: due at once"


async def test_claims_at_once_never_take_a_message_twice(services, outbox):
    for account_id in range(10, 40):
        await driver(services, account_id, f"{account_id:03d}ABC02")
        await services.support.driver_wrote(account_id, 1, "text")
    claims = await asyncio.gather(*(outbox.claim(Author.DRIVER, 4) for _ in range(10)))
    ids = [c.id for claim in claims for c in claim]
    assert len(ids) == len(set(ids)) == 30


async def test_the_first_answer_and_replies_lead_only_within_the_ticket(services, outbox):
    await driver(services, 5, "105ABC02")
    await driver(services, 6, "106ABC02")
    mine = await services.support.driver_wrote(5, 50, "text")
    theirs = await services.support.driver_wrote(6, 50, "text")
    await services.support.topic_opened(mine.message.ticket.id, 900)
    await services.support.topic_opened(theirs.message.ticket.id, 901)
    await services.support.copied(mine.message.id, 905)
    await services.support.copied(theirs.message.id, 906)
    answer = await services.support.agent_wrote(900, 77, "Aigerim", 910, "text", reply_to_id=905)
    stray = await services.support.agent_wrote(900, 77, "Aigerim", 911, "text", reply_to_id=906)
    [due] = await outbox.claim(Author.AGENT, 10)
    assert (due.id, due.reply_to, due.first_answer) == (answer.message.id, 50, True)
    await services.support.copied(due.id, 60)
    [due] = await outbox.claim(Author.AGENT, 10)
    assert (due.id, due.reply_to, due.first_answer) == (stray.message.id, None, False), \
        "a reply to another ticket's message answers nothing"
    later = await services.support.driver_wrote(5, 51, "text", reply_to_id=60)
    [due] = await outbox.claim(Author.DRIVER, 10)
    assert (due.id, due.reply_to, due.thread_id) == (later.message.id, 910, 900)


async def test_an_edit_while_the_copy_is_made_is_handed_to_the_sender(services, outbox):
    await driver(services, 7, "107ABC02")
    await services.support.driver_wrote(7, 70, "text")
    [due] = await outbox.claim(Author.DRIVER, 10)
    edited = await services.support.edited(Author.DRIVER, 70, "<b>new</b>", account_id=7)
    assert edited.copy is Copy.QUEUED and edited.topic_message_id is None, "not copied yet: nothing to edit"
    assert await services.support.copied(due.id, 700) == "<b>new</b>", "the sender mirrors it"
    assert await services.support.edited(Author.DRIVER, 70, "x", account_id=8) is None, "another's chat"
    again = await services.support.edited(Author.DRIVER, 70, "<b>newer</b>", account_id=7)
    assert again.topic_message_id == 700, "copied: the handler edits the copy itself"


async def test_an_update_handled_twice_stores_its_message_once(services, outbox):
    await driver(services, 9, "109ABC02")
    first = await services.support.driver_wrote(9, 90, "text")
    again = await services.support.driver_wrote(9, 90, "text")
    assert again.message.id == first.message.id and not again.opened
    await services.support.topic_opened(first.message.ticket.id, 990)
    reply = await services.support.agent_wrote(990, 77, "Aigerim", 995, "text")
    assert (await services.support.agent_wrote(990, 77, "Aigerim", 995, "text")).message.id == reply.message.id
    assert await services.support.counts(first.message.ticket.id) == {"driver": 1, "agent": 1}
    assert [c.id for c in await outbox.claim(Author.DRIVER, 10)] == [first.message.id]


async def test_two_processes_storing_a_drivers_first_messages_at_once_open_one_ticket_and_store_each_once(
        services, db, clock):
    """Another process's batch opens the driver's ticket, or stores the same update, between this
    batch's read and its write: the database refuses the second, and each write is stored again on
    its own, finding what the other stored."""
    await driver(services, 13, "113ABC02")
    elsewhere = Services.build(db, [KHORGOS], BookingRules(), clock).support
    for first in (1, 11, 21):  # whichever batch comes first, the outcome is the same
        written = await asyncio.gather(services.support.driver_wrote(13, first, "text"),
                                       elsewhere.driver_wrote(13, first, "text"),
                                       elsewhere.driver_wrote(13, first + 1, "text"))
        ticket = written[0].message.ticket.id
        assert {w.message.ticket.id for w in written} == {ticket}
        assert written[0].message.id == written[1].message.id != written[2].message.id
        assert sum(w.opened for w in written) == 1, "the driver is told once that a ticket was opened"
        assert await services.support.counts(ticket) == {"driver": 2}
        await services.support.close(ticket, by="agent:77")


async def test_a_driver_whose_updates_are_still_being_handled_waits(services, outbox):
    await driver(services, 11, "111ABC02")
    await driver(services, 12, "112ABC02")
    await services.support.driver_wrote(11, 2, "text")  # stored first, the handler of 1 still at work
    await services.support.driver_wrote(12, 5, "text")
    assert [c.account_id for c in await outbox.claim(Author.DRIVER, 10, skip={11})] == [12]
    await services.support.driver_wrote(11, 1, "text")
    assert [c.driver_message_id for c in await outbox.claim(Author.DRIVER, 10)] == [1]


async def test_drivers_writing_at_once_are_stored_together_each_once(services, db):
    from sqlalchemy import func, select

    from services.audit.trail import AuditRecord

    for account_id in range(100, 400):
        await driver(services, account_id, f"{account_id:03d}XYZ02")
    await services.support.driver_wrote(100, 1, "text")  # one of them had written before
    writes = [(account_id, message_id) for message_id in (1, 2) for account_id in range(100, 400)]
    written = await asyncio.gather(*(services.support.driver_wrote(a, m, "text") for a, m in writes),
                                   services.support.driver_wrote(250, 2, "text"))  # an update handled twice
    assert len({w.message.id for w in written}) == 600
    assert sum(w.opened for w in written) == 299, "each new ticket said opened once"
    tickets = {w.message.ticket.account_id: w.message.ticket.id for w in written}
    assert all(w.message.ticket.id == tickets[a] for w, (a, _) in zip(written, writes))
    async with db.reading() as session:
        actions = dict((await session.execute(select(AuditRecord.action, func.count())
                                              .group_by(AuditRecord.action))).all())
    assert actions["support.open"] == 300 and actions["support.message"] == 600
    assert (await services.audit.verify()).broken_id is None

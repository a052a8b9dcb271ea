"""Support's messages in the outbox: each side's messages of a ticket one at a time and in their
order on that side, a failure holding back the ones after it, a lease that a dead sender leaves to
run out, claims at once never taking one message twice, the bot's notes in their place, and a reply
leading only to a message of its own ticket."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.support.relay import STORE_PATIENCE_SECONDS
from services.container import Services
from services.kernel.rules import BookingRules
from services.outbox.kinds import Kind
from services.outbox.outbox import RetryPolicy, Sent
from services.outbox.tables import OutboxRow
from services.storage.unavailable import patiently
from services.support.tables import Author, Copy
from tests.integration.test_booking_engine import KHORGOS, driver

POLICY = RetryPolicy(retry_limit=3)


@pytest.fixture
def services(db, clock):
    built = Services.build(db, [KHORGOS], BookingRules(), clock)
    built.outbox.lease = timedelta(seconds=30)
    return built


class Copies:
    """The outbox as the sender claims support's copies, each with its message."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.outbox = services.outbox

    async def claim(self, author: Author, limit: int, skip=()) -> list:
        rows = await self.outbox.claim(limit, to_group=author is Author.DRIVER, skip=skip,
                                       skip_kinds=[Kind.TO_AGENTS])
        return [(row, await self.services.support.message(row.payload["message"])) if "message" in row.payload
                else (row, None) for row in rows]

    async def copied(self, claimed, copy_id: int) -> None:
        row, message = claimed
        await self.services.support.copied(message.id, copy_id)
        await self.outbox.settle(row, Sent(copy_id))


@pytest.fixture
def outbox(services):
    return Copies(services)


async def test_a_tickets_messages_are_claimed_one_at_a_time_in_the_order_they_were_written(services, outbox):
    await driver(services, 1, "101ABC02")
    await driver(services, 2, "102ABC02")
    # Stored out of order, as handlers running side by side may store a burst.
    for message_id in (12, 10, 11):
        await services.support.driver_wrote(1, message_id, "text")
    await services.support.driver_wrote(2, 40, "text")
    first = await outbox.claim(Author.DRIVER, 10)
    assert sorted((row.account_id, m.driver_message_id) for row, m in first) == [(1, 10), (2, 40)]
    assert all(row.kind == Kind.TO_AGENTS and row.chat_id is None for row, _ in first)
    assert await outbox.claim(Author.DRIVER, 10) == [], "each ticket's next waits for the one under way"
    await outbox.copied(next(c for c in first if c[0].account_id == 1), 501)
    assert [m.driver_message_id for _, m in await outbox.claim(Author.DRIVER, 10)] == [11]


async def test_an_earlier_message_stored_while_a_later_one_is_under_way_waits_for_it(services, outbox):
    """A burst's handlers store its messages out of order, and a slow store (a busy database) may
    land after the sender claimed the later one, before its topic is on record: claiming the earlier
    one then would open the ticket's topic a second time."""
    await driver(services, 4, "104ABC02")
    await services.support.driver_wrote(4, 31, "text")
    [later] = await outbox.claim(Author.DRIVER, 10)
    assert later[1].ticket.thread_id is None, "its topic is still to be opened"
    await services.support.driver_wrote(4, 30, "text")
    assert await outbox.claim(Author.DRIVER, 10) == [], "not while the later one may be opening the topic"
    await outbox.copied(later, 601)
    [earlier] = await outbox.claim(Author.DRIVER, 10)
    assert earlier[1].driver_message_id == 30


async def test_a_failed_message_holds_back_the_next_until_its_backoff_is_over(services, outbox, clock):
    await driver(services, 3, "103ABC02")
    for message_id in (20, 21):
        await services.support.driver_wrote(3, message_id, "text")
    [(first, _)] = await outbox.claim(Author.DRIVER, 10)
    await services.outbox.settle(first, POLICY.failed(first, "502 Bad Gateway"))
    assert await outbox.claim(Author.DRIVER, 10) == [], "not the second before the first"
    clock.advance(timedelta(seconds=3))
    [(again, message)] = await outbox.claim(Author.DRIVER, 10)
    assert (message.driver_message_id, again.attempts) == (20, 1)
    await services.outbox.settle(again, POLICY.failed(again, "502 Bad Gateway"))
    clock.advance(timedelta(seconds=5))
    [(third, _)] = await outbox.claim(Author.DRIVER, 10)
    await services.outbox.settle(third, POLICY.failed(third, "502 Bad Gateway"))  # given up at the retry limit
    [(_, second)] = await outbox.claim(Author.DRIVER, 10)
    assert second.driver_message_id == 21


async def test_a_dead_senders_claim_runs_out_and_is_claimed_again(services, outbox, clock):
    await driver(services, 4, "104ABC02")
    await services.support.driver_wrote(4, 30, "text")
    [(claimed, _)] = await outbox.claim(Author.DRIVER, 10)
    clock.advance(timedelta(seconds=29))
    assert await outbox.claim(Author.DRIVER, 10) == []
    clock.advance(timedelta(seconds=2))
    assert [row.id for row, _ in await outbox.claim(Author.DRIVER, 10)] == [claimed.id]
    await services.outbox.release([claimed.id])
    assert [row.id for row, _ in await outbox.claim(Author.DRIVER, 10)] == [claimed.id], "released: due at once"


async def test_claims_at_once_never_take_a_message_twice(services, outbox):
    for account_id in range(10, 40):
        await driver(services, account_id, f"{account_id:03d}ABC02")
        await services.support.driver_wrote(account_id, 1, "text")
    claims = await asyncio.gather(*(outbox.claim(Author.DRIVER, 4) for _ in range(10)))
    ids = [row.id for claim in claims for row, _ in claim]
    assert len(ids) == len(set(ids)) == 30


async def test_the_first_answer_is_announced_first_and_replies_lead_only_within_the_ticket(services, outbox):
    await driver(services, 5, "105ABC02")
    await driver(services, 6, "106ABC02")
    mine = await services.support.driver_wrote(5, 50, "text")
    theirs = await services.support.driver_wrote(6, 50, "text")
    await services.support.topic_opened(mine.message.ticket.id, 900)
    await services.support.topic_opened(theirs.message.ticket.id, 901)
    claimed = {message.id: (row, message) for row, message in await outbox.claim(Author.DRIVER, 10)}
    for written, copy_id in ((mine, 905), (theirs, 906)):
        await outbox.copied(claimed[written.message.id], copy_id)
    answer = await services.support.agent_wrote(900, 77, "Aigerim", 910, "text", reply_to_id=905)
    stray = await services.support.agent_wrote(900, 77, "Aigerim", 911, "text", reply_to_id=906)
    assert answer.first_answer and not stray.first_answer
    rows = await outbox.claim(Author.AGENT, 10)
    notes = [row for row, _ in rows if row.kind == Kind.SUPPORT_NOTE and row.chat_id == 5]
    assert [row.payload["note"] for row in notes] == ["answering"], "\"an agent is answering\" before the answer"
    await services.outbox.settle(notes[0], Sent(1))
    [(row, message)] = [c for c in await outbox.claim(Author.AGENT, 10) if c[0].chat_id == 5]
    assert message.id == answer.message.id and await services.support.reply_target(message.id) == 50
    await outbox.copied((row, message), 60)
    [(row, message)] = [c for c in await outbox.claim(Author.AGENT, 10) if c[0].chat_id == 5]
    assert message.id == stray.message.id
    assert await services.support.reply_target(message.id) is None, \
        "a reply to another ticket's message answers nothing"
    later = await services.support.driver_wrote(5, 51, "text", reply_to_id=60)
    [(_, message)] = [c for c in await outbox.claim(Author.DRIVER, 10) if c[1] and c[1].ticket.account_id == 5]
    assert (message.id, message.ticket.thread_id) == (later.message.id, 900)
    assert await services.support.reply_target(message.id) == 910


async def test_an_edit_is_queued_after_its_copy_and_only_for_the_writers_own_message(services, outbox):
    await driver(services, 7, "107ABC02")
    await services.support.driver_wrote(7, 70, "text")
    [copying] = await outbox.claim(Author.DRIVER, 10)
    edited = await services.support.edited(Author.DRIVER, 70, "<b>new</b>", account_id=7)
    assert edited.copy is Copy.QUEUED and edited.topic_message_id is None, "not copied yet: nothing to edit"
    assert await outbox.claim(Author.DRIVER, 10) == [], "the edit waits for its copy"
    await outbox.copied(copying, 700)
    [(edit, message)] = await outbox.claim(Author.DRIVER, 10)
    assert edit.kind == Kind.SUPPORT_EDIT and message.topic_message_id == 700
    assert await services.support.edited_text(message.id) == "<b>new</b>"
    assert await services.support.edited(Author.DRIVER, 70, "x", account_id=8) is None, "another's chat"


async def test_an_update_handled_twice_stores_its_message_once(services, outbox):
    await driver(services, 9, "109ABC02")
    first = await services.support.driver_wrote(9, 90, "text")
    again = await services.support.driver_wrote(9, 90, "text")
    assert again.message.id == first.message.id and not again.opened
    await services.support.topic_opened(first.message.ticket.id, 990)
    reply = await services.support.agent_wrote(990, 77, "Aigerim", 995, "text")
    assert (await services.support.agent_wrote(990, 77, "Aigerim", 995, "text")).message.id == reply.message.id
    assert await services.support.counts(first.message.ticket.id) == {"driver": 1, "agent": 1}
    assert [m.id for _, m in await outbox.claim(Author.DRIVER, 10)] == [first.message.id]
    assert await services.outbox.waiting([Kind.TO_AGENTS]) == 1 and await services.outbox.waiting([Kind.TO_DRIVER]) == 1


async def test_a_closing_tells_the_other_side_after_what_it_was_told_before(services, outbox):
    await driver(services, 14, "114ABC02")
    first = await services.support.driver_wrote(14, 140, "text")
    ticket = first.message.ticket.id
    await services.support.topic_opened(ticket, 1400)
    await services.support.agent_wrote(1400, 77, "Aigerim", 1401, "text")
    await services.support.close(ticket, by="agent:77")
    told = []
    while rows := await outbox.claim(Author.AGENT, 10):
        for row, message in rows:
            told.append(row.payload.get("note") or message.topic_message_id)
            await services.outbox.settle(row, Sent(1))
    assert told == ["answering", 1401, "closed"], "the answer reaches the driver before the closing"


async def test_two_processes_storing_a_drivers_first_messages_at_once_open_one_ticket_and_store_each_once(
        services, db, clock):
    """Another process's batch opens the driver's ticket, or stores the same update, between this
    batch's read and its write: the database refuses the second, and each write is stored again on
    its own, finding what the other stored."""
    await driver(services, 13, "113ABC02")
    elsewhere = Services.build(db, [KHORGOS], BookingRules(), clock).support
    for first in (1, 11, 21):  # whichever batch comes first, the outcome is the same
        clock.advance(timedelta(hours=25))  # past the last one's reopening window: a new ticket
        written = await asyncio.gather(services.support.driver_wrote(13, first, "text"),
                                       elsewhere.driver_wrote(13, first, "text"),
                                       elsewhere.driver_wrote(13, first + 1, "text"))
        ticket = written[0].message.ticket.id
        assert {w.message.ticket.id for w in written} == {ticket}
        assert written[0].message.id == written[1].message.id != written[2].message.id
        assert sum(w.opened for w in written) == 1, "the driver is told once that a ticket was opened"
        assert await services.support.counts(ticket) == {"driver": 2}
        await services.support.close(ticket, by="agent:77")
    # Within the window both processes reopen the closed ticket at once: it is reopened once, told once.
    written = await asyncio.gather(services.support.driver_wrote(13, 31, "text"),
                                   elsewhere.driver_wrote(13, 32, "text"))
    assert {w.message.ticket.id for w in written} == {ticket} and not any(w.opened for w in written)
    async with services.db.reading() as session:
        notes = list(await session.scalars(select(OutboxRow.payload).where(OutboxRow.kind == Kind.SUPPORT_NOTE)))
    assert sum('"resumed"' in payload for payload in notes) == 1, "the driver is told once it was reopened"


async def test_a_driver_whose_updates_are_still_being_handled_waits(services, outbox):
    await driver(services, 11, "111ABC02")
    await driver(services, 12, "112ABC02")
    await services.support.driver_wrote(11, 2, "text")  # stored first, the handler of 1 still at work
    await services.support.driver_wrote(12, 5, "text")
    assert [row.account_id for row, _ in await outbox.claim(Author.DRIVER, 10, skip={11})] == [12]
    await services.support.driver_wrote(11, 1, "text")
    assert [m.driver_message_id for _, m in await outbox.claim(Author.DRIVER, 10)] == [1]


async def test_drivers_writing_at_once_are_stored_together_each_once(services, db):
    from sqlalchemy import func, select

    from services.audit.trail import AuditRecord

    for account_id in range(100, 400):
        await driver(services, account_id, f"{account_id:03d}XYZ02")
    await services.support.driver_wrote(100, 1, "text")  # one of them had written before
    writes = [(account_id, message_id) for message_id in (1, 2) for account_id in range(100, 400)]

    def stored(account_id: int, message_id: int):  # as the bot stores them: waiting while the database is busy
        return patiently(lambda: services.support.driver_wrote(account_id, message_id, "text"),
                         STORE_PATIENCE_SECONDS, "a driver's message")

    written = await asyncio.gather(*(stored(a, m) for a, m in writes), stored(250, 2))  # an update handled twice
    assert len({w.message.id for w in written}) == 600
    assert sum(w.opened for w in written) == 299, "each new ticket said opened once"
    tickets = {w.message.ticket.account_id: w.message.ticket.id for w in written}
    assert all(w.message.ticket.id == tickets[a] for w, (a, _) in zip(written, writes))
    async with db.reading() as session:
        actions = dict((await session.execute(select(AuditRecord.action, func.count())
                                              .group_by(AuditRecord.action))).all())
    assert actions["support.open"] == 300 and actions["support.message"] == 600
    assert (await services.audit.verify()).broken_id is None

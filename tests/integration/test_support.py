"""Support tickets and their messages in the database: one open ticket per account, messages
stored before they are copied, each side's message ids leading back to the right ticket and no
other, and every step in the audit trail."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.audit.trail import AuditRecord
from services.container import Services
from services.kernel.rules import BookingRules
from services.outbox.kinds import Kind
from services.outbox.tables import OutboxRow
from services.support.tables import Author, Copy, TicketStatus
from tests.integration.test_booking_engine import KHORGOS, driver


@pytest.fixture
def services(db, clock):
    return Services.build(db, [KHORGOS], BookingRules(), clock)



async def test_a_drivers_messages_open_one_ticket_and_wait_to_be_copied_in_order(services):
    await driver(services, 1, "101ABC02")
    first = await services.support.driver_wrote(1, driver_message_id=10, kind="text")
    second = await services.support.driver_wrote(1, driver_message_id=11, kind="photo")
    assert first.opened and not second.opened
    assert first.message.ticket.id == second.message.ticket.id and first.message.ticket.open
    queued = await services.support.queued()
    assert [(m.driver_message_id, m.kind, m.copy) for m in queued] == [(10, "text", Copy.QUEUED),
                                                                       (11, "photo", Copy.QUEUED)]
    await services.support.copied(first.message.id, copy_id=500)
    assert [m.driver_message_id for m in await services.support.queued()] == [11], "what is left after a restart"
    found = await services.support.by_topic_message(500)
    assert found.ticket.account_id == 1 and found.author is Author.DRIVER and found.driver_message_id == 10


async def test_two_processes_opening_a_ticket_at_once_get_the_same_one(services):
    await driver(services, 2, "102ABC02")
    opened = await asyncio.gather(*(services.support.open(2) for _ in range(5)))
    assert len({ticket.id for ticket, _ in opened}) == 1
    assert sum(was_opened for _, was_opened in opened) == 1


async def test_an_agents_reply_goes_to_the_driver_of_its_topic_and_the_first_one_assigns_the_ticket(services):
    for account_id, plate in ((3, "103ABC02"), (4, "104ABC02")):
        await driver(services, account_id, plate)
    mine = (await services.support.driver_wrote(3, 20, "text")).message.ticket
    theirs = (await services.support.driver_wrote(4, 20, "text")).message.ticket
    await services.support.topic_opened(mine.id, thread_id=900)
    await services.support.topic_opened(theirs.id, thread_id=901)
    reply = await services.support.agent_wrote(900, agent_id=77, agent_name="Aigerim", topic_message_id=905,
                                               kind="text")
    assert reply.first_answer and reply.message.ticket.account_id == 3
    assert reply.message.ticket.assignee_id == 77 and reply.message.ticket.assignee_name == "Aigerim"
    again = await services.support.agent_wrote(900, agent_id=78, agent_name="Omid", topic_message_id=906, kind="text")
    assert not again.first_answer and again.message.ticket.assignee_id == 77, "the first to answer keeps it"
    assert await services.support.agent_wrote(999, 77, "Aigerim", 907, "text") is None, "a topic of no ticket"
    await services.support.copied(reply.message.id, copy_id=31)
    # An edit of the agent's message finds the copy in the driver's chat; the driver's message id 20
    # of the other account leads to the other ticket, never this one.
    assert (await services.support.by_topic_message(905)).driver_message_id == 31
    assert (await services.support.by_driver_message(3, 31)).topic_message_id == 905
    assert (await services.support.by_driver_message(4, 20)).ticket.id == theirs.id
    assert (await services.support.by_driver_message(4, 31)) is None
    assigned = await services.support.assign(900, 78, "Omid")
    assert (assigned.assignee_id, assigned.assignee_name) == (78, "Omid")


async def test_closing_rating_once_reopening_and_the_list_of_open_tickets(services):
    for account_id, plate in ((5, "105ABC02"), (6, "106ABC02")):
        await driver(services, account_id, plate)
    ticket = (await services.support.driver_wrote(5, 1, "text")).message.ticket
    other = (await services.support.driver_wrote(6, 1, "voice")).message.ticket
    assert [t.id for t in await services.support.open_tickets()] == [ticket.id, other.id]
    assert await services.support.rate(5, ticket.id, 5) is None, "an open ticket is not rated"
    closed = await services.support.close(ticket.id, by="agent:77")
    assert closed.status is TicketStatus.CLOSED and await services.support.close(ticket.id, by="agent:77") is None
    assert await services.support.rate(6, ticket.id, 1) is None, "not theirs"
    assert (await services.support.rate(5, ticket.id, 4)).rating == 4
    assert (await services.support.rate(5, ticket.id, 1)).rating == 4, "a second tap changes nothing"
    assert [t.id for t in await services.support.open_tickets()] == [other.id]
    assert await services.support.current(5) is None
    reopened = await services.support.reopen(ticket.id, by="agent:77")
    assert reopened.open and reopened.rating is None
    assert (await services.support.current(5)).id == ticket.id
    async with services.db.reading() as session:
        actions = list(await session.scalars(select(AuditRecord.action)
                                             .where(AuditRecord.subject == f"ticket:{ticket.id}")
                                             .order_by(AuditRecord.id)))
    assert actions == ["support.open", "support.message", "support.close", "support.rate", "support.rate",
                       "support.reopen"]
    assert (await services.audit.verify()).intact


async def test_a_message_long_after_a_close_opens_a_new_ticket_naming_it_and_keeps_the_old_one_closed(services,
                                                                                                        clock):
    await driver(services, 7, "107ABC02")
    old = (await services.support.driver_wrote(7, 1, "text")).message.ticket
    await services.support.close(old.id, by="account:7")
    clock.advance(timedelta(hours=24, seconds=1))  # the reopening window (24 h) has passed
    assert (await services.support.writes_to(7)).id == old.id, "a driver who had a ticket still writes to support"
    new = await services.support.driver_wrote(7, 2, "text")
    assert new.opened and new.message.ticket.id != old.id and new.message.ticket.previous_id == old.id
    assert (await services.support.ticket(old.id)).status is TicketStatus.CLOSED
    assert await services.support.reopen(old.id, by="agent:77") is None, "one open ticket per account"
    assert await notes_queued(services) == [(old.id, "closed"), (new.message.ticket.id, "follows")]


async def test_a_message_soon_after_a_close_opens_that_ticket_again_and_both_sides_are_told(services, clock):
    await driver(services, 7, "107ABC02")
    old = (await services.support.driver_wrote(7, 1, "text")).message.ticket
    await services.support.close(old.id, by="agent:77")
    await services.support.rate_once(7, old.id, 2)
    clock.advance(timedelta(hours=23))
    again = await services.support.driver_wrote(7, 2, "text")
    ticket = again.message.ticket
    assert not again.opened and ticket.id == old.id and ticket.open and ticket.rating is None
    assert ticket.closed_at is None
    # The close and the rating were told; now the topic hears the driver is back, and the driver.
    assert await notes_queued(services) == [(old.id, "closed"), (old.id, "rated"), (old.id, "resumed_by_driver"),
                                            (old.id, "resumed")]
    async with services.db.reading() as session:
        actions = list(await session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))
    assert actions[-2:] == ["support.reopen", "support.message"]


async def notes_queued(services) -> list[tuple[int, str]]:
    async with services.db.reading() as session:
        payloads = await session.scalars(select(OutboxRow.payload).where(OutboxRow.kind == Kind.SUPPORT_NOTE)
                                         .order_by(OutboxRow.id))
        return [(int(json.loads(p)["ticket"]), json.loads(p)["note"]) for p in payloads]


async def test_a_driver_closes_only_their_own_open_ticket_and_a_rating_says_whether_it_was_the_first(services):
    for account_id, plate in ((8, "108ABC02"), (9, "109ABC02")):
        await driver(services, account_id, plate)
    ticket = (await services.support.driver_wrote(8, 1, "text")).message.ticket
    assert await services.support.close_own(9, ticket.id) is None, "another driver's ticket (a forged button)"
    assert (await services.support.current(8)).id == ticket.id
    closed = await services.support.close_own(8, ticket.id)
    assert closed.status is TicketStatus.CLOSED and closed.closed_at is not None
    assert await services.support.close_own(8, ticket.id) is None, "closed already"
    assert await services.support.rate_once(8, ticket.id, 6) is None, "out of range"
    assert await services.support.rate_once(9, ticket.id, 3) is None, "not theirs"
    first = await services.support.rate_once(8, ticket.id, 3)
    again = await services.support.rate_once(8, ticket.id, 5)
    assert (first.first, first.ticket.rating) == (True, 3)
    assert (again.first, again.ticket.rating) == (False, 3), "a second tap changes nothing"
    async with services.db.reading() as session:
        records = list(await session.execute(select(AuditRecord.action, AuditRecord.actor, AuditRecord.result)
                                             .where(AuditRecord.subject == f"ticket:{ticket.id}")
                                             .order_by(AuditRecord.id)))
    assert [tuple(r) for r in records][2:] == [("support.close", "account:8", "closed"),
                                               ("support.rate", "account:8", "rated"),
                                               ("support.rate", "account:8", "rated_already")]


async def test_the_last_status_notice_of_a_drivers_trucks(services, clock):
    from datetime import timedelta

    from tests.notices import post_event

    await driver(services, 10, "110ABC02")
    await driver(services, 11, "111ABC02")
    assert await services.events.last_of(10) is None
    now = clock.now()
    await post_event(services.db, "queue_position", [], at=now - timedelta(hours=2), plate="110ABC02", ref=None,
                     details={"queue_position": 12})
    await post_event(services.db, "called", [11], at=now - timedelta(hours=1), plate="111ABC02", ref=None)
    last = await services.events.last_of(10)
    assert (last.type, last.plate, last.details) == ("queue_position", "110ABC02", {"queue_position": 12})
    # A notice sent to the account's chat (a truck it follows by phone) counts too.
    await post_event(services.db, "documents_required", [10], at=now - timedelta(minutes=5), plate="999XYZ01",
                     ref=None, details={"documents": ["CMR"]})
    last = await services.events.last_of(10)
    assert (last.type, last.plate, last.checkpoint) == ("documents_required", "999XYZ01", "khorgos")
    assert (await services.events.last_of(11)).type == "called"

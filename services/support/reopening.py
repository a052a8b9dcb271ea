"""A driver's message when they have no open ticket: it opens their last one again if that closed
less than `within` ago (the agents hear it in its topic first, then the driver), else a new ticket
that names the last one, or their first. Either way the driver is told which."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from services.outbox.outbox import Post
from services.storage.database import Database
from services.support.posts import note_after, note_in_stream, topic_post
from services.support.tables import Note, Ticket, TicketStatus


async def resume_or_follow(session, db: Database, accounts: list[int], tickets: dict[int, Ticket], now: datetime,
                           within: timedelta) -> tuple[list[int], set[int], list[Post]]:
    """Tickets for `accounts`, who had none open: the last one opened again if it closed less
    than `within` ago, else a new one naming it (or a first one); each driver told which,
    the agents in the reopened topic too. The accounts with a new ticket, those whose ticket was
    reopened, and the notes."""
    last: dict[int, Ticket] = {}
    if accounts:
        for row in await session.scalars(select(Ticket).where(db.among(Ticket.account_id, accounts))
                                         .order_by(Ticket.id.desc())):
            last.setdefault(row.account_id, row)
    created, resumed, follows = [], set(), []
    for account_id in accounts:
        previous = last.get(account_id)
        closed = None if previous is None else previous.closed_at
        if closed is not None and now - closed <= within:
            reopened = await session.execute(
                update(Ticket).where(Ticket.id == previous.id, Ticket.status == TicketStatus.CLOSED.value)
                .values(status=TicketStatus.OPEN.value, closed_at=None, rating=None)
                .execution_options(synchronize_session=False))
            # Another process may have reopened it since this batch read it: then it is open, untold.
            tickets[account_id] = await session.get(Ticket, previous.id, populate_existing=True)
            if reopened.rowcount:
                resumed.add(account_id)
                continue
            if tickets[account_id].status == TicketStatus.OPEN.value:
                continue
        tickets[account_id] = Ticket(account_id=account_id, status=TicketStatus.OPEN.value, opened_at=now,
                                     previous_id=None if previous is None else previous.id)
        session.add(tickets[account_id])
        created.append(account_id)
        if previous is not None:
            follows.append(account_id)
    await session.flush()
    notes = []
    for account_id in sorted(resumed):
        notes += [topic_post(tickets[account_id]),
                  await note_after(session, tickets[account_id], Note.RESUMED_BY_DRIVER),
                  await note_after(session, tickets[account_id], Note.RESUMED)]
    notes += [note_in_stream(tickets[a].id, a, Note.FOLLOWS, 0, previous=tickets[a].previous_id) for a in follows]
    return created, resumed, notes

"""Support: a driver's ticket, the messages that go between the driver's chat and the agents'
topic, and which message is which on both sides.

A ticket is one conversation of one account with the agents: open until an agent or the driver
closes it, reopened by an agent or by the driver's next message (`services.support.reopening`); at
most one open ticket per account (a unique index says so, so two processes cannot open two). Each
message is stored before it is copied to the other side, as a row that names its message on the
side it was written (the driver's private chat, or the agents' topic) and, once copied, the copy on
the other side. So a restart loses nothing still to be copied, an agent's reply to an old message
finds its driver, an edit finds the copy to edit, and the topic's message ids never lead to another
ticket's driver: a message is routed by the ticket its topic belongs to, never by what anyone
typed. Every change leaves its audit record.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from services.audit.trail import AuditTrail, Entry, account
from services.kernel.batching import Batcher
from services.kernel.clock import Clock
from services.outbox.kinds import Kind
from services.outbox.outbox import Outbox, Post
from services.storage.database import Database
from services.storage.models import Account
from services.support.messages import MessageReads
from services.support.posts import copy_post, note_after, note_in_stream, topic_post
from services.support.reopening import resume_or_follow
from services.support.tables import Author, Copy, Note, SupportMessage, Ticket, TicketStatus
from services.support.views import DriverWrite, MessageView, Rated, TicketView, Written, message_view, ticket_view


def agent(agent_id: int) -> str:
    """An agent as the audit trail names them."""
    return f"agent:{int(agent_id)}"


class SupportService(MessageReads):
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, outbox: Outbox | None = None,
                 reopen_within: timedelta = timedelta(hours=24)) -> None:
        self.db = db
        self.reopen_within = reopen_within
        self.clock = clock
        self.audit = audit
        self.outbox = outbox or Outbox(db, clock)
        self._driver_writes: Batcher[DriverWrite, Written] = Batcher(self._store_driver_writes)

    # --- the driver's side ----------------------------------------------------------------------

    async def current(self, account_id: int) -> TicketView | None:
        """The account's open ticket, if any."""
        async with self.db.reading() as session:
            row = await session.scalar(select(Ticket).where(Ticket.account_id == account_id,
                                                            Ticket.status == TicketStatus.OPEN.value))
            return None if row is None else ticket_view(row)

    async def writes_to(self, account_id: int) -> TicketView | None:
        """The ticket a message of the driver outside a step goes to: their open one, else their
        last closed one (the message opens it again, or a new one after it); None if they never
        had one."""
        async with self.db.reading() as session:
            row = await session.scalar(select(Ticket).where(Ticket.account_id == account_id).order_by(
                (Ticket.status == TicketStatus.OPEN.value).desc(), Ticket.id.desc()).limit(1))
            return None if row is None else ticket_view(row)

    async def ticket(self, ticket_id: int) -> TicketView | None:
        """The ticket, with its driver's first name."""
        async with self.db.reading() as session:
            found = (await session.execute(select(Ticket, Account.first_name)
                                           .join(Account, Account.id == Ticket.account_id)
                                           .where(Ticket.id == ticket_id))).first()
            return None if found is None else ticket_view(found[0], found[1] or "")

    async def open(self, account_id: int) -> tuple[TicketView, bool]:
        """The account's open ticket, opened now if it had none; and whether it was."""
        for _ in range(2):  # a second process opening one at the same moment: then it is that one
            found = await self.current(account_id)
            if found is not None:
                return found, False
            now = self.clock.now()
            try:
                async with self.db.transaction() as session:
                    previous = await session.scalar(select(func.max(Ticket.id)).where(Ticket.account_id == account_id))
                    row = Ticket(account_id=account_id, status=TicketStatus.OPEN.value, opened_at=now,
                                 previous_id=previous)
                    session.add(row)
                    await session.flush()
                    await self.audit.append(session, [Entry(now, account(account_id), "support.open",
                                                            f"ticket:{row.id}", "opened", account_id)])
                    return ticket_view(row), True
            except IntegrityError:
                continue
        raise RuntimeError(f"account {account_id}: no open ticket found nor opened")

    async def driver_wrote(self, account_id: int, driver_message_id: int, kind: str,
                           reply_to_id: int | None = None) -> Written:
        """A message of the driver for the agents, stored to be copied into the topic; it opens a
        ticket if none is open. `reply_to_id`: the message of their chat it answers. Once per
        message: an update handled again (after a restart) finds it stored.

        The messages of a moment are stored together (group commit): a thousand drivers writing at
        once are a few transactions and audit segments, not a thousand queued behind SQLite's one
        writer or PostgreSQL's audit lock until the last time out."""
        stored = await self.by_driver_message(account_id, driver_message_id, author=Author.DRIVER)
        if stored is not None:
            return Written(stored)
        return await self._driver_writes(DriverWrite(account_id, driver_message_id, kind, reply_to_id))

    async def _store_driver_writes(self, writes: list[DriverWrite]) -> list[Written | BaseException]:
        try:
            return await self._store_together(writes)
        except IntegrityError:
            # Another process opened a ticket or stored one of these at the same moment: one by one,
            # each then finds what the other stored.
            return [await self._store_alone(write) for write in writes]

    async def _store_together(self, writes: list[DriverWrite]) -> list[Written]:
        now = self.clock.now()
        accounts = sorted({write.account_id for write in writes})
        async with self.db.transaction() as session:
            tickets = {row.account_id: row for row in await session.scalars(
                select(Ticket).where(self.db.among(Ticket.account_id, accounts),
                                     Ticket.status == TicketStatus.OPEN.value))}
            opened = [account_id for account_id in accounts if account_id not in tickets]
            opened, resumed, notes = await resume_or_follow(session, self.db, opened, tickets, now,
                                                            self.reopen_within)
            stored = {(account_id, message_id): (row, ticket) for row, ticket, account_id, message_id in
                      await session.execute(
                          select(SupportMessage, Ticket, Ticket.account_id, SupportMessage.driver_message_id)
                          .join(Ticket, Ticket.id == SupportMessage.ticket_id)
                          .where(self.db.among(Ticket.account_id, accounts),
                                 SupportMessage.author == Author.DRIVER.value,
                                 self.db.among(SupportMessage.driver_message_id,
                                               sorted({w.driver_message_id for w in writes}))))}
            rows: list[SupportMessage | None] = []
            for write in writes:
                if (write.account_id, write.driver_message_id) in stored:
                    rows.append(None)
                    continue
                row = SupportMessage(ticket_id=tickets[write.account_id].id, author=Author.DRIVER.value,
                                     kind=write.kind, driver_message_id=write.driver_message_id,
                                     copy=Copy.QUEUED.value, created_at=now, reply_to_id=write.reply_to_id)
                session.add(row)
                stored[write.account_id, write.driver_message_id] = (row, tickets[write.account_id])
                rows.append(row)
            await session.flush()
            copies = [copy_post(row, write.account_id) for write, row in zip(writes, rows, strict=True)
                      if row is not None]
            await self.outbox.add(session, notes + copies, now)
            entries = [Entry(now, account(a), "support.open", f"ticket:{tickets[a].id}", "opened", a,
                             {"previous": tickets[a].previous_id} if tickets[a].previous_id else {}) for a in opened]
            entries += [Entry(now, account(a), "support.reopen", f"ticket:{tickets[a].id}", "open", a) for a in resumed]
            entries += [Entry(now, account(w.account_id), "support.message", f"ticket:{row.ticket_id}", "queued",
                              w.account_id, {"message": row.id, "kind": w.kind})
                        for w, row in zip(writes, rows, strict=True) if row is not None]
            await self.audit.append(session, entries)
            written, told = [], set()
            for write, row in zip(writes, rows, strict=True):
                message, ticket = stored[write.account_id, write.driver_message_id]
                opening = row is not None and write.account_id in opened and write.account_id not in told
                if opening:  # a ticket opened now is said to be by its first message only
                    told.add(write.account_id)
                written.append(Written(message_view(message, ticket_view(ticket)), opened=opening))
            return written

    async def _store_alone(self, write: DriverWrite) -> Written:
        """A write stored in a batch of its own, tried once more if another process opened the
        account's ticket or stored this very message meanwhile: the second try finds what it stored."""
        try:
            return (await self._store_together([write]))[0]
        except IntegrityError:
            return (await self._store_together([write]))[0]

    async def rate(self, account_id: int, ticket_id: int, stars: int) -> TicketView | None:
        """The driver's rating of a closed ticket of theirs, once (a second tap changes nothing);
        None if it is not theirs or not closed."""
        rated = await self.rate_once(account_id, ticket_id, stars)
        return None if rated is None else rated.ticket

    async def rate_once(self, account_id: int, ticket_id: int, stars: int) -> Rated | None:
        """`rate`, saying whether this tap is the one that rated it (so the driver can be told
        that a second tap changed nothing)."""
        if not 1 <= stars <= 5:
            return None
        now = self.clock.now()
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Ticket).where(Ticket.id == ticket_id, Ticket.account_id == account_id,
                                     Ticket.status == TicketStatus.CLOSED.value, Ticket.rating.is_(None))
                .values(rating=stars).execution_options(synchronize_session=False))
            row = await session.scalar(select(Ticket).where(Ticket.id == ticket_id, Ticket.account_id == account_id)
                                       .execution_options(populate_existing=True))
            if row is None or row.status != TicketStatus.CLOSED.value:
                return None
            if result.rowcount:
                await self.outbox.add(session, [await note_after(session, row, Note.RATED)], now)
            await self.audit.append(session, [Entry(now, account(account_id), "support.rate", f"ticket:{ticket_id}",
                                                    "rated" if result.rowcount else "rated_already", account_id,
                                                    {"stars": row.rating})])
            return Rated(ticket_view(row), bool(result.rowcount))

    async def close_own(self, account_id: int, ticket_id: int) -> TicketView | None:
        """The driver closes their own open ticket; None if it is not theirs (a forged button) or
        not open (closed already, by an agent or an earlier tap)."""
        return await self._set_status(ticket_id, account(account_id), TicketStatus.CLOSED, account_id=account_id,
                                      tell=Note.CLOSED_BY_DRIVER)

    # --- the agents' side -----------------------------------------------------------------------

    async def topic_opened(self, ticket_id: int, thread_id: int) -> int | None:
        """The ticket's topic exists now; returns the topic the ticket has (another, if one was
        stored first)."""
        async with self.db.transaction() as session:
            await session.execute(update(Ticket).where(Ticket.id == ticket_id, Ticket.thread_id.is_(None))
                                  .values(thread_id=thread_id).execution_options(synchronize_session=False))
            return await session.scalar(select(Ticket.thread_id).where(Ticket.id == ticket_id))

    async def by_thread(self, thread_id: int) -> TicketView | None:
        async with self.db.reading() as session:
            found = (await session.execute(
                select(Ticket, Account.first_name).join(Account, Account.id == Ticket.account_id)
                .where(Ticket.thread_id == thread_id))).first()
        return None if found is None else ticket_view(found[0], found[1] or "")

    async def agent_wrote(self, thread_id: int, agent_id: int, agent_name: str, topic_message_id: int,
                          kind: str, reply_to_id: int | None = None) -> Written | None:
        """An agent's message in a ticket's topic, stored to be copied to its driver; None if the
        topic is no ticket's. The first answer of a ticket makes its writer the assignee if it had
        none. `reply_to_id`: the topic's message it answers."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            ticket = await session.scalar(self.db.for_update(select(Ticket).where(Ticket.thread_id == thread_id)))
            if ticket is None:
                return None
            stored = await session.scalar(select(SupportMessage).where(SupportMessage.topic_message_id
                                                                       == topic_message_id))
            if stored is not None:  # an update handled again (after a restart): stored once
                return Written(message_view(stored, ticket_view(ticket)))
            first = ticket.answered_at is None
            values = {"answered_at": now} if first else {}
            if ticket.assignee_id is None:
                values.update(assignee_id=agent_id, assignee_name=agent_name[:128])
            if values:
                await session.execute(update(Ticket).where(Ticket.id == ticket.id).values(**values)
                                      .execution_options(synchronize_session=False))
                ticket = await session.get(Ticket, ticket.id, populate_existing=True)
            row = SupportMessage(ticket_id=ticket.id, author=Author.AGENT.value, agent_id=agent_id, kind=kind,
                                 topic_message_id=topic_message_id, copy=Copy.QUEUED.value, created_at=now,
                                 reply_to_id=reply_to_id)
            session.add(row)
            await session.flush()
            posts = [note_in_stream(ticket.id, ticket.account_id, Note.ANSWERING, topic_message_id)] if first else []
            await self.outbox.add(session, [*posts, copy_post(row, ticket.account_id)], now)
            await self.audit.append(session, [Entry(now, agent(agent_id), "support.reply", f"ticket:{ticket.id}",
                                                    "queued", ticket.account_id, {"message": row.id, "kind": kind})])
            return Written(message_view(row, ticket_view(ticket)), first_answer=first)

    async def assign(self, thread_id: int, agent_id: int, agent_name: str) -> TicketView | None:
        """`/assign`: this agent takes the ticket (from whoever had it)."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            ticket = await session.scalar(self.db.for_update(select(Ticket).where(Ticket.thread_id == thread_id)))
            if ticket is None:
                return None
            await session.execute(update(Ticket).where(Ticket.id == ticket.id)
                                  .values(assignee_id=agent_id, assignee_name=agent_name[:128])
                                  .execution_options(synchronize_session=False))
            await self.audit.append(session, [Entry(now, agent(agent_id), "support.assign", f"ticket:{ticket.id}",
                                                    "assigned", ticket.account_id,
                                                    {"was": ticket.assignee_id})])
            return ticket_view(await session.get(Ticket, ticket.id, populate_existing=True))

    async def close(self, ticket_id: int, by: str) -> TicketView | None:
        """An agent (`by`: "agent:…") closes the ticket, and its driver is asked to rate the answer;
        None if it was closed already."""
        return await self._set_status(ticket_id, by, TicketStatus.CLOSED, tell=Note.CLOSED)

    async def reopen(self, ticket_id: int, by: str) -> TicketView | None:
        """Open the ticket again, unless its account has opened another meanwhile (None then, or if
        it was open)."""
        try:
            return await self._set_status(ticket_id, by, TicketStatus.OPEN, tell=Note.REOPENED)
        except IntegrityError:
            return None

    async def _set_status(self, ticket_id: int, by: str, status: TicketStatus, account_id: int | None = None,
                          tell: Note | None = None) -> TicketView | None:
        now = self.clock.now()
        other = TicketStatus.OPEN if status is TicketStatus.CLOSED else TicketStatus.CLOSED
        whose = () if account_id is None else (Ticket.account_id == account_id,)
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Ticket).where(Ticket.id == ticket_id, Ticket.status == other.value, *whose)
                .values(status=status.value, closed_at=now if status is TicketStatus.CLOSED else None,
                        rating=None if status is TicketStatus.OPEN else Ticket.rating)
                .execution_options(synchronize_session=False))
            if not result.rowcount:
                return None
            row = await session.get(Ticket, ticket_id, populate_existing=True)
            told = [await note_after(session, row, tell)] if tell is not None else []  # after what it was told before
            await self.outbox.add(session, [*told, topic_post(row)], now)
            action = "support.close" if status is TicketStatus.CLOSED else "support.reopen"
            await self.audit.append(session, [Entry(now, by, action, f"ticket:{ticket_id}", status.value,
                                                    row.account_id)])
            return ticket_view(row)

    async def open_tickets(self, limit: int = 50) -> list[TicketView]:
        """`/tickets`: the open tickets, oldest first, with their drivers' names."""
        async with self.db.reading() as session:
            rows = (await session.execute(
                select(Ticket, Account.first_name).join(Account, Account.id == Ticket.account_id)
                .where(Ticket.status == TicketStatus.OPEN.value).order_by(Ticket.opened_at, Ticket.id).limit(limit)
            )).all()
        return [ticket_view(row, name or "") for row, name in rows]

    # --- copies -----------------------------------------------------------------------------------

    async def copied(self, message_id: int, copy_id: int) -> str | None:
        """The message's copy on the other side is `copy_id`; returns the message's edit, if its
        writer edited it meanwhile (the copy, made from what it said before, must say it too)."""
        return await self._copied(message_id, Copy.SENT, copy_id)

    async def not_copied(self, message_id: int) -> None:
        await self._copied(message_id, Copy.FAILED, None)

    async def _copied(self, message_id: int, copy: Copy, copy_id: int | None) -> str | None:
        async with self.db.transaction() as session:
            author = await session.scalar(select(SupportMessage.author).where(SupportMessage.id == message_id))
            if author is None:
                return None
            values: dict = {"copy": copy.value, "copied_at": self.clock.now()}
            if copy_id is not None:
                column = "topic_message_id" if author == Author.DRIVER.value else "driver_message_id"
                values[column] = copy_id
            await session.execute(update(SupportMessage).where(SupportMessage.id == message_id).values(**values)
                                  .execution_options(synchronize_session=False))
        # A second read, after the commit: an edit stored meanwhile is seen here, or its handler
        # sees this copy (one of the two mirrors it, at worst both).
        async with self.db.reading() as session:
            return await session.scalar(select(SupportMessage.edited_text).where(SupportMessage.id == message_id))

    async def edited(self, author: Author, message_id: int, html: str, *, account_id: int | None = None,
                     thread_id: int | None = None) -> MessageView | None:
        """Its writer edited a message for the other side: a driver's in their chat (`account_id`),
        an agent's in a topic (`thread_id`). Its copy is edited to say the same (through the outbox,
        after the copy itself). Returns it as it is after the edit is stored."""
        mine = SupportMessage.driver_message_id if author is Author.DRIVER else SupportMessage.topic_message_id
        whose = Ticket.account_id == account_id if author is Author.DRIVER else Ticket.thread_id == thread_id
        async with self.db.transaction() as session:
            found = (await session.execute(
                select(SupportMessage.id).join(Ticket, Ticket.id == SupportMessage.ticket_id)
                .where(whose, SupportMessage.author == author.value, mine == message_id)
                .order_by(SupportMessage.id.desc()).limit(1))).scalar()
            if found is None:
                return None
            await session.execute(update(SupportMessage).where(SupportMessage.id == found).values(edited_text=html)
                                  .execution_options(synchronize_session=False))
            row, ticket = (await session.execute(
                select(SupportMessage, Ticket).join(Ticket, Ticket.id == SupportMessage.ticket_id)
                .where(SupportMessage.id == found))).one()
            # After its copy in the stream: the copy made first, then made to say this.
            copy = copy_post(row, ticket.account_id)
            await self.outbox.add(session, [Post(Kind.SUPPORT_EDIT, copy.chat_id, copy.stream, copy.account_id,
                                                 copy.payload, copy.seq)])
        async with self.db.reading() as session:
            row, ticket = (await session.execute(
                select(SupportMessage, Ticket).join(Ticket, Ticket.id == SupportMessage.ticket_id)
                .where(SupportMessage.id == found))).one()
            return message_view(row, ticket_view(ticket))

    async def card_posted(self, ticket_id: int, message_id: int) -> None:
        """The ticket's context card is in its topic: a delivery tried again does not post another."""
        async with self.db.transaction() as session:
            await session.execute(update(Ticket).where(Ticket.id == ticket_id).values(card_message_id=message_id)
                                  .execution_options(synchronize_session=False))

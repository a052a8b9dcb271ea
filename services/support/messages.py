"""Reading support's stored messages: one by its id or by its message on either side, what its copy
answers, its latest edit, and a ticket's counts."""

from __future__ import annotations

from sqlalchemy import func, select

from services.storage.database import Database
from services.storage.models import Account
from services.support.tables import Author, Copy, SupportMessage, Ticket
from services.support.views import MessageView, message_view, ticket_view


class MessageReads:
    """The reads of `SupportService` about stored messages, apart from the ticket changes."""

    db: Database

    async def queued(self, limit: int = 200) -> list[MessageView]:
        """Messages still to be copied, in the order they were written: after a restart, those a
        stopped process had not copied."""
        async with self.db.reading() as session:
            rows = (await session.execute(
                select(SupportMessage, Ticket).join(Ticket, Ticket.id == SupportMessage.ticket_id)
                .where(SupportMessage.copy == Copy.QUEUED.value).order_by(SupportMessage.id).limit(limit))).all()
        return [message_view(message, ticket_view(ticket)) for message, ticket in rows]

    async def by_topic_message(self, topic_message_id: int) -> MessageView | None:
        """The message whose side in the topic is this one (an agent's, or a driver's copy)."""
        async with self.db.reading() as session:
            found = (await session.execute(
                select(SupportMessage, Ticket).join(Ticket, Ticket.id == SupportMessage.ticket_id)
                .where(SupportMessage.topic_message_id == topic_message_id))).first()
        return None if found is None else message_view(found[0], ticket_view(found[1]))

    async def by_driver_message(self, account_id: int, driver_message_id: int, *,
                                author: Author | None = None) -> MessageView | None:
        """The message whose side in this account's chat is this one (theirs, or an agent's copy);
        with `author`, only one of theirs."""
        query = (select(SupportMessage, Ticket).join(Ticket, Ticket.id == SupportMessage.ticket_id)
                 .where(Ticket.account_id == account_id, SupportMessage.driver_message_id == driver_message_id)
                 .order_by(SupportMessage.id.desc()).limit(1))
        if author is not None:
            query = query.where(SupportMessage.author == author.value)
        async with self.db.reading() as session:
            found = (await session.execute(query)).first()
        return None if found is None else message_view(found[0], ticket_view(found[1]))

    async def message(self, message_id: int) -> MessageView | None:
        """A stored message, with its ticket (and the driver's first name, for its topic)."""
        async with self.db.reading() as session:
            found = (await session.execute(
                select(SupportMessage, Ticket, Account.first_name).join(Ticket, Ticket.id == SupportMessage.ticket_id)
                .join(Account, Account.id == Ticket.account_id).where(SupportMessage.id == message_id))).first()
        return None if found is None else message_view(found[0], ticket_view(found[1], found[2] or ""))

    async def reply_target(self, message_id: int) -> int | None:
        """The other side's message that the copy of this one answers: the side of the same ticket's
        message that it answers on its own side. Only within the ticket: a reply never leads elsewhere."""
        async with self.db.reading() as session:
            message = await session.get(SupportMessage, message_id)
            if message is None or message.reply_to_id is None:
                return None
            if message.author == Author.DRIVER.value:
                mine, theirs = SupportMessage.driver_message_id, SupportMessage.topic_message_id
            else:
                mine, theirs = SupportMessage.topic_message_id, SupportMessage.driver_message_id
            return await session.scalar(
                select(theirs).where(SupportMessage.ticket_id == message.ticket_id, mine == message.reply_to_id,
                                     theirs.is_not(None)).order_by(SupportMessage.id.desc()).limit(1))

    async def edited_text(self, message_id: int) -> str | None:
        async with self.db.reading() as session:
            return await session.scalar(select(SupportMessage.edited_text).where(SupportMessage.id == message_id))

    async def counts(self, ticket_id: int) -> dict[str, int]:
        """A ticket's messages by author (for the context card and tests)."""
        async with self.db.reading() as session:
            return dict((await session.execute(
                select(SupportMessage.author, func.count()).where(SupportMessage.ticket_id == ticket_id)
                .group_by(SupportMessage.author))).all())

"""What support queues in the outbox (`services.outbox`): a message's copy to the other side, its
edit, and the bot's own notes on a ticket, each in the stream of its side in its place."""

from __future__ import annotations

from sqlalchemy import func, select

from services.outbox.kinds import Kind
from services.outbox.outbox import Post, chat_stream, ticket_stream
from services.support.tables import DRIVER_NOTES, Author, Note, SupportMessage, Ticket


def copy_post(row: SupportMessage, account_id: int) -> Post:
    """A message to copy to the other side: in its ticket's stream of its side, in the order its side
    numbers its messages (Telegram's ids there), not in the order its handler stored it."""
    if row.author == Author.DRIVER.value:
        return Post(Kind.TO_AGENTS, None, ticket_stream(row.ticket_id, Author.DRIVER), account_id,
                    {"message": row.id}, row.driver_message_id or 0)
    return Post(Kind.TO_DRIVER, account_id, ticket_stream(row.ticket_id, Author.AGENT), account_id,
                {"message": row.id}, row.topic_message_id or 0)


def note_in_stream(ticket_id: int, account_id: int, note: Note, seq: int, **more) -> Post:
    """A note to the driver goes in the stream of the agents' side (after the replies before it),
    one into the topic in the stream of the driver's side."""
    if note in DRIVER_NOTES:
        return Post(Kind.SUPPORT_NOTE, account_id, ticket_stream(ticket_id, Author.AGENT), account_id,
                    {"note": note.value, "ticket": ticket_id, **more}, seq)
    return Post(Kind.SUPPORT_NOTE, None, ticket_stream(ticket_id, Author.DRIVER), account_id,
                {"note": note.value, "ticket": ticket_id, **more}, seq)


def note_post(ticket_id: int, account_id: int, note: Note, *, reply_to: int | None = None) -> Post:
    """A note that follows a delivery (a renderer's follow-up): to the driver in their chat's
    stream, into the topic in a stream of the ticket's notes, each answering `reply_to`."""
    payload = {"note": note.value, "ticket": ticket_id, "reply_to": reply_to}
    if note in DRIVER_NOTES:
        return Post(Kind.SUPPORT_NOTE, account_id, chat_stream(account_id), account_id, payload)
    return Post(Kind.SUPPORT_NOTE, None, ticket_stream(ticket_id, "notes"), account_id, payload)


def topic_post(ticket: Ticket) -> Post:
    """The ticket's topic made to show whether the ticket is open (closed and marked, or reopened),
    as the ticket is when the row is sent: a close and a reopen in a row end where the ticket is."""
    return Post(Kind.SUPPORT_TOPIC, None, ticket_stream(ticket.id, "topic"), ticket.account_id,
                {"ticket": ticket.id})


async def note_after(session, ticket: Ticket, note: Note) -> Post:
    """A note of the ticket, after every message of its side stored so far."""
    to_driver = note in DRIVER_NOTES
    side = SupportMessage.topic_message_id if to_driver else SupportMessage.driver_message_id
    author = Author.AGENT if to_driver else Author.DRIVER
    last = await session.scalar(select(func.max(side)).where(SupportMessage.ticket_id == ticket.id,
                                                             SupportMessage.author == author.value))
    return note_in_stream(ticket.id, ticket.account_id, note, last or 0)

"""The tables of support (migrations 0008, 0009, 0011, 0012): tickets, and the messages that go between a
driver's private chat and the ticket's topic in the agents' group, with whether each was copied (its
copy is a row of the outbox, `services.outbox`); and the bot's own notes on a ticket."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.models import Base, UTCDateTime


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Author(StrEnum):
    DRIVER = "driver"
    AGENT = "agent"


class Note(StrEnum):
    """The bot's own lines on a ticket (`Kind.SUPPORT_NOTE`), rendered in their reader's language."""

    # to the driver
    ANSWERING = "answering"  # an agent's first answer is on its way
    DELIVERED = "delivered"  # under their message, once it is in the topic
    KEPT = "kept"  # under their message, when the agents' group refused it: it is kept and tried again
    CLOSED = "closed"  # an agent closed the ticket: rate the answer
    REOPENED = "reopened"
    RESUMED = "resumed"  # their message after the close opened the ticket again
    FOLLOWS = "follows"  # their message long after the close opened a new ticket, after the old one
    # into the topic
    CLOSED_BY_DRIVER = "closed_by_driver"
    RESUMED_BY_DRIVER = "resumed_by_driver"  # the driver wrote after the close: the ticket is open again
    RATED = "rated"
    NOT_DELIVERED = "not_delivered"  # under an agent's reply the driver cannot receive


DRIVER_NOTES = frozenset({Note.ANSWERING, Note.DELIVERED, Note.KEPT, Note.CLOSED, Note.REOPENED, Note.RESUMED,
                          Note.FOLLOWS})


class Copy(StrEnum):
    """Where a message is in being copied to the other side."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # the other side refused it (the driver blocked the bot, say): flagged in the topic


class Ticket(Base):
    __tablename__ = "support_tickets"
    __table_args__ = (
        # One open ticket per account, whatever number of processes open one at the same moment.
        Index("ux_support_tickets_open", "account_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        Index("ux_support_tickets_thread", "thread_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the ticket's number, as agents see it
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(8))
    thread_id: Mapped[int | None] = mapped_column(BigInteger)  # its topic in the agents' group
    # The context card, first in its topic, once posted (0: Telegram refused it, the copies went on).
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    assignee_name: Mapped[str | None] = mapped_column(String(128))
    rating: Mapped[int | None] = mapped_column(Integer)  # 1-5, the driver's, after closing
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an agent's first reply
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The driver's ticket before this one, when their message after its close opened this one.
    previous_id: Mapped[int | None] = mapped_column(Integer)


class SupportMessage(Base):
    __tablename__ = "support_messages"
    __table_args__ = (
        # A driver's message once per ticket, however often its update is handled.
        Index("ux_support_messages_driver", "ticket_id", "author", "driver_message_id", unique=True),
        Index("ux_support_messages_topic", "topic_message_id", unique=True),
        Index("ix_support_messages_queued", "copy", "id"),
        Index("ix_support_messages_ticket_copy", "ticket_id", "copy", "id"),  # a ticket's next to copy
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the order they are copied in, per ticket
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_tickets.id"))
    author: Mapped[str] = mapped_column(String(8))
    agent_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(12))  # text, photo, document, voice, ...
    driver_message_id: Mapped[int | None] = mapped_column(BigInteger)  # in the driver's private chat
    topic_message_id: Mapped[int | None] = mapped_column(BigInteger)  # in the ticket's topic
    copy: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    copied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The message it answers, as its author's side numbers it (a Telegram reply): the copy answers
    # that message's copy on the other side.
    reply_to_id: Mapped[int | None] = mapped_column(BigInteger)
    # Its writer's latest edit (HTML): what its copy must say, even when the edit came while the
    # copy was being made.
    edited_text: Mapped[str | None] = mapped_column(Text)

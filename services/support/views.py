"""Tickets and their messages as plain values, the way handlers and the support sender see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.support.tables import Author, Copy, SupportMessage, Ticket, TicketStatus


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    account_id: int
    status: TicketStatus
    thread_id: int | None
    assignee_id: int | None
    assignee_name: str | None
    rating: int | None
    opened_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    first_name: str = field(default="", repr=False)  # kept out of the log lines that name a ticket
    card_message_id: int | None = None  # the context card in its topic, once posted (0: Telegram refused it)
    previous_id: int | None = None  # the driver's ticket before, when a message after its close opened this one

    @property
    def open(self) -> bool:
        return self.status is TicketStatus.OPEN


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    ticket: TicketView
    author: Author
    kind: str
    driver_message_id: int | None
    topic_message_id: int | None
    copy: Copy
    agent_id: int | None


@dataclass(frozen=True, slots=True)
class Rated:
    """A rating tap's result: the ticket, and whether this tap set its rating (False: it had one)."""

    ticket: TicketView
    first: bool


@dataclass(frozen=True, slots=True)
class DriverWrite:
    account_id: int
    driver_message_id: int
    kind: str
    reply_to_id: int | None


@dataclass(frozen=True, slots=True)
class Written:
    """A message stored: to be copied to the other side (`message`), and whether it opened the
    ticket or was its first answer (the driver is told "an agent is answering")."""

    message: MessageView
    opened: bool = False
    first_answer: bool = False


def ticket_view(row: Ticket, first_name: str = "") -> TicketView:
    return TicketView(row.id, row.account_id, TicketStatus(row.status), row.thread_id, row.assignee_id,
                      row.assignee_name, row.rating, row.opened_at, row.answered_at, row.closed_at, first_name,
                      row.card_message_id, row.previous_id)


def message_view(row: SupportMessage, ticket: TicketView) -> MessageView:
    return MessageView(row.id, ticket, Author(row.author), row.kind, row.driver_message_id, row.topic_message_id,
                       Copy(row.copy), row.agent_id)

"""The outbox table (migration 0011): everything the bot says on its own, one row per message to
send, written in the transaction of the change that makes it due.

A row is a promise that a chat will be told something: a notice of the border system's event, a
copy of a support message, a hold's warning or end, a reminder, an operator's ban. It names what to
say (its kind and a few ids in `payload`), not the text: the text is rendered when it is sent, in
its reader's language and from the state of that moment (a warning for a hold confirmed meanwhile
is not sent at all). Rows of one stream (a chat, or one side of a support ticket) go out one at a
time and in order: by `seq`, then by id.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.models import Base, UTCDateTime


class PostStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"  # the chat cannot be reached (it blocked the bot): SMS instead
    FAILED = "failed"  # refused for what it says, or given up after its retries: no retry would help
    SETTLED = "settled"  # nothing (more) to send: done before, gone, or no longer true


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # What the claim reads: the due rows, and the stream of each (is an earlier one waiting?).
        Index("ix_outbox_due", "status", "next_attempt_at", "id"),
        Index("ix_outbox_stream", "stream", "status", "seq", "id"),
        Index("ix_outbox_chat", "chat_id", "status"),
        Index("ix_outbox_event", "event_id"),
        # A border system's event is told to a chat once, however often it is posted.
        UniqueConstraint("event_id", "chat_id", name="uq_outbox_event_chat"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    stream: Mapped[str] = mapped_column(String(64))  # "chat:<id>", or "ticket:<id>:<side>"
    seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # the order within the stream
    # Where it goes; None: the agents' group of the settings (support's rows are stored without it).
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(BigInteger)  # the driver it is about (their language)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))  # a notice's event
    payload: Mapped[str] = mapped_column(Text, default="{}", server_default=text("'{}'"))  # JSON: what to say
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a sender is on it until then
    # The message that tells its reader (Telegram's id), written as soon as it is sent: a row tried
    # again after a failure later in its delivery does not send it twice.
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

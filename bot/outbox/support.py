"""Render support's rows: a driver's message copied into their ticket's topic (the topic opened first,
with the driver's context card), an agent's reply copied to the driver, a copy edited after its
message, and the bot's own notes on a ticket.

What is made in Telegram is written down before the next step: the topic before its card, the card
before the copy, the copy before its row is settled. A row tried again after a fault (a 502 while
the card was sent, say) goes on from the step it reached and opens no second topic. Copies are made
with copyMessage, a counted call: they spend the outgoing budget like every other send, so the copies
into the agents' group queue behind Telegram's 20 messages a minute per group instead of meeting 429.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ReplyParameters
from aiogram.utils.i18n import I18n

from bot.outbox.answers import CONTENT, DATABASE_AWAY
from handlers.common.screen import Screen
from handlers.support import canned, screens
from services.container import Services
from services.limits.outgoing import ACTION, SILENT, sending_at
from services.outbox.kinds import Kind
from services.outbox.outbox import (
    Due,
    Failed,
    Post,
    Retry,
    Sent,
    Settled,
    Undeliverable,
    Verdict,
)
from services.storage.unavailable import patiently
from services.support.posts import note_post
from services.support.tables import Author, Copy, Note
from services.support.views import MessageView, TicketView

log = logging.getLogger(__name__)
CANNED = "faq:"  # the kind of a canned answer's message: "faq:NAME"
R = TypeVar("R")


class _Support:
    kinds: tuple[str, ...] = ()

    def __init__(self, bot: Bot, services: Services, i18n: I18n, group_id: int | None,
                 record_patience: float = 60.0) -> None:
        self.bot = bot
        self.services = services
        self.support = services.support
        self.i18n = i18n
        self.group_id = group_id
        self.record_patience = record_patience

    def mendable(self, row: Due) -> bool:
        return row.chat_id is None  # the agents' group: an operator mends its setup

    async def load(self, rows: list[Due]) -> None:
        return None

    async def follow_ups(self, row: Due, verdict: Verdict) -> list[Post]:
        return []

    async def recorded(self, record: Callable[[], Awaitable[R]]) -> R:
        """The record of what Telegram has just made: given up, the row would be claimed again when
        its lease runs out and the message made a second time."""
        return await patiently(record, self.record_patience, "a copy's record")

    async def queued(self, row: Due) -> MessageView | None:
        """The row's message, while it is still to be copied."""
        message = await self.support.message(int(row.payload["message"]))
        return message if message is not None and message.copy is Copy.QUEUED else None

    def in_language(self, language: str, render: Callable[[], Screen]) -> Screen:
        with self.i18n.use_locale(language):
            return render()


class ToAgentsRenderer(_Support):
    """A driver's message, copied into their ticket's topic."""

    kinds = (Kind.TO_AGENTS,)

    async def deliver(self, row: Due) -> Verdict:
        message = await self.queued(row)
        if message is None:
            return Settled("copied already, or no such message")
        ticket = message.ticket
        thread_id = ticket.thread_id if ticket.thread_id is not None else await self._open_topic(row, ticket)
        if ticket.card_message_id is None:
            await self._post_card(row, ticket, thread_id)
        with sending_at(ACTION):
            copy = await self.bot.copy_message(self.group_id, from_chat_id=ticket.account_id,
                                               message_id=message.driver_message_id, message_thread_id=thread_id,
                                               reply_parameters=await self._answering(message))
        await self.recorded(lambda: self.support.copied(message.id, copy.message_id))
        return Sent(copy.message_id)

    async def _answering(self, message: MessageView) -> ReplyParameters | None:
        target = await self.support.reply_target(message.id)
        return None if target is None else ReplyParameters(message_id=target, allow_sending_without_reply=True)

    async def _open_topic(self, row: Due, ticket: TicketView) -> int:
        """The ticket's topic, written down as soon as Telegram made it."""
        trucks = await self.services.trucks.list(ticket.account_id)
        name = screens.topic_name(ticket, ticket.first_name, row.language, trucks)
        created = await self.bot.create_forum_topic(self.group_id, name)
        return await self.recorded(lambda: self.support.topic_opened(ticket.id, created.message_thread_id)) \
            or created.message_thread_id

    async def _post_card(self, row: Due, ticket: TicketView, thread_id: int) -> None:
        """The driver's context card, first in the topic, read from the database as it is now."""
        account_id, now = ticket.account_id, self.services.clock.now()
        trucks = await self.services.trucks.list(account_id)
        upcoming = await self.services.booking.upcoming(account_id)
        rating = await self.services.fairness.rating(account_id, now)
        phone = await self.services.follows.phone_of(account_id)
        last_notice = await self.services.events.last_of(account_id)
        shown_in = self.i18n.default_locale  # the agents'
        card = self.in_language(shown_in, lambda: screens.context_card(
            ticket, account_id, ticket.first_name, row.language, trucks, upcoming, self.services.checkpoints, rating,
            now, shown_in, phone, last_notice))
        try:
            with sending_at(ACTION):
                sent = await self.bot.send_message(self.group_id, message_thread_id=thread_id, **card.as_kwargs())
        except TelegramBadRequest as refused:
            if not any(reason in refused.message for reason in CONTENT):
                raise  # the group's setup: tried again with the row
            # What the card says was refused: the driver's words must reach the agents all the same.
            log.warning("support: the context card of ticket %s was refused: %s", ticket.id, refused.message)
            await self.recorded(lambda: self.support.card_posted(ticket.id, 0))
            return
        await self.recorded(lambda: self.support.card_posted(ticket.id, sent.message_id))

    async def follow_ups(self, row: Due, verdict: Verdict) -> list[Post]:
        message = await self.support.message(int(row.payload["message"]))
        if message is None:
            return []
        ticket = message.ticket
        if isinstance(verdict, Sent):  # "Delivered", under their message
            return [note_post(ticket.id, ticket.account_id, Note.DELIVERED, reply_to=message.driver_message_id)]
        if (isinstance(verdict, Retry) and row.attempts == 0 and not verdict.error.startswith("429")
                and verdict.error != DATABASE_AWAY):
            # The group refused it or failed: kept and tried again until it takes it; said once (a
            # busy database of ours spends no attempt and is no news for the driver).
            log.warning("support: message %s of account %s stays queued: %s", message.id, ticket.account_id,
                        verdict.error)
            return [note_post(ticket.id, ticket.account_id, Note.KEPT, reply_to=message.driver_message_id)]
        if isinstance(verdict, Settled) and verdict.reason.startswith("gone"):  # deleted before it was copied
            await self.support.not_copied(message.id)
        return []


class ToDriverRenderer(_Support):
    """An agent's reply (or a canned answer, rendered in the driver's language), copied to the driver."""

    kinds = (Kind.TO_DRIVER,)

    async def deliver(self, row: Due) -> Verdict:
        message = await self.queued(row)
        if message is None:
            return Settled("copied already, or no such message")
        with sending_at(ACTION):
            if message.kind.startswith(CANNED):
                found = canned.find(message.kind.removeprefix(CANNED))
                if found is None:  # a name no longer offered (the catalogs changed since)
                    await self.support.not_copied(message.id)
                    return Settled("no such canned answer")
                language = row.language or self.i18n.default_locale
                with self.i18n.use_locale(language):
                    text = found.text(self.services.rules, language)
                sent = await self.bot.send_message(row.chat_id, text=text)
            else:
                target = await self.support.reply_target(message.id)
                answers = (ReplyParameters(message_id=target, allow_sending_without_reply=True)
                           if target is not None else None)
                sent = await self.bot.copy_message(row.chat_id, from_chat_id=self.group_id,
                                                   message_id=message.topic_message_id, reply_parameters=answers)
        await self.recorded(lambda: self.support.copied(message.id, sent.message_id))
        return Sent(sent.message_id)

    async def follow_ups(self, row: Due, verdict: Verdict) -> list[Post]:
        if not isinstance(verdict, (Undeliverable, Failed)):
            return []
        message = await self.support.message(int(row.payload["message"]))
        if message is None:
            return []
        log.info("support: reply %s not delivered to account %s: %s", message.id, row.chat_id, verdict.error)
        await self.support.not_copied(message.id)
        return [note_post(message.ticket.id, row.chat_id, Note.NOT_DELIVERED, reply_to=message.topic_message_id)]


class EditRenderer(_Support):
    """A copy made to say what its message says after its writer edited it (a text, or a caption)."""

    kinds = (Kind.SUPPORT_EDIT,)

    def mendable(self, row: Due) -> bool:
        return False

    async def deliver(self, row: Due) -> Verdict:
        message = await self.support.message(int(row.payload["message"]))
        if message is None or message.copy is not Copy.SENT:
            return Settled("not copied")
        html = await self.support.edited_text(message.id)
        if html is None:
            return Settled("not edited")
        if message.author is Author.DRIVER:
            chat_id, copy_id = self.group_id, message.topic_message_id
        else:
            chat_id, copy_id = message.ticket.account_id, message.driver_message_id
        with sending_at(SILENT):
            if message.kind == "text":
                await self.bot.edit_message_text(chat_id=chat_id, message_id=copy_id, text=html, parse_mode="HTML")
            else:
                await self.bot.edit_message_caption(chat_id=chat_id, message_id=copy_id, caption=html,
                                                    parse_mode="HTML")
        return Sent(None)


DRIVER_SCREENS = {
    Note.ANSWERING: lambda ticket, language: screens.agent_answering(),
    Note.DELIVERED: lambda ticket, language: screens.delivered(ticket.id),
    Note.KEPT: lambda ticket, language: screens.not_reached(),
    Note.CLOSED: screens.closed_rate_it,
    Note.REOPENED: screens.reopened_for_driver,
    Note.RESUMED: screens.resumed_for_driver,
    Note.FOLLOWS: screens.follows_for_driver,
}
TOPIC_SCREENS = {
    Note.CLOSED_BY_DRIVER: screens.closed_by_driver,
    Note.RESUMED_BY_DRIVER: screens.resumed_by_driver,
    Note.RATED: screens.rated_in_topic,
    Note.NOT_DELIVERED: lambda ticket, language: screens.not_delivered(),
}


class NoteRenderer(_Support):
    """The bot's own line on a ticket: to its driver, in their language; into its topic, in the
    agents' (the bot's default)."""

    kinds = (Kind.SUPPORT_NOTE,)

    async def deliver(self, row: Due) -> Verdict:
        note = Note(row.payload["note"])
        ticket = await self.support.ticket(int(row.payload["ticket"]))
        if ticket is None:
            return Settled("no such ticket")
        reply_to = row.payload.get("reply_to")
        answers = ReplyParameters(message_id=int(reply_to), allow_sending_without_reply=True) if reply_to else None
        if note in DRIVER_SCREENS:
            language = row.language or self.i18n.default_locale
            screen = self.in_language(language, lambda: DRIVER_SCREENS[note](ticket, language))
            chat_id, thread_id = row.chat_id, None
        else:
            if ticket.thread_id is None:
                return Settled("the ticket has no topic")
            language = self.i18n.default_locale
            screen = self.in_language(language, lambda: TOPIC_SCREENS[note](ticket, language))
            chat_id, thread_id = self.group_id, ticket.thread_id
        with sending_at(ACTION):
            sent = await self.bot.send_message(chat_id, message_thread_id=thread_id, reply_parameters=answers,
                                               **screen.as_kwargs())
        return Sent(sent.message_id)

    async def follow_ups(self, row: Due, verdict: Verdict) -> list[Post]:
        """A closing or reopening the driver cannot receive is flagged in the topic."""
        note = Note(row.payload["note"])
        if isinstance(verdict, (Undeliverable, Failed)) and note in (Note.CLOSED, Note.REOPENED, Note.RESUMED,
                                                                     Note.FOLLOWS):
            return [note_post(int(row.payload["ticket"]), row.chat_id, Note.NOT_DELIVERED)]
        return []


class TopicRenderer(_Support):
    """A ticket's topic as its ticket is now: closed in Telegram and its name marked ✅ when the
    ticket is closed, reopened and unmarked when it is open (agents see at a glance which topics
    wait for them). Each step Telegram finds done already ("not modified") is done."""

    kinds = (Kind.SUPPORT_TOPIC,)

    async def deliver(self, row: Due) -> Verdict:
        ticket = await self.support.ticket(int(row.payload["ticket"]))
        if ticket is None or ticket.thread_id is None:
            return Settled("the ticket has no topic")
        trucks = await self.services.trucks.list(ticket.account_id)
        name = screens.topic_name(ticket, ticket.first_name, row.language, trucks)
        chat, thread = self.group_id, ticket.thread_id
        rename = lambda: self.bot.edit_forum_topic(chat, thread, name=name)  # noqa: E731
        if ticket.open:  # reopened, then renamed; renamed, then closed
            steps = [lambda: self.bot.reopen_forum_topic(chat, thread), rename]
        else:
            steps = [rename, lambda: self.bot.close_forum_topic(chat, thread)]
        for step in steps:
            try:
                with sending_at(ACTION):
                    await step()
            except TelegramBadRequest as refused:
                if "NOT_MODIFIED" not in refused.message.upper():
                    raise
        return Sent(None)


def support_renderers(bot: Bot, services: Services, i18n: I18n, group_id: int | None,
                      record_patience: float = 60.0) -> list[_Support]:
    return [cls(bot, services, i18n, group_id, record_patience)
            for cls in (ToAgentsRenderer, ToDriverRenderer, EditRenderer, NoteRenderer, TopicRenderer)]

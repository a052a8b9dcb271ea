"""The relay between a driver's private chat and their ticket's topic in the agents' supergroup.

Each message is stored (`services.support`) when it arrives and copied by the support sender
(`SupportSender`), which claims it (`services.support_outbox`): so a message Telegram refused, or
that a stopped process did not copy, is copied later, once, and each ticket's messages in the order
they were written. Copies are made with copyMessage, a counted call: it spends the shared outgoing
budget like every other send, so the copies into the agents' group queue behind Telegram's 20
messages a minute per group instead of meeting 429. A message goes only where its ticket says: into
the ticket's own topic, or to the ticket's own account, never by what anyone typed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import (
    TelegramAPIError, TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Message, ReplyParameters
from aiogram.utils.i18n import I18n

from bot.loop import Claiming, whole
from bot.middlewares import ChatsInFlight
from handlers.common.screen import Screen
from handlers.support import canned, screens
from services.container import Services
from services.limits.outgoing import ACTION, SILENT, sending_at
from services.storage.unavailable import DatabaseUnavailable
from services.support.outbox import DueCopy, SupportOutbox
from services.support.tables import Author
from services.support.views import TicketView

log = logging.getLogger(__name__)
AGENT_STATUSES = (ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)
GONE = "message to copy not found"  # its writer deleted it before it was copied: nothing to copy
CANNED = "faq:"  # the kind of a canned answer's message: "faq:NAME"
MESSAGES_PER_NEW_TICKET = 3  # a topic, its context card, the first copy: what one claim may cost the group
RECORD_FIRST_WAIT = 0.2  # seconds before a record the database had no turn for is tried again (doubling)
STORE_PATIENCE_SECONDS = 20.0  # how long a driver's message for the agents waits for a busy database
R = TypeVar("R")


async def patiently(write: Callable[[], Awaitable[R]], seconds: float, what: str) -> R:
    """A write tried again while the database has no turn for it (SQLite's one writer, or a pool,
    busy with a burst of drivers), for up to `seconds`: for what must not be lost or done twice,
    a wait is better than the usual "try again" a busy database answers."""
    deadline = time.monotonic() + seconds
    wait = RECORD_FIRST_WAIT
    while True:
        try:
            return await write()
        except DatabaseUnavailable:
            if time.monotonic() + wait > deadline:
                raise
            log.info("support: the database had no turn for %s; trying again in %.1fs", what, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, 5.0)


def reply_to(message: Message) -> int | None:
    """The message this one answers, if it is a reply: in a topic, Telegram makes every message
    that answers nothing else a reply to the topic's first message, which is no answer."""
    replied = message.reply_to_message
    if replied is None or (message.is_topic_message and replied.message_id == message.message_thread_id):
        return None
    return replied.message_id


class SupportRelay:
    """What the handlers ask of support: store what was written and wake the sender; mirror edits."""

    def __init__(self, services: Services, i18n: I18n, group_id: int | None,
                 in_flight: ChatsInFlight | None = None) -> None:
        self.services = services
        self.support = services.support
        self.i18n = i18n
        self.group_id = group_id
        self.in_flight = in_flight or ChatsInFlight()
        self.sender: SupportSender | None = None  # set when the app builds it

    @property
    def available(self) -> bool:
        return self.group_id is not None

    def _wake(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    async def canned_answer(self, message: Message, name: str) -> TicketView | None:
        """`/faq NAME` in a ticket's topic: stored as the agent's reply (kind "faq:NAME", the command
        its message in the topic), which the sender renders in the driver's language and sends;
        None if the topic is no ticket's."""
        agent = message.from_user
        written = await self.support.agent_wrote(message.message_thread_id, agent.id, agent.full_name,
                                                 message.message_id, f"{CANNED}{name}")
        if written is None:
            return None
        self._wake()
        return written.message.ticket

    async def from_driver(self, message: Message) -> None:
        """Store the driver's message for their ticket's topic; the sender copies it and tells them."""
        # Waited for, not refused, while a burst keeps the database busy: the driver's words matter.
        await patiently(lambda: self.support.driver_wrote(message.from_user.id, message.message_id,
                                                          message.content_type, reply_to(message)),
                        STORE_PATIENCE_SECONDS, "a driver's message")
        self.in_flight.when_free(message.chat.id, self._wake)  # the sender skips the chat until then

    async def is_agent(self, bot: Bot, message: Message) -> bool:
        """A person the bot sees as a member of the agents' group now (not a bot, not the group
        posting as itself)."""
        user = message.from_user
        if user is None or user.is_bot or message.sender_chat is not None:
            return False
        try:
            member = await bot.get_chat_member(self.group_id, user.id)
        except TelegramAPIError as exc:
            log.warning("support: getChatMember for %s failed: %r", user.id, exc)
            return False
        return member.status in AGENT_STATUSES

    async def from_agent(self, message: Message) -> None:
        """Store an agent's message in a ticket's topic for its driver; the sender copies it."""
        agent = message.from_user
        written = await self.support.agent_wrote(message.message_thread_id, agent.id, agent.full_name,
                                                 message.message_id, message.content_type, reply_to(message))
        if written is not None:
            self._wake()

    async def driver_edited(self, bot: Bot, message: Message) -> None:
        """The driver edited a message of theirs: its copy in the topic says the same (one not
        copied yet is copied as it reads now)."""
        stored = await self.support.edited(Author.DRIVER, message.message_id, message.html_text,
                                           account_id=message.from_user.id)
        if stored is not None and stored.topic_message_id is not None:
            await mirror_edit(bot, self.group_id, stored.topic_message_id, stored.kind, message.html_text)

    async def agent_edited(self, bot: Bot, message: Message) -> None:
        """An agent edited a reply: the driver's copy says the same."""
        stored = await self.support.edited(Author.AGENT, message.message_id, message.html_text,
                                           thread_id=message.message_thread_id)
        if stored is not None and stored.driver_message_id is not None:
            await mirror_edit(bot, stored.ticket.account_id, stored.driver_message_id, stored.kind, message.html_text)


async def mirror_edit(bot: Bot, chat_id: int, copy_id: int, kind: str, html: str) -> None:
    """A copy made to say what its message says after an edit (a text, or a media's caption)."""
    try:
        with sending_at(SILENT):
            if kind == "text":
                await bot.edit_message_text(chat_id=chat_id, message_id=copy_id, text=html, parse_mode="HTML")
            else:
                await bot.edit_message_caption(chat_id=chat_id, message_id=copy_id, caption=html, parse_mode="HTML")
    except TelegramAPIError as exc:  # the copy was deleted, the chat blocked the bot, or mirrored already
        log.info("support: edit of copy %s in chat %s not mirrored: %r", copy_id, chat_id, exc)


def parallel_for(group_per_minute: float, lease_seconds: float) -> int:
    """How many new messages for the agents may be under way at once: no more than the group's
    budget takes in half a lease, each costing as much as a new ticket's, so none waits so long
    for its turn that its lease runs out and another claim takes it again."""
    return max(1, int(group_per_minute / 60.0 * lease_seconds / 2 / MESSAGES_PER_NEW_TICKET))


class SupportSender(Claiming[DueCopy]):
    """Copies the drivers' messages into their topics (opening a ticket's topic first) and the
    agents' replies to their drivers, each ticket's in order. Telegram's answer decides what is
    next: 429 comes back when Telegram says; for the agents' group, a refusal or a fault is tried
    again with backoff until it goes through, the driver told once that it is kept; for a driver,
    a chat that blocked the bot is flagged under the reply in the topic, and a fault is tried again
    up to `retry_limit` times."""

    name = "support"

    def __init__(self, bot: Bot, outbox: SupportOutbox, relay: SupportRelay, *, interval: float = 1.0,
                 to_group: int = 6, to_drivers: int = 200) -> None:
        super().__init__(interval)
        self.bot = bot
        self.outbox = outbox
        self.relay = relay
        self.services = relay.services
        self.i18n = relay.i18n
        self.group_id = relay.group_id
        self.to_group = to_group
        self.to_drivers = to_drivers
        relay.sender = self

    async def claim(self, flying: list[DueCopy]) -> tuple[list[DueCopy], bool]:
        rooms = {Author.DRIVER: self.to_group if self.group_id is not None else 0, Author.AGENT: self.to_drivers}
        for item in flying:
            rooms[item.author] -= 1
        due: list[DueCopy] = []
        more = False
        for author, room in rooms.items():
            # Messages a driver sends in a burst are handled side by side, not always stored in
            # order: none of a chat is copied while one of its updates is still being handled.
            claimed = await self.outbox.claim(author, room, self.relay.in_flight.busy)
            due.extend(claimed)
            more = more or (room > 0 and len(claimed) == room)
        return due, more

    async def release(self, items: list[DueCopy]) -> None:
        await self.outbox.release([item.id for item in items])

    async def deliver(self, item: DueCopy) -> None:
        with self.i18n.context():
            await self._deliver(item)

    async def _deliver(self, item: DueCopy) -> None:
        try:
            if item.author is Author.DRIVER:
                await self._to_topic(item)
            else:
                await self._to_driver(item)
        except TelegramRetryAfter as exc:
            await self.outbox.retry_later(item.id, exc.retry_after)
        except TelegramBadRequest as exc:
            if GONE in exc.message:
                log.info("support: message %s was deleted before it was copied", item.id)
                await self.services.support.not_copied(item.id)
            else:
                await self._failed(item, f"400 {exc.message}", refused=True)
        except TelegramForbiddenError as exc:
            await self._failed(item, f"403 {exc.message}", refused=True)
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            await self._failed(item, f"{type(exc).__name__}: {getattr(exc, 'message', exc)}", refused=False)

    async def _failed(self, item: DueCopy, error: str, *, refused: bool) -> None:
        if item.author is Author.DRIVER:
            # The agents' group refused or failed: kept and tried again until it takes it (an
            # operator mends the group's setup); the driver hears so once.
            await self.outbox.failed(item.id, item.attempts, give_up=False)
            log.warning("support: message %s of account %s stays queued: %s", item.id, item.account_id, error)
            if item.attempts == 0:
                await self._tell_driver(item, screens.not_reached)
            return
        if refused or not await self.outbox.failed(item.id, item.attempts):
            log.info("support: reply %s not delivered to account %s: %s", item.id, item.account_id, error)
            if refused:
                await self.services.support.not_copied(item.id)
            await self._flag(item)
        else:
            log.info("support: reply %s to account %s: %s; trying again later", item.id, item.account_id, error)

    # --- driver → topic -------------------------------------------------------------------------

    async def _to_topic(self, item: DueCopy) -> None:
        thread_id = item.thread_id if item.thread_id is not None else await self._open_topic(item)
        with sending_at(ACTION):
            await whole(self._copy(item, self.group_id, item.account_id, item.driver_message_id, thread_id))
        await self._tell_driver(item, lambda: screens.delivered(item.ticket_id))

    async def _open_topic(self, item: DueCopy) -> int:
        """The ticket's topic, opened with the driver's context card. Only the sender holding the
        ticket's next message opens it, so a ticket never gets two. What the card shows is read
        before the topic is opened, and the topic recorded at once after: a database too busy to
        answer between the two would leave a topic on no record, and the next claim would open
        another."""
        account_id = item.account_id
        ticket = await self.services.support.ticket(item.ticket_id)
        trucks = await self.services.trucks.list(account_id)
        card = await self._card(ticket, account_id, item.first_name, item.language, trucks)
        return await whole(self._create_topic(ticket, screens.topic_name(ticket, item.first_name, item.language,
                                                                          trucks), card))

    async def _create_topic(self, ticket: TicketView, name: str, card: Screen) -> int:
        created = await self.bot.create_forum_topic(self.group_id, name)
        thread_id = created.message_thread_id
        with sending_at(ACTION):
            await self.bot.send_message(self.group_id, message_thread_id=thread_id, **card.as_kwargs())
        return await self._recorded(lambda: self.services.support.topic_opened(ticket.id, thread_id)) or thread_id

    async def _card(self, ticket: TicketView, account_id: int, first_name: str, language: str | None, trucks) -> Screen:
        now = self.services.clock.now()
        upcoming = await self.services.booking.upcoming(account_id)
        rating = await self.services.fairness.rating(account_id, now)
        phone = await self.services.follows.phone_of(account_id)
        last_notice = await self.services.events.last_of(account_id)
        shown_in = self.i18n.default_locale  # for the agents
        with self.i18n.use_locale(shown_in):
            return screens.context_card(ticket, account_id, first_name, language, trucks, upcoming,
                                        self.services.checkpoints, rating, now, shown_in, phone, last_notice)

    async def _copy(self, item: DueCopy, chat_id: int, from_chat_id: int, message_id: int,
                    thread_id: int | None = None) -> None:
        """The copy, and at once the record of it: a restart does not copy it again."""
        answers = (ReplyParameters(message_id=item.reply_to, allow_sending_without_reply=True)
                   if item.reply_to is not None else None)
        copy = await self.bot.copy_message(chat_id, from_chat_id=from_chat_id, message_id=message_id,
                                           message_thread_id=thread_id, reply_parameters=answers)
        edit = await self._recorded(lambda: self.services.support.copied(item.id, copy.message_id))
        if edit is not None:
            await mirror_edit(self.bot, chat_id, copy.message_id, item.kind, edit)

    async def _recorded(self, record: Callable[[], Awaitable[R]]) -> R:
        """The record of what Telegram has just taken: given up, the message would be claimed again
        when its lease runs out and sent a second time. Tried for half a lease."""
        return await patiently(record, self.outbox.lease.total_seconds() / 2, "a copy's record")

    async def _tell_driver(self, item: DueCopy, screen: Callable[[], Screen]) -> None:
        """A short line to the driver under their message, in their language; one they cannot
        receive (the bot blocked) is only logged."""
        with self.i18n.use_locale(item.language or self.i18n.default_locale):
            told = screen()
        try:
            with sending_at(ACTION):
                await self.bot.send_message(item.account_id, **told.as_kwargs(), reply_parameters=ReplyParameters(
                    message_id=item.driver_message_id, allow_sending_without_reply=True))
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            log.info("support: could not tell account %s: %s", item.account_id, exc.message)

    # --- topic → driver -------------------------------------------------------------------------

    async def _to_driver(self, item: DueCopy) -> None:
        account_id = item.account_id
        with sending_at(ACTION):
            if item.first_answer:
                with self.i18n.use_locale(item.language or self.i18n.default_locale):
                    told = screens.agent_answering()
                await self.bot.send_message(account_id, **told.as_kwargs())
            if item.kind.startswith(CANNED):
                await whole(self._send_canned(item))
            else:
                await whole(self._copy(item, account_id, self.group_id, item.topic_message_id))

    async def _send_canned(self, item: DueCopy) -> None:
        """A canned answer (`/faq NAME`), rendered from the catalogs in the driver's language: the
        agent's command in the topic is not what the driver is to read."""
        found = canned.find(item.kind.removeprefix(CANNED))
        if found is None:  # a name no longer offered (the catalogs changed since)
            await self.services.support.not_copied(item.id)
            return
        language = item.language or self.i18n.default_locale
        with self.i18n.use_locale(language):
            text = found.text(self.services.rules, language)
        sent = await self.bot.send_message(item.account_id, text=text)
        await self._recorded(lambda: self.services.support.copied(item.id, sent.message_id))

    async def _flag(self, item: DueCopy) -> None:
        """Under the agent's reply in the topic: it did not reach the driver."""
        with self.i18n.use_locale(self.i18n.default_locale):
            flag = screens.not_delivered()
        try:
            with sending_at(ACTION):
                await self.bot.send_message(self.group_id, message_thread_id=item.thread_id, **flag.as_kwargs(),
                                            reply_parameters=ReplyParameters(message_id=item.topic_message_id,
                                                                             allow_sending_without_reply=True))
        except TelegramAPIError as exc:
            log.warning("support: could not flag reply %s in the topic: %r", item.id, exc)

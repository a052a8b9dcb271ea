"""The relay between a driver's private chat and their ticket's topic in the agents' supergroup.

Each message is stored (`services.support`) before it is copied, so one that Telegram refused, or
that a stopped process did not copy, stays queued. Copies are made with copyMessage, a counted call:
it spends the shared outgoing budget like every other send. A message goes only where its ticket
says: into the ticket's own topic, or to the ticket's own account, never by what anyone typed.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import Message, ReplyParameters
from aiogram.utils.i18n import I18n

from handlers.support import screens
from services.container import Services
from services.support import MessageView, TicketView

log = logging.getLogger(__name__)
KINDS = ("text", "photo", "document", "voice")  # what goes to support, each way
AGENT_STATUSES = (ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)


class SupportRelay:
    def __init__(self, services: Services, i18n: I18n, group_id: int | None) -> None:
        self.services = services
        self.support = services.support
        self.i18n = i18n
        self.group_id = group_id

    @property
    def available(self) -> bool:
        return self.group_id is not None

    # --- driver → topic -------------------------------------------------------------------------

    async def from_driver(self, bot: Bot, message: Message, first_name: str, language: str | None) -> bool:
        """Store the driver's message and copy it into their ticket's topic (opening the topic
        first); False if Telegram refused, the message staying queued."""
        account_id = message.from_user.id
        written = await self.support.driver_wrote(account_id, message.message_id, message.content_type)
        try:
            thread_id = await self._topic(bot, written.message.ticket, account_id, first_name, language)
            await self._to_topic(bot, written.message, message.chat.id, thread_id)
        except TelegramAPIError as exc:
            log.warning("support: message %s of account %s stays queued: %r", written.message.id, account_id, exc)
            return False
        return True

    async def _topic(self, bot: Bot, ticket: TicketView, account_id: int, first_name: str,
                     language: str | None) -> int:
        if ticket.thread_id is not None:
            return ticket.thread_id
        trucks = await self.services.trucks.list(account_id)
        created = await bot.create_forum_topic(self.group_id, screens.topic_name(ticket, first_name, language, trucks))
        await self.support.topic_opened(ticket.id, created.message_thread_id)
        stored = await self.support.current(account_id)
        thread_id = stored.thread_id if stored is not None and stored.thread_id else created.message_thread_id
        if thread_id != created.message_thread_id:  # another process opened one first: that is the ticket's
            log.info("support: ticket %s has topic %s already; topic %s is unused", ticket.id, thread_id,
                     created.message_thread_id)
            return thread_id
        card = await self._card(ticket, account_id, first_name, language, trucks)
        await bot.send_message(self.group_id, message_thread_id=thread_id, **card.as_kwargs())
        return thread_id

    async def _card(self, ticket: TicketView, account_id: int, first_name: str, language: str | None, trucks):
        now = self.services.clock.now()
        upcoming = await self.services.booking.upcoming(account_id)
        rating = await self.services.fairness.rating(account_id, now)
        phone = await self.services.follows.phone_of(account_id)
        last_notice = await self.services.events.last_of(account_id)
        shown_in = self.i18n.default_locale  # for the agents
        with self.i18n.use_locale(shown_in):
            return screens.context_card(ticket, account_id, first_name, language, trucks, upcoming,
                                        self.services.checkpoints, rating, now, shown_in, phone, last_notice)

    async def _to_topic(self, bot: Bot, stored: MessageView, chat_id: int, thread_id: int) -> None:
        copy = await bot.copy_message(self.group_id, from_chat_id=chat_id, message_id=stored.driver_message_id,
                                      message_thread_id=thread_id)
        await self.support.copied(stored.id, copy.message_id)

    # --- topic → driver -------------------------------------------------------------------------

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

    async def from_agent(self, bot: Bot, message: Message) -> None:
        """Store an agent's message in a ticket's topic and copy it to the ticket's driver; one
        that does not reach them is flagged in the topic."""
        agent = message.from_user
        written = await self.support.agent_wrote(message.message_thread_id, agent.id, agent.full_name,
                                                 message.message_id, message.content_type)
        if written is None:
            return
        account_id = written.message.ticket.account_id
        try:
            if written.first_answer:
                language = await self.services.accounts.language_of(account_id) or self.i18n.default_locale
                with self.i18n.use_locale(language):
                    told = screens.agent_answering()
                await bot.send_message(account_id, **told.as_kwargs())
            copy = await bot.copy_message(account_id, from_chat_id=self.group_id, message_id=message.message_id)
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            log.info("support: reply %s not delivered to account %s: %s", written.message.id, account_id, exc.message)
            await self.support.not_copied(written.message.id)
            with self.i18n.use_locale(self.i18n.default_locale):
                flag = screens.not_delivered()
            await bot.send_message(self.group_id, message_thread_id=message.message_thread_id,
                                   reply_parameters=ReplyParameters(message_id=message.message_id,
                                                                    allow_sending_without_reply=True),
                                   **flag.as_kwargs())
            return
        except TelegramAPIError as exc:  # a fault of the moment: the reply stays queued
            log.warning("support: reply %s to account %s stays queued: %r", written.message.id, account_id, exc)
            return
        await self.support.copied(written.message.id, copy.message_id)

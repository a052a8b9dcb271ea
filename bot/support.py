"""The relay between a driver's private chat and their ticket's topic in the agents' supergroup.

Each message is stored (`services.support`) when it arrives, with its copy queued in the outbox in the
same transaction; the outbox's sender (`bot.outbox`) copies it, once, and each ticket's messages in
the order they were written. A message goes only where its ticket says: into the ticket's own topic,
or to the ticket's own account, never by what anyone typed.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from bot.middlewares import ChatsInFlight
from bot.outbox.support import CANNED
from handlers.support.relay import STORE_PATIENCE_SECONDS
from services.container import Services
from services.storage.unavailable import patiently
from services.support.tables import Author
from services.support.views import TicketView

log = logging.getLogger(__name__)
AGENT_STATUSES = (ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)


def reply_to(message: Message) -> int | None:
    """The message this one answers, if it is a reply: in a topic, Telegram makes every message
    that answers nothing else a reply to the topic's first message, which is no answer."""
    replied = message.reply_to_message
    if replied is None or (message.is_topic_message and replied.message_id == message.message_thread_id):
        return None
    return replied.message_id


class SupportRelay:
    """What the handlers ask of support: store what was written (its copy queued) and wake the
    outbox's sender; the same for edits."""

    def __init__(self, services: Services, i18n: I18n, group_id: int | None,
                 in_flight: ChatsInFlight | None = None) -> None:
        self.services = services
        self.support = services.support
        self.i18n = i18n
        self.group_id = group_id
        self.in_flight = in_flight or ChatsInFlight()
        self.wake = lambda: None  # the outbox sender's, once the app has built it

    @property
    def available(self) -> bool:
        return self.group_id is not None

    async def canned_answer(self, message: Message, name: str) -> TicketView | None:
        """`/faq NAME` in a ticket's topic: stored as the agent's reply (kind "faq:NAME", the command
        its message in the topic), which the sender renders in the driver's language and sends;
        None if the topic is no ticket's."""
        agent = message.from_user
        written = await self.support.agent_wrote(message.message_thread_id, agent.id, agent.full_name,
                                                 message.message_id, f"{CANNED}{name}")
        if written is None:
            return None
        self.wake()
        return written.message.ticket

    async def from_driver(self, message: Message) -> None:
        """Store the driver's message for their ticket's topic; the sender copies it and tells them."""
        # Waited for, not refused, while a burst keeps the database busy: the driver's words matter.
        await patiently(lambda: self.support.driver_wrote(message.from_user.id, message.message_id,
                                                          message.content_type, reply_to(message)),
                        STORE_PATIENCE_SECONDS, "a driver's message")
        self.in_flight.when_free(message.chat.id, self.wake)  # the sender skips the chat until then

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
            self.wake()

    async def driver_edited(self, message: Message) -> None:
        """The driver edited a message of theirs: its copy in the topic is made to say the same
        (one not copied yet is copied first)."""
        if await self.support.edited(Author.DRIVER, message.message_id, message.html_text,
                                     account_id=message.from_user.id) is not None:
            self.wake()

    async def agent_edited(self, message: Message) -> None:
        """An agent edited a reply: the driver's copy says the same."""
        if await self.support.edited(Author.AGENT, message.message_id, message.html_text,
                                     thread_id=message.message_thread_id) is not None:
            self.wake()

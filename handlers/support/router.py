"""Support: /support opens (or continues) the driver's ticket; once they have one, what the driver
writes outside a step that waits for typed text goes to the agents (after a close, it opens the
ticket again or a new one after it); the agents' replies in the ticket's topic
come back to the driver. The relay (`handlers.support.relay.Relay`, the bot's `SupportRelay`) stores
them for the support sender to copy."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.types import Message

from handlers.common.filters import Magic
from handlers.common.states import BookingFlow
from handlers.support import agents, closing, screens
from handlers.support.relay import EDITABLE, KINDS, NOTE_MARK, STORE_PATIENCE_SECONDS, Relay
from services.storage.unavailable import patiently
from services.support.tickets import SupportService

_KINDS = Magic(F.content_type.in_(KINDS))
_EDITABLE = Magic(F.content_type.in_(EDITABLE))
_NOT_A_COMMAND = ~Magic(F.text.startswith("/"))
# An agent's note for the other agents ("! Dana, take this one"), in the text or a caption.
_NOT_A_NOTE = ~Magic(F.text.startswith(NOTE_MARK) | F.caption.startswith(NOTE_MARK))


class WritesToSupport(Filter):
    """The driver has a ticket, open or closed (their message opens it again, or a new one after
    it): asked as patiently as their message is then stored, so that a burst keeping the database
    busy delays a message for the agents instead of refusing it."""

    async def __call__(self, message: Message, support: SupportService, support_relay: Relay) -> bool:
        if not support_relay.available:
            return False
        ticket = await patiently(lambda: support.writes_to(message.from_user.id), STORE_PATIENCE_SECONDS,
                                 "whether a driver's message is for the agents")
        return ticket is not None


class InAgentsTopic(Filter):
    """A message in a topic of the agents' group, from someone the bot sees as its member."""

    async def __call__(self, message: Message, bot: Bot, support_relay: Relay) -> bool:
        if not support_relay.available or message.chat.id != support_relay.group_id:
            return False
        if not message.is_topic_message or message.message_thread_id is None:
            return False
        return await support_relay.is_agent(bot, message)


def router() -> Router:
    """The drivers' side, in their private chats: /support, what they write and edit, and the
    buttons that close and rate a ticket."""
    r = Router(name="support")
    r.message.register(open_ticket, Command("support"))
    # Outside a step, or in a step that waits for a tap (the text fits no step): to the agents.
    r.message.register(to_support, _KINDS, _NOT_A_COMMAND, StateFilter(None, BookingFlow), WritesToSupport())
    r.edited_message.register(driver_edited, _EDITABLE)
    r.include_router(closing.router())
    return r


def agents_router() -> Router:
    """The agents' side, in their group: replies in a ticket's topic and their edits, and the
    agents' commands. Commands in a topic are the agents' own (`agents`: /close, /assign, ...),
    and lines that start with "!" their notes to each other: neither is ever copied to the driver."""
    r = Router(name="support_topics")
    r.message.register(from_agent, _KINDS, _NOT_A_COMMAND, _NOT_A_NOTE, InAgentsTopic())
    r.edited_message.register(agent_edited, _EDITABLE, _NOT_A_NOTE, InAgentsTopic())
    r.include_router(agents.router())
    return r


async def open_ticket(message: Message, support: SupportService, support_relay: Relay) -> None:
    if not support_relay.available:
        await message.answer(**screens.not_available().as_kwargs())
        return
    ticket, _opened = await support.open(message.from_user.id)
    await message.answer(**screens.write_your_question(ticket.id).as_kwargs())


async def to_support(message: Message, support_relay: Relay) -> None:
    """Stored for the agents; the driver hears "delivered" once it is in their topic."""
    await support_relay.from_driver(message)


async def from_agent(message: Message, support_relay: Relay) -> None:
    await support_relay.from_agent(message)


async def driver_edited(message: Message, bot: Bot, support_relay: Relay) -> None:
    if support_relay.available:
        await support_relay.driver_edited(message)


async def agent_edited(message: Message, support_relay: Relay) -> None:
    await support_relay.agent_edited(message)

"""Support: /support opens (or continues) the driver's ticket; while it is open, what the driver
writes outside a booking or truck step goes to the agents; the agents' replies in the ticket's topic
come back to the driver. The relay (`handlers.support.relay.Relay`, the bot's `SupportRelay`) stores
them for the support sender to copy."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.types import Message

from handlers.common.filters import Magic
from handlers.support import agents, closing, screens
from handlers.support.relay import KINDS, Relay
from services.support.tickets import SupportService


class HasOpenTicket(Filter):
    async def __call__(self, message: Message, support: SupportService, support_relay: Relay) -> bool:
        return support_relay.available and await support.current(message.from_user.id) is not None


class InAgentsTopic(Filter):
    """A message in a topic of the agents' group, from someone the bot sees as its member."""

    async def __call__(self, message: Message, bot: Bot, support_relay: Relay) -> bool:
        if not support_relay.available or message.chat.id != support_relay.group_id:
            return False
        if not message.is_topic_message or message.message_thread_id is None:
            return False
        return await support_relay.is_agent(bot, message)


def router() -> Router:
    r = Router(name="support")
    kinds = Magic(F.content_type.in_(KINDS))
    private, group = Magic(F.chat.type == "private"), Magic(F.chat.type == "supergroup")
    r.message.register(open_ticket, private, Command("support"))
    r.message.register(to_support, private, kinds, ~Magic(F.text.startswith("/")), StateFilter(None), HasOpenTicket())
    # Commands in a topic are the agents' own (`agents`: /close, /assign, ...), never copied to the driver.
    r.message.register(from_agent, group, kinds, ~Magic(F.text.startswith("/")), InAgentsTopic())
    r.edited_message.register(driver_edited, private, kinds)
    r.edited_message.register(agent_edited, group, kinds, InAgentsTopic())
    r.include_routers(agents.router(), closing.router())
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
        await support_relay.driver_edited(bot, message)


async def agent_edited(message: Message, bot: Bot, support_relay: Relay) -> None:
    await support_relay.agent_edited(bot, message)

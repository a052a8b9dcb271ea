"""The agents' commands in their forum group: /close, /reopen, /assign and /faq NAME in a ticket's
topic, /tickets anywhere in the group (General too), and /close N or /reopen N anywhere (a closed
topic is closed in Telegram too, where only administrators may post).

Only members the bot sees as members of the group (getChatMember, asked for each command) are
heard; to anyone else these commands do not exist, and nothing is said. Commands are never copied
to the driver. What the topic is told is in the agents' language (the bot's default); what the
driver is told, in the driver's.
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import Message

from handlers.support import canned as canned_answers
from handlers.support import screens
from handlers.support.relay import Notes, Relay
from services.support.tickets import SupportService, agent
from services.support.views import TicketView


class InAgentsGroup(Filter):
    """A message in the agents' group (any topic), from someone the bot sees as its member now."""

    async def __call__(self, message: Message, bot: Bot, support_relay: Relay) -> bool:
        if not support_relay.available or message.chat.id != support_relay.group_id:
            return False
        return await support_relay.is_agent(bot, message)


def router() -> Router:
    r = Router(name="support_agents")
    r.message.filter(InAgentsGroup())
    r.message.register(close, Command("close"))
    r.message.register(reopen, Command("reopen"))
    r.message.register(assign, Command("assign"))
    r.message.register(faq, Command("faq"))
    r.message.register(tickets, Command("tickets"))
    return r


async def _reply(message: Message, notes: Notes, render) -> None:
    await message.reply(**notes.in_agents_language(render).as_kwargs())


async def _ticket(message: Message, support: SupportService, notes: Notes,
                  command: CommandObject | None = None) -> TicketView | None:
    """The ticket a command names (`/reopen 7`, anywhere in the group: only administrators may post
    in a closed topic), else the one whose topic it is in; a command that names none is told so."""
    ticket = None
    number = (command.args or "").strip().lstrip("#") if command is not None else ""
    if number:
        ticket = await support.ticket(int(number)) if number.isdigit() and len(number) < 10 else None
    elif message.is_topic_message and message.message_thread_id is not None:
        ticket = await support.by_thread(message.message_thread_id)
    if ticket is None:
        await _reply(message, notes,
                     lambda language: screens.no_such_ticket(number) if number else screens.not_a_ticket())
    return ticket


async def close(message: Message, command: CommandObject, support: SupportService, support_notes: Notes) -> None:
    ticket = await _ticket(message, support, support_notes, command)
    if ticket is None:
        return
    closed = await support.close(ticket.id, by=agent(message.from_user.id))
    if closed is None:
        await _reply(message, support_notes, lambda language: screens.is_closed_already(ticket, language))
        return
    name = message.from_user.full_name  # the driver is asked to rate it through the outbox, queued with the close
    await _reply(message, support_notes, lambda language: screens.closed_by_agent(closed, name, language))


async def reopen(message: Message, command: CommandObject, support: SupportService, support_notes: Notes) -> None:
    ticket = await _ticket(message, support, support_notes, command)
    if ticket is None:
        return
    if ticket.open:
        await _reply(message, support_notes, lambda language: screens.is_open_already(ticket, language))
        return
    reopened = await support.reopen(ticket.id, by=agent(message.from_user.id))
    if reopened is None:  # the driver opened another ticket meanwhile (or another agent was first)
        other = await support.current(ticket.account_id)
        if other is not None and other.id == ticket.id:
            await _reply(message, support_notes, lambda language: screens.is_open_already(ticket, language))
        else:
            await _reply(message, support_notes,
                         lambda language: screens.driver_has_another(ticket, other, language))
        return
    name = message.from_user.full_name  # the driver is told through the outbox, queued with the reopening
    await _reply(message, support_notes, lambda language: screens.reopened(reopened, name, language))


async def assign(message: Message, support: SupportService, support_notes: Notes) -> None:
    if await _ticket(message, support, support_notes) is None:
        return
    taken = await support.assign(message.message_thread_id, message.from_user.id, message.from_user.full_name)
    await _reply(message, support_notes, lambda language: screens.assigned(taken, language))


async def faq(message: Message, command: CommandObject, support: SupportService, support_relay: Relay,
              support_notes: Notes) -> None:
    found = canned_answers.find(command.args or "")
    if found is None:
        await _reply(message, support_notes,
                     lambda language: screens.faq_list(list(canned_answers.CANNED.values()), command.args))
        return
    if await _ticket(message, support, support_notes) is None:
        return
    ticket = await support_relay.canned_answer(message, found.name)
    if ticket is None:
        return
    language = await support_notes.driver_language(ticket.account_id)
    rules = support_notes.services.rules
    await _reply(message, support_notes, lambda shown_in: screens.faq_sent(found.text(rules, shown_in), language))


async def tickets(message: Message, support: SupportService, support_notes: Notes) -> None:
    found = await support.open_tickets(limit=500)
    now = support_notes.services.clock.now()
    await _reply(message, support_notes,
                 lambda language: screens.open_tickets(found, now, support_notes.group_id, language))

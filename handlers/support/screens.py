"""What the driver and the agents read of support: the driver's short lines, the topic's name and
the context card that opens it (for agents, so in the bot's default language)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.common.l10n import digits, latin, local_datetime, shown_plate, where_and_when
from handlers.common.screen import MESSAGE_LIMIT, Keyboard, Screen, shown_length
from handlers.common.statuses import status
from handlers.support.callbacks import CloseTicketCb, RateTicketCb
from services.accounts.trucks import TruckView
from services.booking.fairness import Rating
from services.booking.outcomes import HoldView
from services.kernel.rules import Checkpoint
from services.notices.cards import NoticeEvent
from services.storage.models import ReservationStatus
from services.support.views import TicketView

FLAGS = {"kk": "🇰🇿", "ru": "🇷🇺", "fa": "🇮🇷"}
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "fa": "فارسی"}
TOPIC_NAME_LIMIT = 128  # Telegram's limit on a topic's name


def not_available() -> Screen:
    return Screen(_("Support is not available right now. /help — what I can do"))


def write_your_question(ticket_id: int | None = None) -> Screen:
    return Screen(_("Write your question to support: text, a photo, a document or a voice message. "
                    "An agent will answer in this chat."), close_ticket_keyboard(ticket_id))


def delivered(ticket_id: int | None = None) -> Screen:
    return Screen(_("✓ Delivered to support."), close_ticket_keyboard(ticket_id))


def not_reached() -> Screen:
    """Telegram refused to take the message to the agents (a fault of the moment, or the group's setup)."""
    return Screen(_("Support cannot be reached just now. Your message is kept and will reach the agents as soon as "
                    "possible."))


def agent_answering() -> Screen:
    return Screen(_("💬 An agent is answering."))


def not_delivered() -> Screen:
    """In the topic, under an agent's reply that did not reach the driver."""
    return Screen(_("⚠️ Not delivered: the driver cannot be reached (the bot may be blocked)."))


def topic_name(ticket: TicketView, first_name: str, language: str | None, trucks: list[TruckView]) -> str:
    """"🇷🇺 Name · 123 ABC 02 · #7" ("✅ 🇷🇺 …" once closed): plain text (topic names are not HTML), at
    most 128 characters."""
    parts = [f"{'✅ ' if not ticket.open else ''}{FLAGS.get(language or '', '🏳')} {first_name.strip() or '—'}"]
    if trucks:
        parts.append(shown_plate(trucks[0].plate, "ru"))
    tail = f" · #{ticket.id}"
    head = " · ".join(parts)[: TOPIC_NAME_LIMIT - len(tail)]
    return head + tail


def context_card(ticket: TicketView, account_id: int, first_name: str, language: str | None,
                 trucks: list[TruckView], upcoming: list[HoldView], checkpoints: dict[str, Checkpoint],
                 rating: Rating, now: datetime, shown_in: str, phone: str | None = None,
                 last_notice: NoticeEvent | None = None, limit: int = MESSAGE_LIMIT) -> Screen:
    """The driver's context, from the database, every value escaped. A fleet too big for one
    message shows the trucks and the holds and bookings that fit, and counts the rest."""
    head = [
        _("<b>Ticket #{number}</b>").format(number=digits(ticket.id, shown_in)),
        *([_("Follows ticket #{number}, closed earlier.").format(number=digits(ticket.previous_id, shown_in))]
          if ticket.previous_id else []),
        _("Driver: {name} (id {id})").format(name=escape(first_name or "—"), id=account_id),
        _("Language: {language}").format(language=LANGUAGE_NAMES.get(language or "", "—")),
        _("Phone: {phone}").format(phone=latin(escape(f"+{phone}" if phone else "—"), shown_in)),
    ]
    plates = [escape(shown_plate(t.plate, shown_in)) for t in trucks]
    if last_notice is not None:
        checkpoint = checkpoints.get(last_notice.checkpoint)
        when = (local_datetime(last_notice.occurred_at, checkpoint.tz, shown_in) if checkpoint
                else escape(last_notice.occurred_at.strftime("%Y-%m-%d %H:%M UTC")))
        plate = escape(shown_plate(last_notice.plate, shown_in)) if last_notice.plate else "—"
        notice = [_("Last status notice: {status} ({plate}, {when})").format(
            status=status(last_notice.type, last_notice.details, shown_in), plate=plate, when=when)]
    else:
        notice = []
    items = []
    for item in upcoming:
        checkpoint = checkpoints.get(item.checkpoint)
        when = where_and_when(checkpoint, item.starts_at, shown_in) if checkpoint else escape(item.checkpoint)
        what = (_("booking {ref}").format(ref=escape(item.ref or ""))
                if item.status is ReservationStatus.BOOKED else _("hold"))
        items.append(f"• {escape(shown_plate(item.plate, shown_in))}: {when} — {what}")
    tail = [_("Rating: {confirmed} of {decided} holds confirmed").format(
        confirmed=digits(rating.confirmed, shown_in), decided=digits(rating.decided, shown_in))]
    if rating.banned_until is not None and rating.banned_until > now:
        tail.append(_("Banned: {reason}").format(reason=escape(rating.ban_reason or "")))
    elif rating.blocked_until is not None and rating.blocked_until > now:
        tail.append(_("New holds paused by the rating"))

    def trucks_line(shown: int) -> str:
        listed = ", ".join(plates[:shown]) or "—"
        if shown < len(plates):
            listed += " " + _more(len(plates) - shown, shown_in)
        return _("Trucks: {plates}").format(plates=listed)

    def card(shown_trucks: int, shown_items: int) -> str:
        lines = [*head, trucks_line(shown_trucks), *notice]
        if items:
            lines.append(_("Holds and bookings:"))
            lines.extend(items[:shown_items])
            if shown_items < len(items):
                lines.append(_more(len(items) - shown_items, shown_in))
        else:
            lines.append(_("Holds and bookings: none"))
        return "\n".join(lines + tail)

    shown_trucks, shown_items = len(plates), len(items)
    # The trucks take at most a quarter of the card, the holds and bookings what is left.
    while shown_trucks and shown_length(card(shown_trucks, 0)) > limit // 4 + shown_length(card(0, 0)):
        shown_trucks -= 1
    while shown_items and shown_length(card(shown_trucks, shown_items)) > limit:
        shown_items -= 1
    return Screen(card(shown_trucks, shown_items))


def _more(count: int, language: str) -> str:
    return _("… and {count} more").format(count=digits(count, language))


# --- closing, rating, reopening: the driver's side (in the driver's language) ------------------------

def close_ticket_keyboard(ticket_id: int | None) -> InlineKeyboardMarkup | None:
    if ticket_id is None:
        return None
    return Keyboard().button(text=_("✖ Close ticket"), callback_data=CloseTicketCb(ticket_id=ticket_id)).as_markup()


def closed_rate_it(ticket: TicketView, language: str) -> Screen:
    """To the driver when their ticket is closed (by an agent or by them): rate the answer, once."""
    keyboard = Keyboard()
    for stars in range(1, 6):
        keyboard.button(text=f"{digits(stars, language)} ⭐",
                        callback_data=RateTicketCb(ticket_id=ticket.id, stars=stars))
    keyboard.adjust(5)
    return Screen(_("✅ Your ticket #{number} is closed. How did support answer? Rate it from 1 (bad) to 5 "
                    "(excellent).").format(number=digits(ticket.id, language)), keyboard.as_markup())


def thanks_for_rating(ticket: TicketView, language: str) -> Screen:
    return Screen(_("✅ Your ticket #{number} is closed. Thank you for your rating: {stars} of 5.").format(
        number=digits(ticket.id, language), stars=digits(ticket.rating or 0, language)))


def rated_already(ticket: TicketView, language: str) -> str:
    """The alert for a second tap on the rating: nothing changed."""
    return _("You have rated this ticket already: {stars} of 5. Nothing changed.").format(
        stars=digits(ticket.rating or 0, language))


def cannot_rate() -> str:
    """The alert for a rating button of a ticket that is not the driver's, or not closed (reopened)."""
    return _("Only a closed ticket of yours can be rated.")


def closed_already() -> str:
    """The alert for "Close ticket" on a ticket that is closed already (or not the driver's)."""
    return _("This ticket is closed already.")


def resumed_for_driver(ticket: TicketView, language: str) -> Screen:
    """Their message after the close opened the ticket again (it is on its way to the agents)."""
    return Screen(_("↩️ Your message opened ticket #{number} again; it goes to the agents.").format(
        number=digits(ticket.id, language)), close_ticket_keyboard(ticket.id))


def follows_for_driver(ticket: TicketView, language: str) -> Screen:
    """Their message long after the close opened a new ticket, which names the old one."""
    return Screen(_("🆕 Ticket #{previous} was closed, so your message opened a new ticket #{number}; it goes to "
                    "the agents.").format(previous=digits(ticket.previous_id or 0, language),
                                          number=digits(ticket.id, language)), close_ticket_keyboard(ticket.id))


def reopened_for_driver(ticket: TicketView, language: str) -> Screen:
    return Screen(_("↩️ Your ticket #{number} is open again. Write here: an agent will answer in this chat.").format(
        number=digits(ticket.id, language)), close_ticket_keyboard(ticket.id))


# --- the agents' side (in the agents' language, the bot's default) -----------------------------------

def _agent(name: str) -> str:
    return escape(name.strip() or "—")


def agent_commands() -> list[tuple[str, str]]:
    """The commands Telegram lists in the agents' group, in the current locale."""
    return [
        ("tickets", _("Open tickets, oldest first")),
        ("assign", _("Take this ticket")),
        ("faq", _("Send a canned answer in the driver's language")),
        ("close", _("Close this ticket; the driver rates the answer")),
        ("reopen", _("Open this ticket again (or /reopen N from anywhere)")),
    ]


def not_a_ticket() -> Screen:
    return Screen(_("This topic is not a ticket's. /reopen N or /close N name a ticket by its number."))


def no_such_ticket(number: str) -> Screen:
    return Screen(_("There is no ticket #{number}.").format(number=escape(number[:20])))


def closed_by_agent(ticket: TicketView, agent_name: str, language: str) -> Screen:
    return Screen(_("✅ {agent} closed ticket #{number}. The driver is asked to rate the answer.").format(
        agent=_agent(agent_name), number=digits(ticket.id, language)))


def closed_by_driver(ticket: TicketView, language: str) -> Screen:
    return Screen(_("✅ The driver closed ticket #{number} and is asked to rate the answer.").format(
        number=digits(ticket.id, language)))


def resumed_by_driver(ticket: TicketView, language: str) -> Screen:
    return Screen(_("↩️ The driver wrote again after the close: ticket #{number} is open again.").format(
        number=digits(ticket.id, language)))


def is_closed_already(ticket: TicketView, language: str) -> Screen:
    return Screen(_("Ticket #{number} is closed already. /reopen — open it again").format(
        number=digits(ticket.id, language)))


def reopened(ticket: TicketView, agent_name: str, language: str) -> Screen:
    return Screen(_("↩️ {agent} reopened ticket #{number}; the driver is told.").format(
        agent=_agent(agent_name), number=digits(ticket.id, language)))


def is_open_already(ticket: TicketView, language: str) -> Screen:
    return Screen(_("Ticket #{number} is open.").format(number=digits(ticket.id, language)))


def driver_has_another(ticket: TicketView, other: TicketView | None, language: str) -> Screen:
    if other is None:
        return Screen(_("Ticket #{number} could not be reopened just now. Please try again.").format(
            number=digits(ticket.id, language)))
    return Screen(_("Ticket #{number} stays closed: the driver has opened ticket #{other} meanwhile.").format(
        number=digits(ticket.id, language), other=digits(other.id, language)))


def assigned(ticket: TicketView, language: str) -> Screen:
    return Screen(_("🙋 {agent} has ticket #{number} now.").format(agent=_agent(ticket.assignee_name or ""),
                                                                  number=digits(ticket.id, language)))


def rated_in_topic(ticket: TicketView, language: str) -> Screen:
    stars = ticket.rating or 0
    return Screen(_("⭐ The driver rated the answer to ticket #{number}: {stars} of 5 {bar}").format(
        number=digits(ticket.id, language), stars=stars, bar="★" * stars + "☆" * (5 - stars)))


def faq_list(canned: list, unknown: str | None = None) -> Screen:
    """`/faq` alone, or with a name it does not know (said first): the names, each with what it answers."""
    lines = [_("No canned answer is called «{name}»; nothing was sent.").format(name=escape(unknown.strip()[:64]))
             ] if unknown and unknown.strip() else []
    lines += [_("<b>Canned answers</b>, sent to the driver in the driver's language: /faq NAME")]
    lines += [f"• <code>{c.name}</code> — {c.title()}" for c in canned]
    return Screen("\n".join(lines))


def faq_sent(text: str, language: str | None) -> Screen:
    """In the topic, what a canned answer said (shown in the agents' language)."""
    return Screen(_("📋 Canned answer sent to the driver in {language}:").format(
        language=LANGUAGE_NAMES.get(language or "", "—")) + "\n\n" + text)


MESSAGE_LIMIT = 4096  # Telegram's limit on a message's text
_NAME_IN_LIST = 32


def _age(opened_at: datetime, now: datetime, language: str) -> str:
    minutes = max(0, int((now - opened_at).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return _("{days} d {hours} h").format(days=digits(days, language), hours=digits(hours, language))
    if hours:
        return _("{hours} h {minutes} min").format(hours=digits(hours, language), minutes=digits(minutes, language))
    return _("{minutes} min").format(minutes=digits(minutes, language))


def _topic_link(group_id: int | None, thread_id: int | None, number: int, language: str) -> str:
    """"#7", a link to the ticket's topic when there is one (t.me/c/ takes a supergroup's id without -100)."""
    text = f"#{digits(number, language)}"
    chat = str(group_id or "")
    if thread_id is None or not chat.startswith("-100"):
        return text
    return f'<a href="https://t.me/c/{chat[4:]}/{thread_id}">{text}</a>'


def open_tickets(tickets: list[TicketView], now: datetime, group_id: int | None, language: str) -> Screen:
    """`/tickets`: open tickets oldest first, each with its age and assignee; within Telegram's
    4096 characters however many there are (the rest are counted)."""
    if not tickets:
        return Screen(_("No open tickets."))
    head = _("<b>Open tickets: {count}</b> (oldest first)").format(count=digits(len(tickets), language))
    lines, length = [head], len(head)
    for index, ticket in enumerate(tickets):
        name = escape((ticket.first_name.strip() or "—")[:_NAME_IN_LIST])
        assignee = (escape(ticket.assignee_name.strip()[:_NAME_IN_LIST]) if ticket.assignee_name
                    else _("nobody"))
        line = _("{ticket} · {name} · {age} · {assignee}").format(
            ticket=_topic_link(group_id, ticket.thread_id, ticket.id, language), name=name,
            age=_age(ticket.opened_at, now, language),
            assignee=assignee)
        more = _("… and {count} more").format(count=digits(len(tickets) - index, language))
        if length + 1 + len(line) + 1 + len(more) > MESSAGE_LIMIT:
            lines.append(more)
            break
        lines.append(line)
        length += 1 + len(line)
    return Screen("\n".join(lines))

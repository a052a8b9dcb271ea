"""What the driver and the agents read of support: the driver's short lines, the topic's name and
the context card that opens it (for agents, so in the bot's default language)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from aiogram.utils.i18n import gettext as _

from handlers.common.l10n import digits, shown_plate, where_and_when
from handlers.common.screen import Screen
from services.fairness import Rating
from services.outcomes import HoldView
from services.rules import Checkpoint
from services.storage import ReservationStatus
from services.support import TicketView
from services.trucks import TruckView

FLAGS = {"kk": "🇰🇿", "ru": "🇷🇺", "fa": "🇮🇷"}
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "fa": "فارسی"}
TOPIC_NAME_LIMIT = 128  # Telegram's limit on a topic's name


def not_available() -> Screen:
    return Screen(_("Support is not available right now. /help — what I can do"))


def write_your_question() -> Screen:
    return Screen(_("Write your question to support: text, a photo, a document or a voice message. "
                    "An agent will answer in this chat."))


def delivered() -> Screen:
    return Screen(_("✓ Delivered to support."))


def not_reached() -> Screen:
    """Telegram refused to take the message to the agents (a fault of the moment, or the group's setup)."""
    return Screen(_("Support could not be reached just now; your message is kept. Please try again in a few minutes."))


def agent_answering() -> Screen:
    return Screen(_("💬 An agent is answering."))


def not_delivered() -> Screen:
    """In the topic, under an agent's reply that did not reach the driver."""
    return Screen(_("⚠️ Not delivered: the driver cannot be reached (the bot may be blocked)."))


def topic_name(ticket: TicketView, first_name: str, language: str | None, trucks: list[TruckView]) -> str:
    """"🇷🇺 Name · 123 ABC 02 · #7": plain text (topic names are not HTML), at most 128 characters."""
    parts = [f"{FLAGS.get(language or '', '🏳')} {first_name.strip() or '—'}"]
    if trucks:
        parts.append(shown_plate(trucks[0].plate, "ru"))
    tail = f" · #{ticket.id}"
    head = " · ".join(parts)[: TOPIC_NAME_LIMIT - len(tail)]
    return head + tail


def context_card(ticket: TicketView, account_id: int, first_name: str, language: str | None,
                 trucks: list[TruckView], upcoming: list[HoldView], checkpoints: dict[str, Checkpoint],
                 rating: Rating, now: datetime, shown_in: str) -> Screen:
    """The driver's context, from the database, every value escaped."""
    lines = [
        _("<b>Ticket #{number}</b>").format(number=digits(ticket.id, shown_in)),
        _("Driver: {name} (id {id})").format(name=escape(first_name or "—"), id=account_id),
        _("Language: {language}").format(language=LANGUAGE_NAMES.get(language or "", "—")),
        _("Trucks: {plates}").format(plates=", ".join(escape(shown_plate(t.plate, shown_in)) for t in trucks) or "—"),
    ]
    if upcoming:
        lines.append(_("Holds and bookings:"))
        for item in upcoming:
            checkpoint = checkpoints.get(item.checkpoint)
            when = where_and_when(checkpoint, item.starts_at, shown_in) if checkpoint else escape(item.checkpoint)
            what = (_("booking {ref}").format(ref=escape(item.ref or ""))
                    if item.status is ReservationStatus.BOOKED else _("hold"))
            lines.append(f"• {escape(shown_plate(item.plate, shown_in))}: {when} — {what}")
    else:
        lines.append(_("Holds and bookings: none"))
    lines.append(_("Rating: {confirmed} of {decided} holds confirmed").format(
        confirmed=digits(rating.confirmed, shown_in), decided=digits(rating.decided, shown_in)))
    if rating.banned_until is not None and rating.banned_until > now:
        lines.append(_("Banned: {reason}").format(reason=escape(rating.ban_reason or "")))
    elif rating.blocked_until is not None and rating.blocked_until > now:
        lines.append(_("New holds paused by the rating"))
    return Screen("\n".join(lines))

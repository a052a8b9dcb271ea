"""A border status in a few words: the headline of a status card and each line of its time line
(`handlers.notices`), and a driver's last notice on the agents' context card (`handlers.support`)."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _

from handlers.common.l10n import digits
from services.notices.types import REMINDER, EventType


def status(entry_type: str, details: dict[str, Any], language: str) -> str:
    """One status in a few words, as the card's headline and as a line of its time line."""
    kind = entry_type
    if kind == EventType.BOOKING_CONFIRMED:
        return _("Booking confirmed")
    if kind == EventType.QUEUE_POSITION:
        position = details.get("queue_position")
        if position is None:
            return _("In the queue")
        return _("In the queue: number {position}").format(position=digits(escape(str(position)), language))
    if kind == EventType.CALLED:
        return _("Called to the checkpoint")
    if kind == EventType.ARRIVED:
        return _("Arrived at the waiting area")  # the queue's waiting area, not yet the post: it is called there
    if kind == EventType.INSPECTION_STARTED:
        return _("Inspection started")
    if kind == EventType.DOCUMENTS_REQUIRED:
        return _("Documents required")
    if kind == EventType.INSPECTION_PASSED:
        return _("Inspection passed")
    if kind == EventType.RELEASED:
        return _("Released by customs")
    if kind == EventType.EXITED:
        return _("Crossed the border")
    if kind == EventType.BOOKING_MOVED:
        return _("Booking moved")
    if kind == EventType.BOOKING_CANCELLED:
        return _("Booking cancelled")
    if kind == REMINDER:
        return _("Reminder")
    return _("Status: {status}").format(status=escape(kind))

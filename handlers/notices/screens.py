"""The status card and the notices that ring, rendered in the driver's language (pure).

The card says where the crossing stands now and how it got there, in the checkpoint's time; a
ringing notice says only what to do. Every value from the border system is escaped: it is text
from another system, not ours.
"""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.common.follow_ups import book_again, follow_ups, my_bookings
from handlers.common.l10n import digits, latin, local_date, local_datetime, local_time, local_time_zoned, plate_text
from handlers.common.screen import MESSAGE_LIMIT, Screen, shown_length
from handlers.common.statuses import status
from services.kernel.rules import Checkpoint
from services.notices.cards import Card, NoticeEvent, TimelineEntry
from services.notices.types import REMINDER, EventType


def _place(details: dict[str, Any], language: str) -> str | None:
    """"Gate 3, lane 2" when the border system named them."""
    gate, lane = details.get("gate"), details.get("lane")
    shown = {k: latin(digits(escape(str(v)), language), language) for k, v in (("gate", gate), ("lane", lane)) if v}
    if gate and lane:
        return _("Gate {gate}, lane {lane}").format(**shown)
    if gate:
        return _("Gate {gate}").format(**shown)
    if lane:
        return _("Lane {lane}").format(**shown)
    return None


# Where the truck was called to no longer applies once it has left, or its booking was moved or cancelled.
_PLACE_ENDS = (EventType.EXITED, EventType.BOOKING_MOVED, EventType.BOOKING_CANCELLED)


def _current_place(timeline: tuple[TimelineEntry, ...], language: str) -> str | None:
    """The gate and lane last named since the crossing's last move, cancellation or exit."""
    for entry in reversed(timeline):
        if entry.type in _PLACE_ENDS:
            return None
        place = _place(entry.details, language)
        if place:
            return place
    return None


def _heading(checkpoint: Checkpoint, plate: str | None, ref: str | None, language: str) -> str:
    parts = [f"<b>{escape(checkpoint.name(language))}</b>"]
    if plate:
        parts.append(plate_text(plate, language))
    if ref:
        parts.append(_("booking {ref}").format(ref=latin(f"<code>{escape(ref)}</code>", language)))
    return " · ".join(parts)


def _line(entry: TimelineEntry, checkpoint: Checkpoint, language: str) -> str:
    return f"{local_time(entry.at, checkpoint.tz, language)} — {status(entry.type, entry.details, language)}"


def card(shown: Card, checkpoint: Checkpoint, language: str, limit: int = MESSAGE_LIMIT) -> Screen:
    """The crossing's card: the status now, gate and lane when called, then the statuses so far, each
    day's under its date. A card that would pass Telegram's length keeps the latest statuses that
    fit, under a line that counts the earlier ones."""
    current = shown.current
    head = [_heading(checkpoint, shown.plate, shown.booking_ref, language),
            _("Now: <b>{status}</b>").format(status=status(current.type, current.details, language))]
    place = _current_place(shown.timeline, language)
    if place:
        head.append(place)
    head.append("")
    days = [entry.at.astimezone(checkpoint.tz).date() for entry in shown.timeline]
    lines = [_line(entry, checkpoint, language) for entry in shown.timeline]
    room = limit - shown_length("\n".join(head))
    kept, cost = 0, 0  # the latest lines that fit, and what they cost with their days' headings
    for index in range(len(lines) - 1, -1, -1):
        cost += 1 + shown_length(lines[index])  # each line after a newline
        if index == len(lines) - 1 or days[index] != days[index + 1]:
            cost += 1 + shown_length(local_date(days[index], language))  # a day's heading, once
        counted = 1 + shown_length(_earlier(index, language)) if index else 0
        if cost + counted > room:
            break
        kept = len(lines) - index
    first = len(lines) - kept
    body = [_earlier(first, language)] if first else []
    for index in range(first, len(lines)):
        if index == first or days[index - 1] != days[index]:
            body.append(local_date(days[index], language))
        body.append(lines[index])
    return Screen("\n".join(head + body))


def _earlier(count: int, language: str) -> str:
    return ngettext("… {count} earlier status", "… {count} earlier statuses", count).format(
        count=digits(count, language))


def _new_time(details: dict[str, Any], checkpoint: Checkpoint, language: str) -> str | None:
    try:
        moment = datetime.fromisoformat(str(details.get("new_time")))
    except ValueError:
        return None
    return local_datetime(moment, checkpoint.tz, language) if moment.tzinfo else None


def _deadline(event: NoticeEvent, checkpoint: Checkpoint, language: str) -> str | None:
    """How long the driver has to reach the gate, when the border system said by when."""
    try:
        deadline = datetime.fromisoformat(str(event.details.get("deadline")))
    except ValueError:
        return None
    if deadline.tzinfo is None or deadline <= event.occurred_at:
        return None
    minutes = math.ceil((deadline - event.occurred_at).total_seconds() / 60)
    return ngettext("Reach the gate within {count} minute, by {time}.",
                    "Reach the gate within {count} minutes, by {time}.", minutes).format(
        count=digits(minutes, language), time=local_time_zoned(deadline, checkpoint.tz, language))


def action(event: NoticeEvent, checkpoint: Checkpoint, language: str) -> Screen:
    """The message that rings: what the driver must do now; a booking moved or cancelled by the
    checkpoint, with the button for what comes next."""
    details, name = event.details, escape(checkpoint.name(language))
    lines = [_heading(checkpoint, event.plate, event.booking_ref, language)]
    buttons = None
    if event.type == EventType.CALLED:
        lines.append(_("Go to the checkpoint {checkpoint} now.").format(checkpoint=name))
        place = _place(details, language)
        if place:
            lines.append(f"<b>{place}</b>")
        within = _deadline(event, checkpoint, language)
        if within:
            lines.append(within)
    elif event.type == EventType.DOCUMENTS_REQUIRED:
        lines.append(_("Bring these documents to the inspection:"))
        documents = details.get("documents") or []
        lines.extend(f"• {escape(str(d))}" for d in (documents if isinstance(documents, list) else [documents]))
    elif event.type == EventType.RELEASED:
        lines.append(_("Released by customs: drive on."))
    elif event.type == EventType.BOOKING_MOVED:
        when = _new_time(details, checkpoint, language)
        lines.append(_("Your booking was moved to {time}.").format(time=when) if when
                     else _("Your booking was moved. /mybookings shows the new time."))
        buttons = follow_ups(my_bookings())
    elif event.type == EventType.BOOKING_CANCELLED:
        lines.append(_("Your booking was cancelled by the checkpoint."))
        if details.get("reason"):
            lines.append(_("Reason: {reason}").format(reason=escape(str(details["reason"]))))
        lines.append(_("/book — book another time"))
        buttons = follow_ups(book_again())
    elif event.type == REMINDER:
        when = _new_time({"new_time": details.get("starts_at")}, checkpoint, language)
        lines.append(_("Reminder: your crossing is at {time}.").format(time=when) if when
                     else _("Reminder: your crossing is soon."))
    else:
        lines.append(status(event.type, details, language))
    return Screen("\n".join(lines), buttons)

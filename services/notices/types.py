"""The statuses the border system reports, and which of them ring.

Every event edits the crossing's status card in silence; the ones the driver must act on (go to
the gate, bring documents, drive on, rebook) also arrive as a new message, which makes a sound.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    BOOKING_CONFIRMED = "booking_confirmed"
    QUEUE_POSITION = "queue_position"  # details: queue_position
    CALLED = "called"  # called to the checkpoint; details: gate, lane
    ARRIVED = "arrived"
    INSPECTION_STARTED = "inspection_started"
    DOCUMENTS_REQUIRED = "documents_required"  # details: documents (a list of names)
    INSPECTION_PASSED = "inspection_passed"
    RELEASED = "released"  # released by customs
    EXITED = "exited"  # crossed the border
    BOOKING_MOVED = "booking_moved"  # by the operator; details: new_time (ISO 8601)
    BOOKING_CANCELLED = "booking_cancelled"  # by the operator; details: reason


# The bot's own notice, not one the border system posts: sent some hours before a booked time.
REMINDER = "reminder"

RINGING = frozenset({
    EventType.CALLED, EventType.DOCUMENTS_REQUIRED, EventType.RELEASED,
    EventType.BOOKING_MOVED, EventType.BOOKING_CANCELLED,
})


def rings(event_type: str) -> bool:
    """Whether the event also sends a new message (with sound) besides the card's silent edit."""
    return event_type in RINGING or event_type == REMINDER

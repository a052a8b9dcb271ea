"""What a notice says, as plain values: the event as the sender renders it, and the status card's
time line.

A card is keyed by the booking's reference when the event has one, else by plate, checkpoint and
the checkpoint's local day: a truck in the queue without a booking crosses once a day at most, so
one card per day is one card per crossing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.kernel.rules import Checkpoint


@dataclass(frozen=True)
class NoticeEvent:
    id: int  # the events row, not the border system's key
    type: str
    checkpoint: str
    occurred_at: datetime
    plate: str | None = None
    booking_ref: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineEntry:
    event_id: int
    type: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"event": self.event_id, "type": self.type, "at": self.at.isoformat(), "details": self.details}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TimelineEntry:
        return cls(int(data["event"]), str(data["type"]), datetime.fromisoformat(data["at"]),
                   dict(data.get("details") or {}))


@dataclass(frozen=True)
class Card:
    """One crossing's status card in one chat: what it shows, and its message once posted."""

    key: str
    plate: str | None
    booking_ref: str | None
    checkpoint: str
    timeline: tuple[TimelineEntry, ...]
    message_id: int | None = None

    @property
    def current(self) -> TimelineEntry:
        return self.timeline[-1]

    def with_event(self, event: NoticeEvent) -> Card:
        """The card once it shows `event`: an event shown already (a retried delivery) changes nothing,
        and the line stays in the order things happened, whatever order they were posted in."""
        if any(entry.event_id == event.id for entry in self.timeline):
            return self
        entry = TimelineEntry(event.id, event.type, event.occurred_at, event.details)
        timeline = tuple(sorted((*self.timeline, entry), key=lambda e: (e.at, e.event_id)))
        return Card(self.key, self.plate or event.plate, self.booking_ref or event.booking_ref, self.checkpoint,
                    timeline, self.message_id)


def card_key(event: NoticeEvent, checkpoint: Checkpoint | None) -> str:
    if event.booking_ref:
        return f"ref:{event.booking_ref}"
    day = checkpoint.local_day(event.occurred_at) if checkpoint else event.occurred_at.date()
    return f"plate:{event.plate or '-'}:{event.checkpoint}:{day.isoformat()}"


def timeline_json(card: Card) -> str:
    return json.dumps([entry.as_json() for entry in card.timeline], ensure_ascii=False)


def timeline_from(text: str | None) -> tuple[TimelineEntry, ...]:
    return tuple(TimelineEntry.from_json(item) for item in json.loads(text or "[]"))

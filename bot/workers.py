"""Background work: expiring holds, releasing freed places, warning of holds about to end, reminding
drivers of their bookings, and keeping the calendar's days ahead.

Each step claims its rows in the database (SKIP LOCKED on PostgreSQL), so any number of bot
processes can run these loops and no hold is expired, released or announced twice. What a step has
to tell drivers is queued in the outbox in the step's own transaction (`services.outbox`) and sent
by the outbox's sender, never from here: a process killed after the step loses no message.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.loops.repeating import Repeating
from bot.outbox.sender import OutboxSender
from services.container import Services

log = logging.getLogger(__name__)


class Workers(Repeating):
    name = "workers"

    def __init__(self, services: Services, sender: OutboxSender | None = None, *, interval: float | None = 5.0,
                 remind_before: timedelta = timedelta(hours=3)) -> None:
        """`interval` None: tests drive the steps themselves with tick()."""
        super().__init__(interval)
        self.services = services
        self.sender = sender
        self.remind_before = remind_before

    async def step(self) -> None:
        await self.tick(wait=False)

    async def tick(self, *, wait: bool = True) -> None:
        """One round of every step; `wait`: return once what they queued is sent (the tests, the demo).
        Holds about to end first: their drivers can still act, so their warnings go out ahead of
        the expiries of the same moment."""
        await self.services.booking.warnings()
        await self.services.releases.expire_due()
        await self.services.releases.release_due()
        await self.services.reminders.due(self.remind_before)
        for checkpoint in self.services.checkpoints.values():
            await self.services.calendar.ensure(checkpoint)
        if wait and self.sender is not None:
            await self.sender.drain()

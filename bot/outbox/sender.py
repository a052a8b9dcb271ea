"""The one sender of the outbox: claims the due rows, has each sent by the renderer of its kind, and
records the outcome that Telegram's answer means (`bot.outbox.answers`).

Up to `to_private` rows for private chats and `to_group` rows for the agents' group are under way at
once, each in its own task, paced by the outgoing budget: no more than the budget sends in part of a
lease, so none waits so long for its turn that its lease runs out and another claim takes it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Protocol

from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n

from bot.loops.repeating import Claiming
from bot.outbox.answers import judge
from handlers.common.faults import code_trace
from services.limits.outgoing import Committed, committed
from services.outbox.kinds import Kind
from services.outbox.outbox import (
    Due,
    Failed,
    Outbox,
    Post,
    Retry,
    RetryPolicy,
    Sent,
    Settled,
    Undeliverable,
    Verdict,
)
from services.storage.database import in_background
from services.storage.unavailable import DatabaseUnavailable, patiently

log = logging.getLogger(__name__)
MAX_PARALLEL = 1000
WRITERS_WAIT = (Kind.TO_AGENTS,)  # a driver's messages wait while their updates are being handled
MESSAGES_PER_GROUP_ROW = 3  # a topic, its context card, the first copy: what one row may cost the group


class Renderer(Protocol):
    """Sends one kind of row: renders it in its reader's language from the state of now, sends it,
    and says what became of it. A Telegram error it raises is judged by `judge`."""

    kinds: tuple[str, ...]

    def mendable(self, row: Due) -> bool:
        """Its chat's refusals are its setup's (the agents' group), tried again without end."""

    async def load(self, rows: list[Due]) -> None:
        """What the claimed rows need, read for all of them at once (before any is delivered)."""

    async def deliver(self, row: Due) -> Verdict: ...

    async def follow_ups(self, row: Due, verdict: Verdict) -> Iterable[Post]:
        """Rows its outcome leads to (recorded with it)."""


def parallel_for(per_second: float, lease_seconds: float, *, per_row: int = 2, part: float = 0.25) -> int:
    """How many rows may be under way at once: no more than the budget sends in `part` of a lease
    (`per_row` messages each, at most), so none waits so long for its turn that its lease runs out."""
    return max(1, min(MAX_PARALLEL, int(per_second * lease_seconds * part / per_row)))


class InFlight(Protocol):
    @property
    def busy(self) -> frozenset[int]: ...


class OutboxSender(Claiming[Due]):
    name = "outbox"

    def __init__(self, outbox: Outbox, renderers: Iterable[Renderer], i18n: I18n, policy: RetryPolicy, *,
                 interval: float | None = 1.0, to_private: int = MAX_PARALLEL, to_group: int = 6,
                 writers: InFlight | None = None, batch: int = 200) -> None:
        """`writers`: the drivers whose updates are being handled now, whose messages for the agents
        wait (an earlier one may not be stored yet)."""
        super().__init__(interval)
        self.outbox = outbox
        self.renderers = {kind: renderer for renderer in renderers for kind in renderer.kinds}
        self.i18n = i18n
        self.policy = policy
        self.to_private = to_private
        self.to_group = to_group
        self.writers = writers
        self.batch = batch

    async def claim(self, flying: list[Due]) -> tuple[list[Due], bool]:
        with in_background():  # the database's connections go to drivers' taps first
            group_flying = sum(1 for row in flying if row.chat_id is None)
            rooms = {False: min(self.batch, self.to_private - (len(flying) - group_flying)),
                     True: min(self.batch, self.to_group - group_flying)}
            due: list[Due] = []
            more = False
            for to_group, room in rooms.items():
                skip = self.writers.busy if (to_group and self.writers is not None) else ()
                claimed = await self.outbox.claim(room, to_group=to_group, skip=skip, skip_kinds=WRITERS_WAIT,
                                                  mine=[row.id for row in flying])
                due.extend(claimed)
                more = more or (room > 0 and len(claimed) == room)
            by_renderer: dict[int, tuple[Renderer, list[Due]]] = {}
            for row in due:
                renderer = self.renderers.get(row.kind)
                if renderer is not None:
                    by_renderer.setdefault(id(renderer), (renderer, []))[1].append(row)
            for renderer, rows in by_renderer.values():
                await renderer.load(rows)
            return due, more

    def start(self) -> list[asyncio.Task]:
        tasks = super().start()
        if tasks:
            tasks.append(asyncio.create_task(self._renewing(), name="outbox leases"))
        return tasks

    async def _renewing(self) -> None:
        """A third of a lease apart, the leases of the rows under way renewed."""
        every = self.outbox.lease.total_seconds() / 3
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=every)
            flying = [row.id for row in self._flying.values()]
            try:
                with in_background():
                    await self.outbox.renew(flying)
            except DatabaseUnavailable as error:  # the rows' leases may run out, and be claimed again
                self.database_unavailable(error)
            except Exception as error:
                log.error("outbox: the leases of %d rows were not renewed:\n%s", len(flying), code_trace(error))

    async def release(self, rows: list[Due]) -> None:
        with in_background():
            await self.outbox.release([row.id for row in rows])

    async def deliver(self, row: Due) -> None:
        """The row sent and settled. Stopped meanwhile (a shutdown), a row that has not reached
        Telegram yet stops at once and is released; one that has is finished and written down
        first, or it would be sent again by the next sender."""
        mark = Committed()
        token = committed.set(mark)
        try:
            with in_background():  # the task inherits it: the database's connections go to drivers' taps first
                task = asyncio.ensure_future(self._deliver(row))
        finally:
            committed.reset(token)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not mark.sent:
                task.cancel()
            await asyncio.wait([task])
            raise

    async def _deliver(self, row: Due) -> None:
        renderer = self.renderers.get(row.kind)
        if renderer is None:  # a kind written by a newer version of the bot, say
            await self.outbox.settle(row, Failed(f"no renderer for {row.kind!r}"))
            return
        try:
            with self.i18n.context(), self.i18n.use_locale(row.language or self.i18n.default_locale):
                verdict = await renderer.deliver(row)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # Telegram's answer, or a fault: judged alike for every kind
            verdict = judge(error, row, self.policy, mendable=renderer.mendable(row))
            if not isinstance(error, (TelegramAPIError, TimeoutError, DatabaseUnavailable)):  # a fault of ours
                log.error("outbox: row %s (%s) failed:\n%s", row.id, row.kind, code_trace(error))
        _log(row, verdict)
        # Both waited for while the database is busy: what a send leads to (the driver's "Delivered")
        # is a message too, and a row sent and not recorded would be sent again.
        patience = self.outbox.lease.total_seconds() / 4
        try:
            follow_ups = list(await patiently(lambda: renderer.follow_ups(row, verdict), patience,
                                              "what an outcome leads to"))
        except DatabaseUnavailable as error:  # the outcome matters more: left unrecorded, it would be sent again
            log.warning("outbox: what row %s (%s) leads to was lost: the database was unavailable (%s)",
                        row.id, row.kind, error)
            follow_ups = []
        except Exception as error:
            log.error("outbox: what row %s (%s) leads to was lost:\n%s", row.id, row.kind, code_trace(error))
            follow_ups = []
        await patiently(lambda: self.outbox.settle(row, verdict, follow_ups), patience, "an outcome's record")
        if follow_ups:
            self.wake()


def _log(row: Due, verdict: Verdict) -> None:
    if isinstance(verdict, Sent):
        return
    if isinstance(verdict, Settled):
        log.info("outbox: row %s (%s) settled: %s", row.id, row.kind, verdict.reason)
    elif isinstance(verdict, Retry):
        log.info("outbox: row %s (%s) tried again in %.0fs: %s", row.id, row.kind, verdict.seconds, verdict.error)
    elif isinstance(verdict, Undeliverable):
        log.info("outbox: row %s (%s) to chat %s undeliverable: %s", row.id, row.kind, row.chat_id, verdict.error)
    else:
        log.warning("outbox: row %s (%s) failed for good: %s", row.id, row.kind, verdict.error)

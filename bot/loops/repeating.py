"""A background step run again and again until stopped: the workers and the notice sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

from handlers.common.faults import code_trace
from services.storage.unavailable import DatabaseUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class Repeating:
    """Runs `step()` every `interval` seconds until `stop()`; at once again while `step()` says
    more is waiting. A failed step is logged and tried again at the next round. `interval` None:
    nothing runs by itself (tests call the step).

    The database away (`DatabaseUnavailable`) is a condition, not a fault: one warning line when a
    step first meets it, silence while every round meets it again, one line when a step gets
    through. Any other failure is a fault, logged with its traceback each time."""

    name = "repeating"

    def __init__(self, interval: float | None) -> None:
        self.interval = interval
        self._stopping = asyncio.Event()
        self._nudged = asyncio.Event()  # stopping, or new work: the loop looks at once
        self._database_away = False

    async def step(self) -> object:
        raise NotImplementedError

    def start(self) -> list[asyncio.Task]:
        if self.interval is None:
            return []
        self._stopping.clear()
        return [asyncio.create_task(self._loop(), name=self.name)]

    async def stop(self) -> None:
        self._stopping.set()
        self._nudged.set()

    def wake(self) -> None:
        """Something is due now: the loop steps at once instead of at the end of its interval."""
        self._nudged.set()

    def database_unavailable(self, error: DatabaseUnavailable) -> None:
        """Said once, when the database goes; the rounds meeting it again add nothing to the log."""
        if not self._database_away:
            self._database_away = True
            log.warning("%s: the database is unavailable (%s); trying again every %ss until it answers", self.name,
                        error, self.interval)

    def database_answers(self) -> None:
        if self._database_away:
            self._database_away = False
            log.info("%s: the database answers again", self.name)

    def _stepped(self) -> None:
        """A step went through: the database answered it."""
        self.database_answers()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            self._nudged.clear()
            try:
                busy = await self.step()
            except DatabaseUnavailable as error:
                self.database_unavailable(error)
                busy = False
            except Exception as error:
                log.error("%s: a step failed; trying again in %ss:\n%s", self.name, self.interval, code_trace(error))
                busy = False
            else:
                self._stepped()
            if busy:
                continue  # more may be due: on at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), timeout=self.interval)


class Claiming(Repeating, Generic[T]):
    """A sender of claimed work: keeps the claimed items under way at once, each in its own task,
    and claims more as they end, so one slow item (waiting for its chat's budget, or for
    Telegram) holds up nobody else and the outgoing budget, not the batches, sets the pace. An item
    whose task fails is logged; its lease runs out and it is claimed again."""

    GATHER_SECONDS = 0.05

    def __init__(self, interval: float | None) -> None:
        super().__init__(interval)
        self._flying: dict[asyncio.Task, T] = {}
        # A claim and the start of its items, as one step: between the two the items are claimed in
        # the database and under way nowhere, and a `run_once` then (a drain) would find nothing to
        # do and nothing flying, and return before they are sent.
        self._claiming = asyncio.Lock()

    @property
    def under_way(self) -> int:
        """How many claimed items are being delivered now (the demo waits for them)."""
        return len(self._flying)

    async def claim(self, flying: list[T]) -> tuple[list[T], bool]:
        """What to start now, given what is under way; and whether more may be due at once."""
        raise NotImplementedError

    async def deliver(self, item: T) -> None:
        raise NotImplementedError

    async def release(self, items: list[T]) -> None:
        """Claimed items this sender will not try after all (it is stopping): due again at once."""
        raise NotImplementedError

    async def step(self) -> bool:
        """Claim what there is room for; then, while items are under way, wait for some to end
        and say so, so the loop claims again at once."""
        async with self._claiming:
            due, more = await self.claim(list(self._flying.values()))
            self.database_answers()
            if self._stopping.is_set():  # stopped while claiming: for the successor
                await self.release(due)
                return False
            for item in due:
                task = asyncio.ensure_future(self.deliver(item))
                self._flying[task] = item
                task.add_done_callback(self._landed)
        if more:
            return True
        if not self._flying:
            return False
        nudged = asyncio.ensure_future(self._nudged.wait())
        try:
            await asyncio.wait([*self._flying, nudged], timeout=self.interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            nudged.cancel()
        await asyncio.sleep(self.GATHER_SECONDS)  # the ends of this moment, for one claim
        return True

    def _stepped(self) -> None:
        """Said by the claim itself: a step also waits for deliveries, which may meet the database
        gone after the claim got through."""

    def _landed(self, task: asyncio.Task) -> None:
        item = self._flying.pop(task)
        if not task.cancelled() and task.exception() is not None:
            self._failed(item, task.exception())

    def _failed(self, item: T, error: BaseException) -> None:
        """An item whose delivery failed: its lease runs out and it is claimed again."""
        if isinstance(error, DatabaseUnavailable):
            self.database_unavailable(error)
        else:
            log.error("%s: %r failed:\n%s", self.name, item, code_trace(error))

    async def stop(self) -> None:
        """What is under way ends at its next step (each send recorded first, if `deliver` says
        so); what had not been done yet is released, for this sender's successor."""
        await super().stop()
        flying = dict(self._flying)
        for task in flying:
            task.cancel()
        if flying:
            await asyncio.wait(list(flying))
            try:
                await self.release(list(flying.values()))
            except DatabaseUnavailable as error:  # their leases run out instead
                log.warning("%s: could not release %d claimed items (%s)", self.name, len(flying), error)
            except Exception as error:
                log.error("%s: could not release %d claimed items:\n%s", self.name, len(flying), code_trace(error))

    async def run_once(self) -> int:
        """One claim, every item of it delivered before it returns (tests, and a sender without
        its loop). Returns how many were claimed."""
        async with self._claiming:  # after a step's claim, whose items are then flying
            due, _ = await self.claim([])
        tasks = [asyncio.ensure_future(self.deliver(item)) for item in due]
        try:
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        except asyncio.CancelledError:
            # Stopped: each item ends at its next step, but what it sent is recorded first; gather
            # alone would return at the first one that ends.
            if tasks:
                await asyncio.wait(tasks)
            raise
        for item, outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, Exception):
                self._failed(item, outcome)
        return len(due)

    async def drain(self) -> None:
        """Until nothing is due now and nothing is under way (the tests and the demo wait so)."""
        while True:
            while self._flying:
                await asyncio.wait(list(self._flying))
            if not await self.run_once() and not self._flying:
                return


async def whole(step: Coroutine[Any, Any, R]) -> R:
    """A send and the record of its message id, finished even when the sender is cancelled meanwhile
    (a stop, a shutdown): cancelled between the two, the message would be sent again on resume."""
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise

"""Group commit: requests that arrive while one batch is being written wait for the next batch, and
each batch is one round of statements for all of them.

A rush of a thousand drivers tapping at once would otherwise make a thousand transactions, one
after another on SQLite's single writer, each with its own commit; as a batch they cost a few
statements. A request waits at most for the batch in front of it.

While a batch runs, `oldest_wait()` says since when its oldest request has waited: the database
counts a batch's statement timeout from then (`services.storage.database`), so a request that waited for
the batch in front of it does not wait a whole timeout more for its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")

MAX_BATCH = 2000

# (time.monotonic() when the running batch's oldest request arrived, the task running the batch).
# Only that task counts from it: a task started meanwhile inherits the variable, not the wait.
_waiting_since: ContextVar[tuple[float, asyncio.Task | None] | None] = ContextVar("batch_waiting_since", default=None)


def oldest_wait() -> float | None:
    """Since when (time.monotonic()) the oldest request of the batch this task runs has waited."""
    held = _waiting_since.get()
    if held is None or held[1] is not asyncio.current_task():
        return None
    return held[0]


class Batcher(Generic[Request, Result]):
    """Feeds `run` the requests queued meanwhile, in arrival order; `run` answers each one, in the
    same order, with its result or the exception that is its own fault. An exception raised by
    `run` itself is the whole batch's: every request of it hears of it."""

    def __init__(self, run: Callable[[list[Request]], Awaitable[Sequence[Result | BaseException]]],
                 max_batch: int = MAX_BATCH) -> None:
        self._run = run
        self._max_batch = max_batch
        self._queue: list[tuple[Request, asyncio.Future, float]] = []
        self._runner: asyncio.Task | None = None

    async def __call__(self, request: Request) -> Result:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((request, future, time.monotonic()))
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the requests of this very moment join the first batch
        while self._queue:
            batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
            waiting = _waiting_since.set((min(arrived for _, _, arrived in batch), asyncio.current_task()))
            try:
                results: Sequence[Result | BaseException] = await self._run([request for request, _, _ in batch])
            except Exception as exc:
                results = [exc] * len(batch)
            finally:
                _waiting_since.reset(waiting)
            for (_, future, _), result in zip(batch, results, strict=True):
                if future.done():  # its caller stopped waiting (a timeout, a shutdown)
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

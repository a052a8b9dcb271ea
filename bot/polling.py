"""Long polling that confirms an update to Telegram only after its handler has finished.

aiogram's `Dispatcher.start_polling` moves getUpdates' `offset` past every update as soon as it is
fetched and handles the update in a background task; the next getUpdates then confirms updates whose
handlers may not have run yet. A process that dies in a burst has confirmed taps it never answered,
and Telegram never sends them again. `Poller` keeps them with Telegram until they are handled: a
process killed at any moment leaves its unfinished updates to the next one (at-least-once delivery;
the handlers are idempotent).

Telegram's `offset` confirms a prefix, every update below it. So the offset sent is the lowest update
still being handled (or one past the highest fetched, when none is). getUpdates then returns again
the updates in flight and those finished above them; they are not started twice. Updates of a batch
are handled concurrently (a rush of taps is batched by the booking engine, not serialised here), and
at most one batch, Telegram's 100, is in flight beyond the oldest unfinished update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from pydantic import ValidationError

log = logging.getLogger(__name__)

BATCH = 100  # getUpdates' largest `limit`
# aiogram's own backoff between failed getUpdates: 1 s growing to 5 s.
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)
# A handler still running after this long stops holding the offset back (it goes on running): one
# stuck update must not stop every driver's updates behind it. The same limit as aiogram's webhook
# handler, which answers Telegram after 55 s and lets the handler go on, before Telegram gives up.
SLOW_HANDLER_SECONDS = 55.0
# While updates are in flight and the last answer had room for more, new ones may be waiting
# behind them: getUpdates is asked again this often, if the oldest in flight has not finished sooner.
REPOLL_SECONDS = 0.5


class _RawUpdates(GetUpdates):
    """getUpdates answered with plain dicts: the updates in flight come back in every answer while
    they hold the offset, and only the new ones are worth parsing into `Update`s."""

    __returning__ = list[dict[str, Any]]


class Poller:
    """Fetches updates with getUpdates and feeds them to the dispatcher; `stop()` finishes what is in
    flight and confirms it."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, *, timeout: int, allowed_updates: list[str],
                 backoff: BackoffConfig = BACKOFF, slow_after: float = SLOW_HANDLER_SECONDS) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.timeout = timeout
        self.allowed_updates = allowed_updates
        self.backoff = backoff
        self.slow_after = slow_after
        self._in_flight: dict[int, asyncio.Task] = {}
        self._slow: set[int] = set()  # in flight, but no longer holding the offset back
        self._finished: set[int] = set()  # done, but above an update still in flight: not confirmed yet
        self._highest: int | None = None  # the highest update id fetched
        self._confirmed: int | None = None  # the offset Telegram was last sent
        self._offset_moved = asyncio.Event()
        self._stopping = asyncio.Event()

    @property
    def offset(self) -> int | None:
        """What getUpdates confirms: every update below the lowest one still in flight."""
        holding = self._holding()
        if holding:
            return min(holding)
        return None if self._highest is None else self._highest + 1

    def _holding(self) -> list[int]:
        """The updates in flight that hold the offset back."""
        return [update_id for update_id in self._in_flight if update_id not in self._slow]

    async def run(self) -> None:
        failures = Backoff(self.backoff)
        log.info("polling for updates: %s", ", ".join(self.allowed_updates))
        while not self._stopping.is_set():
            self._offset_moved.clear()  # a move during the request below counts
            try:
                updates = await self._fetch(timeout=self.timeout)
            except Exception as exc:  # the network or Telegram: keep polling, as aiogram does
                delay = next(failures)
                log.error("getUpdates failed (%s: %s); trying again in %.1f s", type(exc).__name__, exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            if updates is None:  # stopping
                break
            if failures.counter:
                log.info("getUpdates works again after %d failures", failures.counter)
                failures.reset()
            for raw in updates:
                if raw["update_id"] not in self._in_flight and raw["update_id"] not in self._finished:
                    self._start(raw)
            if self._holding():
                # Until the offset moves, Telegram answers with the same updates again (and at once,
                # though nothing new came), so wait for that. With room left in the batch, new updates
                # may be waiting behind those in flight: ask again before long in any case.
                await self._wait_for_offset(None if len(updates) >= BATCH else REPOLL_SECONDS)
        await self._finish()

    async def stop(self) -> None:
        """Ends run(): no new updates are fetched, those in flight finish and are confirmed."""
        self._stopping.set()

    async def _fetch(self, *, timeout: int, limit: int = BATCH) -> list[dict[str, Any]] | None:
        """One getUpdates with the current offset; None if stop() came first."""
        request = _RawUpdates(offset=self.offset, limit=limit, timeout=timeout, allowed_updates=self.allowed_updates)
        offset = request.offset
        # The session's own timeout must outlast the long poll, or a quiet minute looks like a failure.
        fetching = asyncio.ensure_future(self.bot(request, request_timeout=int(self.bot.session.timeout + timeout)))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not fetching.done():
            # Unread answers confirm nothing: what it would have returned comes back next time.
            fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetching
            return None
        updates = fetching.result()
        self._confirmed = offset
        self._finished = {update_id for update_id in self._finished if offset is None or update_id >= offset}
        return updates

    def _start(self, raw: dict[str, Any]) -> None:
        update_id = raw["update_id"]
        self._highest = update_id if self._highest is None else max(self._highest, update_id)
        try:
            update = Update.model_validate(raw, context={"bot": self.bot})
        except ValidationError as exc:  # confirmed unread: it would fail the same way every time
            log.error("update %s cannot be read and is skipped: %s; update: %.2000s", update_id, exc, raw)
            self._finished.add(update_id)
            return
        task = asyncio.create_task(self._handle(update), name=f"update-{update_id}")
        self._in_flight[update_id] = task
        slow = asyncio.get_running_loop().call_later(self.slow_after, self._too_slow, update_id)

        def done(_: asyncio.Task) -> None:
            slow.cancel()
            offset = self.offset
            del self._in_flight[update_id]
            self._slow.discard(update_id)
            if not task.cancelled():  # cancelled at shutdown: not handled, so not confirmed
                self._finished.add(update_id)
            if self.offset != offset:
                self._offset_moved.set()

        task.add_done_callback(done)

    async def _handle(self, update: Update) -> None:
        try:
            response = await self.dispatcher.feed_update(self.bot, update)
            if isinstance(response, TelegramMethod):  # a handler's reply in webhook style
                await self.dispatcher.silent_call_request(self.bot, response)
        except Exception:
            # Confirmed all the same: the errors router has already answered the driver if it could,
            # and an update that fails every time would come back forever and hold the offset.
            log.exception("update %s failed outside the error handler; it is confirmed anyway", update.update_id)

    def _too_slow(self, update_id: int) -> None:
        if update_id in self._in_flight:
            log.warning("update %s is still being handled after %.0f s; no longer waiting for it to confirm "
                        "the updates after it", update_id, self.slow_after)
            self._slow.add(update_id)
            self._offset_moved.set()

    async def _wait_for_offset(self, timeout: float | None) -> None:
        waiting = {asyncio.ensure_future(self._offset_moved.wait()), asyncio.ensure_future(self._stopping.wait())}
        try:
            await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiting:
                waiter.cancel()

    async def _finish(self) -> None:
        """Let the handlers in flight finish, then confirm them (a short getUpdates, answers unread)."""
        if self._in_flight:
            log.info("finishing %d updates in flight before stopping", len(self._in_flight))
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        if self.offset is None or self.offset == self._confirmed:
            return
        try:
            await self.bot(GetUpdates(offset=self.offset, limit=1, timeout=0))
        except Exception as exc:  # they come again to the next process: at least once, still
            log.warning("could not confirm the last updates (%s: %s); they will be delivered again",
                        type(exc).__name__, exc)

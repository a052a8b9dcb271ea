"""Long polling in which no fetched update is lost, even if the process dies mid-burst.

aiogram's `Dispatcher.start_polling` moves getUpdates' `offset` past every update as soon as it is
fetched and handles it in a background task: a process that dies in a burst has confirmed taps it
never answered, and Telegram never sends them again. Holding the offset back until every handler
has finished would keep them, but Telegram's offset confirms a prefix: one slow handler (a reply
waiting out a 429 in a flooded chat, say) would hold back everyone else's updates behind it.

So every fetched update is kept in the database (`services.storage.inbox`), in one write per
getUpdates, before a later getUpdates confirms it to Telegram; its handler starts at once. Handlers run
concurrently (a rush of taps is batched by the booking engine, not serialised here); a handled
update leaves the inbox in the next write. At start, the updates an earlier process kept and did
not finish are handled first (at-least-once delivery; the handlers are idempotent).

The writes run beside the polling, one at a time: a write that waits for a frozen database holds
back the confirmation of its updates, not the fetching of new ones, which are asked for again
every `REPOLL_SECONDS` meanwhile (Telegram answers at once while unconfirmed updates remain). So a
driver's tap in a freeze is fetched within that, and answered "try again shortly" within the
database's timeout of its own, not after the write in front of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from pydantic import ValidationError

from handlers.common.faults import code_trace, update_context
from services.storage.inbox import Inbox

log = logging.getLogger(__name__)

BATCH = 100  # getUpdates' largest `limit`
# aiogram's own backoff between failed getUpdates: 1 s growing to 5 s.
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)
# Handled updates leave the inbox with the next fetched ones; in a quiet minute, after this long.
FORGET_SECONDS = 2.0
# While updates the database has not kept (yet) hold the offset back, getUpdates is asked again
# this often.
REPOLL_SECONDS = 0.5


class _RawUpdates(GetUpdates):
    """getUpdates answered with plain dicts: kept as JSON as they came, parsed once."""

    __returning__ = list[dict[str, Any]]


class Poller:
    """Fetches updates with getUpdates, keeps them in the inbox, feeds them to the dispatcher;
    `stop()` finishes what is in flight."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, inbox: Inbox, *, timeout: int, allowed_updates: list[str],
                 backoff: BackoffConfig = BACKOFF) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.inbox = inbox
        self.timeout = timeout
        self.allowed_updates = allowed_updates
        self.backoff = backoff
        self.offset: int | None = None  # what the next getUpdates confirms: every update below it
        self._in_flight: dict[int, asyncio.Task] = {}
        self._started: set[int] = set()  # at or above the offset: Telegram may send these again
        self._handled: set[int] = set()  # done, still in the inbox
        self._unkept: set[int] = set()  # in flight, the database could not keep them: Telegram keeps them
        self._to_keep: dict[int, dict[str, Any]] = {}  # fetched, for the inbox's next write
        self._keeping: set[int] = set()  # in the inbox's write under way
        self._writer: asyncio.Task | None = None  # that write
        self._stopping = asyncio.Event()
        self._newest = 0  # the newest update id started so far
        self._fetched = -1  # the newest update id fetched so far

    async def run(self) -> None:
        failures = Backoff(self.backoff)
        log.info("polling for updates: %s", ", ".join(self.allowed_updates))
        left = await self._unhandled(failures)
        if left:
            log.info("handling %d updates an earlier process received and did not finish", len(left))
            for update_id, payload in left.items():
                self._start(update_id, json.loads(payload))
        while not self._stopping.is_set():
            try:
                updates = await self._fetch()
            except Exception as exc:  # the network or Telegram: keep polling, as aiogram does
                delay = next(failures)
                log.error("polling failed (%s: %s); trying again in %.1f s", type(exc).__name__, exc, delay)
                await self._pause(delay)
                continue
            if updates is None:  # stopping
                break
            if failures.counter:
                log.info("polling works again after %d failures", failures.counter)
                failures.reset()
            fresh = {u["update_id"]: u for u in updates if u["update_id"] not in self._started}
            # Handled at once, not after the write: only the offset waits for the inbox, so a slow
            # or frozen database delays no answer (and a frozen one is answered "try again shortly").
            for update_id, raw in fresh.items():
                self._start(update_id, raw)
            self._to_keep.update(fresh)
            self._write()
            if updates:
                self._fetched = max(self._fetched, updates[-1]["update_id"])
            if self._held():
                # Until they are kept or finish, getUpdates would answer at once with them again.
                await self._wait_for_unkept()
            if self._fetched >= 0:
                # Telegram forgets everything below the offset: never an update that only it still has.
                self.offset = min([self._fetched + 1, *self._held()])
                self._started = {update_id for update_id in self._started if update_id >= self.offset}
        await self._finish()

    async def stop(self) -> None:
        """Ends run(): no new updates are fetched, those in flight finish and leave the inbox."""
        self._stopping.set()

    async def _fetch(self) -> list[dict[str, Any]] | None:
        """One getUpdates; None if stop() came first. With handled updates to forget, a long poll
        is cut short so they leave the inbox before long."""
        timeout = self.timeout if not self._handled else min(self.timeout, int(FORGET_SECONDS))
        request = _RawUpdates(offset=self.offset, limit=BATCH, timeout=timeout, allowed_updates=self.allowed_updates)
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
        return fetching.result()

    async def handled(self, update_id: int, poll: float = 0.005) -> None:
        """Wait until every update up to `update_id` has been fetched and its handler has finished:
        for a simulation that drives the bot, then moves its clock."""
        while self._newest < update_id or any(i <= update_id for i in self._in_flight):
            waiting = [task for i, task in self._in_flight.items() if i <= update_id]
            if waiting:
                await asyncio.wait(waiting)
            else:
                await asyncio.sleep(poll)

    def _start(self, update_id: int, raw: dict[str, Any]) -> None:
        self._started.add(update_id)
        self._newest = max(self._newest, update_id)
        try:
            update = Update.model_validate(raw, context={"bot": self.bot})
        except ValidationError as exc:  # it would fail the same way every time: out of the inbox
            # Where and why, not the values: they are the users' names and words.
            problems = exc.errors(include_url=False, include_input=False, include_context=False)
            log.error("update %s cannot be read and is skipped: %s", update_id,
                      "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['type']}" for p in problems))
            self._handled.add(update_id)
            return
        task = asyncio.create_task(self._handle(update), name=f"update-{update_id}")
        self._in_flight[update_id] = task

        def done(_: asyncio.Task) -> None:
            del self._in_flight[update_id]
            self._unkept.discard(update_id)
            if not task.cancelled():  # cancelled at shutdown: not handled, so it stays in the inbox
                self._handled.add(update_id)

        task.add_done_callback(done)

    async def _handle(self, update: Update) -> None:
        try:
            response = await self.dispatcher.feed_update(self.bot, update)
            if isinstance(response, TelegramMethod):  # a handler's reply in webhook style
                await self.dispatcher.silent_call_request(self.bot, response)
        except Exception as error:
            # Out of the inbox all the same: the errors router has already answered the driver if it
            # could, and an update that fails every time would come back with every start.
            log.error("update %s (%s) failed outside the error handler; it is not tried again:\n%s",
                      update.update_id, update_context(update), code_trace(error))

    def _held(self) -> set[int]:
        """What the offset may not pass yet: updates waiting for the inbox's write or in it, and
        those in flight that it could not keep."""
        return self._to_keep.keys() | self._keeping | self._unkept

    def _write(self) -> None:
        """The inbox's next write, after the one under way (if any): one at a time, so the removal
        of a handled update never comes before its own insertion."""
        if self._writer is None or self._writer.done():
            if self._to_keep or self._handled:
                self._writer = asyncio.ensure_future(self._writes())

    async def _writes(self) -> None:
        """One write of what was fetched and handled so far; again while more was fetched
        meanwhile (what is handled meanwhile waits for the next, as one write per getUpdates)."""
        while True:
            fresh, self._to_keep = self._to_keep, {}
            self._keeping = set(fresh)
            try:
                if not await self._keep(fresh):
                    self._unkept |= fresh.keys() & self._in_flight.keys()
            finally:
                self._keeping = set()
            if not self._to_keep:
                return

    async def _keep(self, fresh: dict[int, dict[str, Any]]) -> bool:
        """The fetched updates into the inbox, the handled ones out of it, in one write. False when
        the database cannot take it: the updates are handled all the same (a frozen database is
        answered with "try again shortly"), and stay with Telegram until they are done."""
        handled, self._handled = self._handled, set()
        unfinished = {i: json.dumps(u, ensure_ascii=False) for i, u in fresh.items() if i not in handled}
        try:
            await self.inbox.keep(unfinished, handled)
        except Exception as exc:
            self._handled |= handled
            if fresh:
                log.warning("the inbox could not keep %d updates (%s: %s); they stay with Telegram until handled",
                            len(fresh), type(exc).__name__, exc)
            return False
        return True

    async def _wait_for_unkept(self) -> None:
        """Until the inbox's write ends, an unkept update finishes, or `REPOLL_SECONDS` have passed."""
        waiting = [self._in_flight[update_id] for update_id in self._unkept if update_id in self._in_flight]
        if self._writer is not None and not self._writer.done():
            waiting.append(self._writer)
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({*waiting, stopping}, timeout=REPOLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()

    async def _unhandled(self, failures: Backoff) -> dict[int, str]:
        while not self._stopping.is_set():
            try:
                return await self.inbox.unhandled()
            except Exception as exc:
                delay = next(failures)
                log.error("polling failed (%s: %s); trying again in %.1f s", type(exc).__name__, exc, delay)
                await self._pause(delay)
        return {}

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _finish(self) -> None:
        """Let the handlers in flight finish, forget them, and confirm what was kept."""
        if self._in_flight:
            log.info("finishing %d updates in flight before stopping", len(self._in_flight))
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._fetched >= 0:  # everything fetched has finished: the inbox need not keep any of it
            self.offset = self._fetched + 1
        try:
            await self.inbox.keep({}, self._handled)
        except Exception as exc:  # handled again by the next process: at least once, still
            log.warning("could not clear the inbox (%s: %s); the next start handles those updates again",
                        type(exc).__name__, exc)
        if self.offset is None:
            return
        try:
            await self.bot(GetUpdates(offset=self.offset, limit=1, timeout=0))
        except Exception as exc:  # they are in the inbox, or come again from Telegram: not lost
            log.warning("could not confirm the last updates (%s: %s); they will be delivered again",
                        type(exc).__name__, exc)

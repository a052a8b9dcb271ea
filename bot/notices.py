"""The sender worker: delivers the outbox (`services.notices.sender`) to Telegram.

Each delivery first shows its event on the crossing's status card (posted once, silently, then
edited in place), and, when the event rings, sends a new message saying what to do. Telegram's
answer decides what happens next: 403 (the chat blocked the bot) makes the delivery undeliverable,
429 comes back when Telegram says without spending an attempt, a 5xx, a timeout or a network
fault is tried again with backoff, up to `notices.retry_limit` attempts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError,
)
from aiogram.utils.i18n import I18n

from bot.loop import Repeating
from bot.outgoing import sending_at
from handlers.notices import screens
from services.notices.cards import Card
from services.notices.sender import DueNotice, NoticeOutbox
from services.outgoing import ACTION, SILENT
from services.rules import Checkpoint

log = logging.getLogger(__name__)
T = TypeVar("T")
GONE = ("message to edit not found", "message can't be edited")  # the driver deleted the card
GATHER_SECONDS = 0.05
MAX_PARALLEL = 1000


def parallel_for(messages_per_second: float, lease_seconds: float) -> int:
    """How many deliveries may be under way at once: no more than the budget sends in an eighth of
    a lease (two messages each, at most), so none waits so long that its lease runs out and
    another claim takes it again, even with the budget shared with drivers' answers."""
    return max(1, min(MAX_PARALLEL, int(messages_per_second * lease_seconds / 8)))


class NoticeSender(Repeating):
    """Keeps up to `parallel` deliveries under way, each of another chat, and claims more as they
    end: a slow chat (waiting for its own bucket, or for Telegram) holds up nobody else, and the
    outgoing budget, not the batches, sets the pace."""

    name = "notices"

    def __init__(self, bot: Bot, outbox: NoticeOutbox, checkpoints: dict[str, Checkpoint], i18n: I18n, *,
                 interval: float | None = 1.0, batch: int = 200, parallel: int = MAX_PARALLEL) -> None:
        """`interval`: how long an idle sender waits before it looks again; None: tests call
        `send_due` themselves."""
        super().__init__(interval)
        self.bot = bot
        self.outbox = outbox
        self.checkpoints = checkpoints
        self.i18n = i18n
        self.batch = batch
        self.parallel = parallel
        self._flying: dict[asyncio.Task, DueNotice] = {}

    async def step(self) -> bool:
        """Claim what there is room for; then, while deliveries are under way, wait for some to end
        (their chats' next notices become due) and say so, so the loop claims again at once."""
        room = min(self.batch, self.parallel - len(self._flying))
        if room > 0:
            due = await self.outbox.claim(room)
            if self._stopping.is_set():  # stopped while claiming: for the successor
                await self.outbox.release([notice.delivery_id for notice in due])
                return False
            for notice in due:
                task = asyncio.ensure_future(self._deliver(notice))
                self._flying[task] = notice
                task.add_done_callback(self._landed)
            if len(due) == room:
                return True  # a full claim: more may be due
        if not self._flying:
            return False
        await asyncio.wait(list(self._flying), timeout=self.interval, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.sleep(GATHER_SECONDS)  # the ends of this moment, for one claim
        return True

    def _landed(self, task: asyncio.Task) -> None:
        notice = self._flying.pop(task)
        if not task.cancelled() and task.exception() is not None:  # its lease runs out and it is tried again
            log.error("notice %s failed", notice.delivery_id, exc_info=task.exception())

    async def stop(self) -> None:
        """What is under way ends at its next step, each send recorded first (`_whole`); what had
        not been sent yet is due again at once, for this sender's successor."""
        await super().stop()
        flying = dict(self._flying)
        for task in flying:
            task.cancel()
        if flying:
            await asyncio.wait(list(flying))
            try:
                await self.outbox.release([notice.delivery_id for notice in flying.values()])
            except Exception:  # their leases run out instead
                log.exception("notices: could not release %d claimed notices", len(flying))

    async def send_due(self) -> int:
        """One batch: every claimed delivery at once (at most one per chat), paced by the outgoing
        budget, all ended before it returns (tests, and a sender without its loop). Returns how
        many were claimed."""
        due = await self.outbox.claim(self.batch)
        tasks = [asyncio.ensure_future(self._deliver(notice)) for notice in due]
        try:
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        except asyncio.CancelledError:
            # Stopped: each delivery ends at its next step, but what it sent is recorded first;
            # gather alone would return at the first one that ends.
            if tasks:
                await asyncio.wait(tasks)
            raise
        for notice, outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, Exception):  # its lease runs out and it is tried again
                log.error("notice %s failed", notice.delivery_id, exc_info=outcome)
        return len(due)

    async def _deliver(self, notice: DueNotice) -> None:
        checkpoint = self.checkpoints.get(notice.event.checkpoint)
        if checkpoint is None:
            await self.outbox.undeliverable(notice.delivery_id, f"unknown checkpoint {notice.event.checkpoint!r}")
            return
        language = notice.language or self.i18n.default_locale
        try:
            with self.i18n.context(), self.i18n.use_locale(language):
                await self._show(notice, checkpoint, language)
        except TelegramForbiddenError as exc:
            log.info("notice %s: chat %s cannot be reached: %s", notice.delivery_id, notice.account_id, exc.message)
            await self.outbox.undeliverable(notice.delivery_id, f"403 {exc.message}")
        except TelegramRetryAfter as exc:
            await self.outbox.retry_later(notice.delivery_id, exc.retry_after, f"429 {exc.message}")
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
            if await self.outbox.failed(notice.delivery_id, notice.attempts, error):
                log.info("notice %s: %s; trying again later", notice.delivery_id, error)
            else:
                log.warning("notice %s: %s; given up after %s attempts", notice.delivery_id, error,
                            self.outbox.retry_limit)
        except TelegramBadRequest as exc:  # nothing a retry would change
            log.warning("notice %s refused: %s", notice.delivery_id, exc.message)
            await self.outbox.undeliverable(notice.delivery_id, f"400 {exc.message}")

    async def _show(self, notice: DueNotice, checkpoint: Checkpoint, language: str) -> None:
        """The card updated, then the ringing message if any; the delivery is recorded as sent with
        the id of the message that tells the driver of this event (the ringing one, else the card)."""
        stored = notice.card
        shown = stored.with_event(notice.event)
        with sending_at(SILENT):
            card_message = await _whole(self._card(notice.account_id, stored, shown, checkpoint, language))
        if not notice.ring:
            await self.outbox.sent(notice.delivery_id, card_message)
            return
        with sending_at(ACTION):
            await _whole(self._ring(notice, checkpoint, language))

    async def _ring(self, notice: DueNotice, checkpoint: Checkpoint, language: str) -> None:
        screen = screens.action(notice.event, checkpoint, language)
        sent = await self.bot.send_message(chat_id=notice.account_id, **screen.as_kwargs())
        await self.outbox.sent(notice.delivery_id, sent.message_id)

    async def _card(self, chat_id: int, stored: Card, shown: Card, checkpoint: Checkpoint, language: str) -> int:
        """Post the card, or edit it in place; its message id is recorded at once, so a restart
        edits this message instead of posting a second card."""
        if stored.message_id is not None and shown == stored:
            return stored.message_id  # a retried delivery whose event the card shows already
        screen = screens.card(shown, checkpoint, language)
        message_id = stored.message_id
        if message_id is not None:
            try:
                await self.bot.edit_message_text(chat_id=chat_id, message_id=message_id, **screen.as_kwargs())
            except TelegramBadRequest as exc:
                if any(reason in exc.message for reason in GONE):
                    message_id = None
                elif "message is not modified" not in exc.message:
                    raise
        if message_id is None:
            sent = await self.bot.send_message(chat_id=chat_id, disable_notification=True, **screen.as_kwargs())
            message_id = sent.message_id
        await self.outbox.card_shown(chat_id, shown, message_id)
        return message_id


async def _whole(step: Coroutine[Any, Any, T]) -> T:
    """A send and the record of its message id, finished even when the sender is cancelled meanwhile
    (a stop, a shutdown): cancelled between the two, the message would be sent again on resume."""
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise

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


class NoticeSender(Repeating):
    name = "notices"

    def __init__(self, bot: Bot, outbox: NoticeOutbox, checkpoints: dict[str, Checkpoint], i18n: I18n, *,
                 interval: float | None = 1.0, batch: int = 50) -> None:
        """`interval`: how long an idle sender waits before it looks again; None: tests call
        `send_due` themselves."""
        super().__init__(interval)
        self.bot = bot
        self.outbox = outbox
        self.checkpoints = checkpoints
        self.i18n = i18n
        self.batch = batch

    async def step(self) -> int:
        return await self.send_due()  # a full batch: more may be due, and goes on at once

    async def send_due(self) -> int:
        """One batch: every claimed delivery at once (at most one per chat), paced by the outgoing
        budget. Returns how many were claimed."""
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
        stored = await self.outbox.card(notice)
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

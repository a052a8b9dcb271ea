"""The sender worker: delivers the outbox (`services.notices.sender`) to Telegram.

Each delivery first shows its event on the crossing's status card (posted once, silently, then
edited in place), and, when the event rings, sends a new message saying what to do. Telegram's
answer decides what happens next: 403 (the chat blocked the bot) makes the delivery undeliverable,
429 comes back when Telegram says without spending an attempt, a 5xx, a timeout or a network
fault is tried again with backoff, up to `notices.retry_limit` attempts.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError,
)
from aiogram.utils.i18n import I18n

from bot.loop import Claiming, whole
from handlers.notices import screens
from services.kernel.rules import Checkpoint
from services.limits.outgoing import ACTION, SILENT, sending_at
from services.notices.cards import Card
from services.notices.sender import DueNotice, NoticeOutbox

log = logging.getLogger(__name__)
GONE = ("message to edit not found", "message can't be edited")  # the driver deleted the card
MAX_PARALLEL = 1000


def parallel_for(messages_per_second: float, lease_seconds: float) -> int:
    """How many deliveries may be under way at once: no more than the budget sends in an eighth of
    a lease (two messages each, at most), so none waits so long that its lease runs out and
    another claim takes it again, even with the budget shared with drivers' answers."""
    return max(1, min(MAX_PARALLEL, int(messages_per_second * lease_seconds / 8)))


class NoticeSender(Claiming[DueNotice]):
    """Keeps up to `parallel` deliveries under way, each of another chat, and claims more as they
    end (their chats' next notices become due)."""

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

    async def claim(self, flying: list[DueNotice]) -> tuple[list[DueNotice], bool]:
        room = min(self.batch, self.parallel - len(flying))
        if room <= 0:
            return [], False
        due = await self.outbox.claim(room)
        return due, len(due) == room  # a full claim: more may be due

    async def release(self, notices: list[DueNotice]) -> None:
        await self.outbox.release([notice.delivery_id for notice in notices])

    async def send_due(self) -> int:
        """One batch: every claimed delivery at once (at most one per chat), paced by the outgoing
        budget, all ended before it returns. Returns how many were claimed."""
        return await self.run_once()

    async def deliver(self, notice: DueNotice) -> None:
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
            card_message = await whole(self._card(notice.account_id, stored, shown, checkpoint, language))
        if not notice.ring:
            await self.outbox.sent(notice.delivery_id, card_message)
            return
        with sending_at(ACTION):
            await whole(self._ring(notice, checkpoint, language))

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

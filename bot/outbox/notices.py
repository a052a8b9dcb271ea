"""Renders a notice of the border system's event: the crossing's status card (posted once, silently,
then edited in place) and, when the event rings, a new message saying what to do.

The ringing message never depends on the card: a card Telegram refuses is logged and the driver
still hears what to do; a card that failed for a moment (a 5xx, the network) is tried again with
the row, after the ringing message is written down, so that it is not sent twice.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.utils.i18n import I18n

from bot.outbox.answers import GONE, UNCHANGED
from handlers.notices import screens
from services.notices.cards import Card
from services.notices.deliveries import DueNotice, NoticeDeliveries
from services.outbox.kinds import Kind
from services.outbox.outbox import Due, Failed, Outbox, Post, Sent, Verdict
from services.limits.outgoing import ACTION, SILENT, sending_at
from services.kernel.rules import Checkpoint

log = logging.getLogger(__name__)


class NoticeRenderer:
    kinds = (Kind.NOTICE,)

    def mendable(self, row: Due) -> bool:
        return False

    def __init__(self, bot: Bot, notices: NoticeDeliveries, outbox: Outbox, checkpoints: dict[str, Checkpoint],
                 i18n: I18n) -> None:
        self.bot = bot
        self.notices = notices
        self.outbox = outbox
        self.checkpoints = checkpoints
        self.i18n = i18n
        self._loaded: dict[int, DueNotice] = {}

    async def load(self, rows: list[Due]) -> None:
        found = await self.notices.load([(row.chat_id, row.event_id) for row in rows])
        for row in rows:
            notice = found.get((row.chat_id, row.event_id))
            if notice is not None:
                self._loaded[row.id] = notice

    async def follow_ups(self, row: Due, verdict: Verdict) -> list[Post]:
        return []

    async def deliver(self, row: Due) -> Verdict:
        notice = self._loaded.pop(row.id, None)
        if notice is None:
            notice = (await self.notices.load([(row.chat_id, row.event_id)])).get((row.chat_id, row.event_id))
        if notice is None:
            return Failed(f"event {row.event_id} not found")
        checkpoint = self.checkpoints.get(notice.event.checkpoint)
        if checkpoint is None:
            return Failed(f"unknown checkpoint {notice.event.checkpoint!r}")
        language = row.language or self.i18n.default_locale
        shown = notice.card.with_event(notice.event)
        rings = notice.rings and row.message_id is None  # not rung already by an earlier try
        try:
            with sending_at(SILENT):
                card_message = await self._card(row.chat_id, notice.card, shown, checkpoint, language)
        except TelegramRetryAfter:
            raise  # nothing sent yet: the whole row comes back when Telegram says
        except Exception as fault:
            if not rings:
                raise
            # The driver must hear what to do whatever became of the card.
            rung = await self._ring(row, notice, checkpoint, language)
            if isinstance(fault, TelegramBadRequest):
                log.warning("notice %s: the card of chat %s was refused (%s); the driver was told all the same",
                            row.id, row.chat_id, fault.message)
                return Sent(rung)
            await self.outbox.progress(row.id, rung)  # the card is tried again with the row; the ring not
            raise
        if not rings:
            return Sent(row.message_id or card_message)
        return Sent(await self._ring(row, notice, checkpoint, language))

    async def _ring(self, row: Due, notice: DueNotice, checkpoint: Checkpoint, language: str) -> int:
        screen = screens.action(notice.event, checkpoint, language)
        with sending_at(ACTION):
            sent = await self.bot.send_message(chat_id=row.chat_id, **screen.as_kwargs())
        return sent.message_id

    async def _card(self, chat_id: int, stored: Card, shown: Card, checkpoint: Checkpoint, language: str) -> int:
        """Post the card, or edit it in place; its message id is recorded at once, so a restart
        edits this message instead of posting a second card."""
        if stored.message_id is not None and shown == stored:
            return stored.message_id  # a row tried again whose event the card shows already
        screen = screens.card(shown, checkpoint, language)
        message_id = stored.message_id
        if message_id is not None:
            try:
                await self.bot.edit_message_text(chat_id=chat_id, message_id=message_id, **screen.as_kwargs())
            except TelegramBadRequest as exc:
                if any(reason in exc.message for reason in GONE):
                    message_id = None  # the driver deleted it: a new card
                elif UNCHANGED not in exc.message:
                    raise
        if message_id is None:
            sent = await self.bot.send_message(chat_id=chat_id, disable_notification=True, **screen.as_kwargs())
            message_id = sent.message_id
        await self.notices.card_shown(chat_id, shown, message_id)
        return message_id

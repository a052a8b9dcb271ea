"""Every request Telegram counts against the bot's limits first takes a token of the outgoing budget
(`services.limits.outgoing`), with the priority of whoever sends it.

The priority travels in a context variable (`services.limits.outgoing.sending_at`) rather than through
every call: a handler answering a driver sends at the default (0), the notice sender and the
countdown worker set theirs once, around their own sends, and aiogram's methods need to know nothing
of it.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import (
    CopyMessage, CopyMessages, EditMessageCaption, EditMessageLiveLocation, EditMessageMedia, EditMessageReplyMarkup,
    EditMessageText, ForwardMessage, ForwardMessages, SendAnimation, SendAudio, SendContact, SendDice, SendDocument,
    SendLocation, SendMediaGroup, SendMessage, SendPhoto, SendPoll, SendSticker, SendVenue, SendVideo, SendVideoNote,
    SendVoice,
)
from aiogram.methods.base import TelegramMethod, TelegramType

from bot.config import OutgoingLimits
from handlers.common.taps import answer_pending_tap
from services.kernel.redis_fallback import RedisFallback
from services.limits.outgoing import Budget, MemoryBuckets, Outgoing, RedisBuckets, committed, priority

log = logging.getLogger(__name__)

# What puts or changes a message in a chat. Answers to taps, getUpdates, commands and the like are
# limited far more loosely by Telegram, and waiting here would only slow them.
COUNTED = (
    SendMessage, SendPhoto, SendDocument, SendVoice, SendAudio, SendVideo, SendVideoNote, SendAnimation, SendSticker,
    SendLocation, SendVenue, SendContact, SendDice, SendPoll, SendMediaGroup, CopyMessage, CopyMessages,
    ForwardMessage, ForwardMessages, EditMessageText, EditMessageCaption, EditMessageReplyMarkup, EditMessageMedia,
    EditMessageLiveLocation,
)

REDIS_TURNS = 16  # waiters asking Redis at once: each ask is a round trip, and one at a time caps the rate



def build_outgoing(limits: OutgoingLimits, redis=None, prefix: str = "nobat",
                   fallback: RedisFallback | None = None) -> Outgoing:
    budget = Budget.of(limits.messages_per_second, limits.per_chat_per_second, limits.per_group_per_minute)
    if redis is None:
        return Outgoing(MemoryBuckets(budget))
    buckets = RedisBuckets(redis, budget, prefix, fallback=fallback, share=limits.share_without_redis)
    return Outgoing(buckets, turns=REDIS_TURNS)


def chat_of(method: TelegramMethod) -> int | None:
    """The chat a request writes to; None for an inline message or a channel named by @username
    (the overall bucket still counts it)."""
    chat_id = getattr(method, "chat_id", None)
    try:
        return int(chat_id) if chat_id is not None else None
    except (TypeError, ValueError):
        return None


class OutgoingMiddleware(BaseRequestMiddleware):
    """Takes a token before each counted request. Registered before `RetryAfterMiddleware`, so a
    request that Telegram refuses anyway waits out its `retry_after` without a second token."""

    def __init__(self, outgoing: Outgoing) -> None:
        self.outgoing = outgoing

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]):
        if isinstance(method, COUNTED):
            await answer_pending_tap()  # the tap's spinner never waits for the budget
            waited = await self.outgoing.acquire(chat_of(method), priority.get())
            if waited > 5:
                log.info("%s to chat %s waited %.1fs for the outgoing budget", type(method).__name__,
                         chat_of(method), waited)
        mark = committed.get()
        if mark is not None:
            mark.sent = True
        return await make_request(bot, method)

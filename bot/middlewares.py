"""Middlewares: how fast someone may write, who is writing, in which language to answer, and that
every tap gets its answer."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Chat, TelegramObject, Update, User
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram.utils.i18n import I18n, I18nMiddleware

from handlers.common.chats import in_private_chat
from handlers.common.faults import what_failed
from handlers.common.screen import too_many_messages
from handlers.common.taps import PendingTap, failed_after_answer, pending_tap
from services.accounts.accounts import AccountService, language_from_client
from services.limits.flood import FloodVerdict, MemoryFloodLimiter, RedisFloodLimiter
from services.storage.unavailable import DatabaseUnavailable

log = logging.getLogger(__name__)


class FloodMiddleware(BaseMiddleware):
    """Stops an account that writes faster than the flood limit (`services.limits.flood`): the first
    update over it is answered with one calm line, the rest are dropped; a tap over it is still
    answered, with nothing to read, so that the button stops spinning.

    Registered before the account is loaded, so an update over the limit costs the check (memory,
    or one Redis call) and nothing else: not the database, not a handler. What is counted is what
    someone sends the bot in private, and taps: talk in a group the bot is in is not for the bot.
    """

    def __init__(self, limiter: MemoryFloodLimiter | RedisFloodLimiter, accounts: AccountService, i18n: I18n) -> None:
        self.limiter = limiter
        self.accounts = accounts
        self.i18n = i18n

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        to_the_bot = event.callback_query is not None or in_private_chat(chat)
        if user is None or user.is_bot or not to_the_bot:
            return await handler(event, data)
        verdict = await self.limiter.check(user.id)
        if verdict is FloodVerdict.PASS:
            return await handler(event, data)
        try:
            await self._answer(event, user, verdict)
        except Exception as error:  # the chat may be over Telegram's own limit by now
            log.warning("could not answer update %s over the flood limit: %s", event.update_id, what_failed(error))
        return None

    async def _answer(self, update: Update, user: User, verdict: FloodVerdict) -> None:
        query, message = update.callback_query, update.message
        if verdict is FloodVerdict.DROP or (query is None and message is None):
            if query is not None:
                await query.answer()
            return
        with self.i18n.context(), self.i18n.use_locale(await self._language(user)):
            screen = too_many_messages()
        if query is not None:
            await query.answer(screen.text, show_alert=True)
        else:
            await message.answer(**screen.as_kwargs())

    async def _language(self, user: User) -> str:
        """Looked up once per flood, not per update: the account's language, else the app's."""
        try:
            chosen = await self.accounts.language_of(user.id)
        except DatabaseUnavailable:
            chosen = None
        return chosen or language_from_client(user.language_code) or self.i18n.default_locale


class AccountMiddleware(BaseMiddleware):
    """Loads (or creates on first contact) the account of the user behind every update from a
    private chat. Someone writing in a group the bot is in has not come to the bot: no account,
    and handlers, the locale and the error handler do without one."""

    def __init__(self, accounts: AccountService) -> None:
        self.accounts = accounts

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is not None and not user.is_bot and in_private_chat(chat):
            data["account"] = await self.accounts.ensure(user.id, user.first_name or "", user.language_code)
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """The account's chosen language, else the client's if we speak it, else the default.

    Also hands the handlers `language`, for the formatting gettext does not do (digits, dates).
    """

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        account = data.get("account")
        user: User | None = data.get("event_from_user")
        language = (
            (account.language if account is not None else None)
            or language_from_client(user.language_code if user else None)
            or self.i18n.default_locale
        )
        data["language"] = language
        return language


class AnswerTaps(CallbackAnswerMiddleware):
    """aiogram's answer to every tap a handler did not answer itself (Telegram shows a spinner on the
    button until then), with the text or alert the handler put on its `callback_answer` argument.

    Two changes from aiogram's:
    - The answer goes as soon as the handler's first request must wait for the outgoing budget
      (`handlers.common.taps`), not after the handler: a tap is never kept spinning behind its screen's edit.
      A handler therefore sets a refusal's alert before it draws anything.
    - A tap whose handler failed before its answer went is left unanswered, because Telegram takes
      one answer per tap and the error handler's "something went wrong" alert must be that one.
    """

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answer = data["callback_answer"] = self.construct_callback_answer(get_flag(data, "callback_answer"))
        if not answer.disabled and answer.answered:
            await self.answer(event, answer)
            return await handler(event, data)
        tap = PendingTap(self, event, answer)
        token = pending_tap.set(tap)
        try:
            result = await handler(event, data)
        except Exception:
            failed_after_answer(tap)
            raise
        finally:
            pending_tap.reset(token)
        await tap.send()
        if tap.changed_after_sending():
            log.warning("tap %s (%s): the handler changed its answer after it went; the new one is not shown",
                        event.id, event.data)
        return result


class ChatsInFlight(BaseMiddleware):
    """Which private chats have an update being handled in this process now, and a word when a
    chat has none left to those who asked for it.

    Updates are handled side by side, so a driver's second message can be stored before their first:
    the support sender copies a driver's messages only while none of that chat's updates is in
    flight here, then in the order Telegram numbered them."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self._waiting: dict[int, Callable[[], None]] = {}

    @property
    def busy(self) -> frozenset[int]:
        return frozenset(self.counts)

    def when_free(self, chat_id: int, call: Callable[[], None]) -> None:
        """`call` once this chat has no update in flight (at once if it has none)."""
        if chat_id in self.counts:
            self._waiting[chat_id] = call
        else:
            call()

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        chat: Chat | None = data.get("event_chat")
        if not in_private_chat(chat):
            return await handler(event, data)
        self.counts[chat.id] += 1
        try:
            return await handler(event, data)
        finally:
            self.counts[chat.id] -= 1
            if not self.counts[chat.id]:
                del self.counts[chat.id]
                call = self._waiting.pop(chat.id, None)
                if call is not None:
                    call()

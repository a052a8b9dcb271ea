"""Assembly: settings → database, Redis, services → Bot and Dispatcher → polling or webhook, and workers.

The app, the demo and the tests all build the bot here, the tests with a movable clock.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (ClientDecodeError, TelegramBadRequest, TelegramNetworkError, TelegramNotFound,
                                TelegramRetryAfter, TelegramUnauthorizedError)
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import AnswerCallbackQuery
from aiogram.methods.base import TelegramMethod, TelegramType
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from aiogram.utils.i18n import I18n

import handlers
import locales
from border_api.endpoints import BorderApi
from bot.config import Settings
from bot.fsm import BatchedRedisStorage
from bot.middlewares import AccountMiddleware, AnswerTaps, ChatsInFlight, FloodMiddleware, LocaleMiddleware
from bot.outbox.bookings import BannedRenderer, HoldEndingRenderer, HoldExpiredRenderer, ReminderRenderer
from bot.outbox.notices import NoticeRenderer
from bot.outbox.sender import MESSAGES_PER_GROUP_ROW, OutboxSender, parallel_for
from bot.outbox.support import support_renderers
from bot.outgoing import OutgoingMiddleware, build_outgoing
from bot.polling import Poller
from bot.session import JsonSession
from bot.startup import StartupError, connect_redis, open_database
from bot.support import SupportRelay
from bot.support_notes import SupportNotes
from bot.web import API, WEBHOOK, Listener, WebServer, build_web_app, listen
from bot.workers import Workers
from handlers.start.screens import bot_description, bot_short_description, command_menu
from handlers.support.screens import agent_commands
from services.container import Services
from services.kernel.clock import Clock, SystemClock
from services.kernel.invalidations import RedisInvalidations
from services.kernel.rules import LANGUAGES
from services.limits.flood import MemoryFloodLimiter, RedisFloodLimiter
from services.limits.outgoing import Outgoing
from services.kernel.redis_fallback import RedisFallback
from services.outbox.outbox import RetryPolicy
from services.storage.database import Database, shown_url

log = logging.getLogger(__name__)
LOCALES_DIR = Path(locales.__file__).parent


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Honour Telegram's 429 `retry_after` and try again instead of losing a reply.

    Several replies to one chat within a second (a driver who writes fast) all meet the chat's
    limit and all wait; each second lets about one more through. So a request keeps trying while
    its waits add up to at most `budget` seconds, not a fixed number of times. Each 429 is one
    warning line: a condition to log, not a fault with a traceback.
    """

    def __init__(self, max_wait: float = 30.0, budget: float = 60.0) -> None:
        self.max_wait = max_wait
        self.budget = budget

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]):
        waited = 0.0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if exc.retry_after > self.max_wait or waited + exc.retry_after > self.budget:
                    raise
                log.warning("429 on %s to chat %s, retrying after %ss", type(method).__name__,
                            getattr(method, "chat_id", None), exc.retry_after)
                await asyncio.sleep(exc.retry_after)
                waited += exc.retry_after


class LateAnswers(BaseRequestMiddleware):
    """An answer to a tap that Telegram no longer takes is logged, not raised.

    Updates come at least once: a tap that a dead process answered but never confirmed comes again,
    and Telegram refuses its second answer, as it refuses one after the query's lifetime. The driver
    has the first answer, or sees the outcome in the chat; the handler goes on to show it.
    """

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]):
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not isinstance(method, AnswerCallbackQuery) or "query is too old" not in exc.message:
                raise
            log.info("tap %s: answer refused (answered already, or too old): %s",
                     method.callback_query_id, exc.message)
            return False


def build_i18n(settings: Settings) -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=settings.default_language, domain="messages")


def build_bot(settings: Settings, outgoing: Outgoing | None = None) -> Bot:
    """`outgoing`: the budget every counted request spends (in Redis when several processes send
    as the bot); by default one of this process alone."""
    if not settings.bot_token:
        raise SystemExit("BOT_TOKEN is not set: put the token from @BotFather in the environment")
    api = TelegramAPIServer.from_base(settings.telegram_api_url) if settings.telegram_api_url else None
    session = JsonSession(api=api) if api else JsonSession()
    session.middleware(OutgoingMiddleware(outgoing or build_outgoing(settings.telegram_limits)))
    session.middleware(RetryAfterMiddleware())
    session.middleware(LateAnswers())
    return Bot(settings.bot_token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def bot_api_refusal(settings: Settings, error: Exception) -> str:
    """The line for an operator whose bot's first request failed: which server, why, and what to fix;
    never the token, which the request's URL holds."""
    where = shown_url(settings.telegram_api_url) if settings.telegram_api_url else "https://api.telegram.org"
    if isinstance(error, TelegramUnauthorizedError):
        return f"the Bot API at {where} refused BOT_TOKEN ({error.message}): check the token @BotFather gave"
    if isinstance(error, TelegramNotFound):
        why = f"answered {error.message}"
    elif isinstance(error, ClientDecodeError):
        why = "answered something that is not the Bot API's JSON"
    else:
        why = error.message.replace(settings.bot_token or "\0", "<BOT_TOKEN>").rstrip(".")
    fix = ("Check TELEGRAM_API_URL (the server's address alone, without /bot<token>) and that the server is "
           "running and reachable" if settings.telegram_api_url else "Check that this machine reaches it")
    return f"cannot use the Bot API at {where}: {why}. {fix}."


def build_storage(settings: Settings, redis=None, fallback: RedisFallback | None = None) -> BaseStorage:
    if redis is not None:
        return BatchedRedisStorage(redis, key_builder=DefaultKeyBuilder(prefix=f"{settings.redis_prefix}:fsm"),
                                   fallback=fallback)
    return MemoryStorage()


def build_flood_limiter(settings: Settings, redis=None, clock: Callable[[], float] | None = None,
                        fallback: RedisFallback | None = None) -> MemoryFloodLimiter | RedisFloodLimiter:
    if redis is not None:
        return RedisFloodLimiter(redis, settings.flood, settings.redis_prefix, clock, fallback=fallback)
    return MemoryFloodLimiter(settings.flood) if clock is None else MemoryFloodLimiter(settings.flood, clock)


def build_dispatcher(services: Services, i18n: I18n, storage: BaseStorage,
                     flood: MemoryFloodLimiter | RedisFloodLimiter, operator_ids: frozenset[int] = frozenset(),
                     support_group: int | None = None) -> Dispatcher:
    in_flight = ChatsInFlight()
    # Workflow data: what handlers, filters and the error handler name as arguments, nothing else.
    # (i18n is here for the error handler, which runs before the locale middleware has set it.)
    dp = Dispatcher(
        storage=storage, i18n=i18n, clock=services.clock, rules=services.rules, checkpoints=services.checkpoints,
        accounts=services.accounts, trucks=services.trucks, booking=services.booking, offers=services.offers,
        follows=services.follows, fairness=services.fairness, operators=services.operators,
        operator_ids=operator_ids, support=services.support,
        support_relay=SupportRelay(services, i18n, support_group, in_flight),
        support_notes=SupportNotes(services, i18n, support_group),
    )
    dp.update.outer_middleware(in_flight)  # around everything: the support sender waits for a chat's updates
    dp.update.outer_middleware(FloodMiddleware(flood, services.accounts, i18n))  # a flood costs nothing more
    dp.update.outer_middleware(AccountMiddleware(services.accounts))
    dp.update.outer_middleware(LocaleMiddleware(i18n))  # language before anything renders
    dp.callback_query.middleware(AnswerTaps())
    handlers.include_all(dp)
    return dp


async def register_commands(bot: Bot, i18n: I18n, support_group: int | None = None) -> None:
    """The command menu and the bot's descriptions, in each language: Telegram shows the ones
    matching the user's app (the description in the empty chat before /start, the short one on
    the profile and in shared links); and the agents' commands in their group, in the bot's
    default language, which the group speaks."""
    for language in (*LANGUAGES, None):  # None: everyone else, in the default language
        with i18n.context(), i18n.use_locale(language or i18n.default_locale):
            commands = [BotCommand(command=c, description=d) for c, d in command_menu()]
            description, short = bot_description(), bot_short_description()
        await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code=language)
        await bot.set_my_description(description, language_code=language)
        await bot.set_my_short_description(short, language_code=language)
    if support_group is not None:
        with i18n.context(), i18n.use_locale(i18n.default_locale):
            commands = [BotCommand(command=c, description=d) for c, d in agent_commands()]
        try:
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=support_group))
        except TelegramBadRequest as exc:  # the bot is not in the group yet: the commands work all the same
            log.warning("the agents' commands could not be listed in group %s: %s", support_group, exc.message)


def build_sender(settings: Settings, services: Services, bot: Bot, i18n: I18n, relay: SupportRelay, *,
                 manual: bool = False) -> OutboxSender:
    """The outbox's one sender, with a renderer for each kind of row."""
    outbox, limits = services.outbox, settings.telegram_limits
    outbox.lease = timedelta(seconds=settings.outbox.lease_seconds)
    group_id = settings.support.group_id
    renderers = [
        NoticeRenderer(bot, services.notices, outbox, services.checkpoints, i18n),
        *(cls(bot, services.booking, services.checkpoints, services.clock, i18n)
          for cls in (HoldEndingRenderer, HoldExpiredRenderer, ReminderRenderer, BannedRenderer)),
        *support_renderers(bot, services, i18n, group_id, record_patience=settings.outbox.lease_seconds / 2),
    ]
    lease = settings.outbox.lease_seconds
    sender = OutboxSender(
        outbox, renderers, i18n,
        RetryPolicy(settings.outbox.retry_limit, longest_delay=settings.outbox.longest_retry_seconds),
        interval=None if manual else settings.outbox.poll_seconds,
        to_private=parallel_for(limits.messages_per_second, lease),
        # The group's budget is the group rows' alone: they may wait for half a lease.
        to_group=0 if group_id is None else parallel_for(limits.per_group_per_minute / 60, lease,
                                                         per_row=MESSAGES_PER_GROUP_ROW, part=0.5),
        writers=relay.in_flight)
    outbox.listen(sender.wake)
    relay.wake = sender.wake
    return sender


@dataclass
class App:
    """A running Nobat: everything `nobat run`, `nobat demo` and the tests start and stop."""

    settings: Settings
    db: Database
    services: Services
    bot: Bot
    dispatcher: Dispatcher
    workers: Workers
    outbox: OutboxSender
    redis: object | None = None
    poller: Poller | None = None
    web: WebServer | None = None
    listening: asyncio.Task | None = None  # other processes' changes of cached accounts and trucks
    tasks: list[asyncio.Task] = field(default_factory=list)

    @classmethod
    async def create(cls, settings: Settings, *, clock: Clock | None = None, rng=None, db: Database | None = None,
                     redis=None, manual_workers: bool = False, manual_outbox: bool = False,
                     flood_clock: Callable[[], float] | None = None) -> App:
        """`manual_workers` leaves the background steps to the caller (tests tick them), and
        `manual_outbox` the outbox's sender (tests drive it with `run_once`, `drain`);
        `flood_clock` is the time the flood limit counts in (the demo's replayed person, a
        simulated day), in memory or in Redis. `db` (migrated) and `redis` are what the caller
        opened already (`bot.startup`), else they are opened here."""
        db = db if db is not None else await open_database(settings)
        clock = clock or SystemClock()
        try:
            redis = redis or await connect_redis(settings)
        except StartupError:
            await db.close()
            raise
        fallback = RedisFallback()  # one for every user of this Redis: one line when it goes, one when it is back
        invalidations = RedisInvalidations(redis, f"{settings.redis_prefix}:changed", fallback) if redis else None
        services = Services.build(db, settings.checkpoints, settings.booking, clock, rng, invalidations,
                                  timedelta(hours=settings.support.reopen_hours))
        i18n = build_i18n(settings)
        bot = build_bot(settings, build_outgoing(settings.telegram_limits, redis, settings.redis_prefix, fallback))
        dispatcher = build_dispatcher(services, i18n, build_storage(settings, redis, fallback),
                                      build_flood_limiter(settings, redis, flood_clock, fallback),
                                      frozenset(settings.operators), settings.support.group_id)
        outbox = build_sender(settings, services, bot, i18n, dispatcher["support_relay"], manual=manual_outbox)
        workers = Workers(services, outbox, interval=None if manual_workers else settings.worker_interval_seconds,
                          remind_before=timedelta(hours=settings.notices.reminder_hours))
        return cls(settings, db, services, bot, dispatcher, workers, outbox, redis)

    async def start(self, *, polling_timeout: int = 10) -> None:
        """Updates by webhook when `settings.webhook.url` is set, else by polling; then the workers.
        StartupError when the Bot API cannot be reached or refuses the token."""
        try:
            await register_commands(self.bot, self.dispatcher["i18n"], self.settings.support.group_id)
        except (TelegramNetworkError, ClientDecodeError, TelegramUnauthorizedError, TelegramNotFound) as error:
            raise StartupError(bot_api_refusal(self.settings, error)) from None
        for checkpoint in self.services.checkpoints.values():
            await self.services.calendar.ensure(checkpoint)
        allowed_updates = self.dispatcher.resolve_used_update_types()
        await self._serve(allowed_updates)
        if not self.settings.webhook.url:
            await self.bot.delete_webhook(drop_pending_updates=False)
            self.poller = Poller(self.bot, self.dispatcher, self.services.inbox, timeout=polling_timeout,
                                 allowed_updates=allowed_updates)
            self.tasks.append(asyncio.create_task(self.poller.run(), name="polling"))
        self.tasks.extend(self.workers.start())
        self.tasks.extend(self.outbox.start())  # always by itself: drivers and agents wait for what it sends
        self.listening = asyncio.create_task(self.services.invalidations.run(), name="invalidations")

    @property
    def api_port(self) -> int:
        """The port the border system's API listens on (what `api.port` 0 became)."""
        return self.web.port(API)

    async def _serve(self, allowed_updates: list[str]) -> None:
        """The web server: the border system's API always, the webhook when one is configured."""
        webhook = self.settings.webhook
        secret = webhook.secret_token or secrets.token_urlsafe(32)
        listeners = [Listener(API, self.settings.api.host, self.settings.api.port)]
        if webhook.url:
            listeners.append(Listener(WEBHOOK, self.settings.web.host, self.settings.web.port))
        app = build_web_app(self.dispatcher, self.bot, webhook_url=webhook.url, secret_token=secret,
                            api=BorderApi(self.services, self.settings.api))
        self.web = await listen(app, listeners)  # listening before Telegram is told where to post
        if not webhook.url:
            return
        try:
            # Pending updates are kept: they are what a stopped or dead process left unanswered.
            await self.bot.set_webhook(webhook.url, secret_token=secret, allowed_updates=allowed_updates,
                                       max_connections=webhook.max_connections, drop_pending_updates=False)
        except TelegramBadRequest as exc:
            raise SystemExit(f"nobat: the Bot API refused the webhook {webhook.url}: {exc.message}") from None
        log.info("webhook set: %s", webhook.url)

    async def stop(self) -> None:
        await self.workers.stop()
        await self.outbox.stop()
        # The webhook stays set: another process may serve it, and while none does, Telegram keeps
        # the updates and posts them again. Polling (`nobat run` without a webhook) deletes it.
        if self.web is not None:
            await self.web.stop()
        if self.poller is not None:
            await self.poller.stop()
        for task in self.tasks:
            try:
                await asyncio.wait_for(task, timeout=15)
            except (asyncio.CancelledError, TimeoutError):
                task.cancel()
        if self.listening is not None:
            self.listening.cancel()
            await asyncio.gather(self.listening, return_exceptions=True)
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.close()

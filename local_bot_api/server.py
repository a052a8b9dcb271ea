"""`BotAPIServer`: the aiohttp application, the method table, and the state every method group shares."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from local_bot_api.chat import CallbackAnswer, Chat, ChatMessage
from local_bot_api.errors import ApiError
from local_bot_api.limits import Limits, TokenBucket
from local_bot_api.methods.callbacks import CallbackMethods, PendingQuery
from local_bot_api.methods.chats import ChatMethods
from local_bot_api.methods.commands import CommandMethods
from local_bot_api.methods.edits import EditMethods
from local_bot_api.methods.forums import ForumMethods
from local_bot_api.methods.messages import MessageMethods
from local_bot_api.methods.updates import UpdateMethods
from local_bot_api.groups import SimGroup
from local_bot_api.people import SimUser
from local_bot_api.webhook import WebhookDelivery
from local_bot_api.wire import Params, json_error, json_result, read_params, token_bot_id
from local_bot_api.world import ChangeFeed, SimulatedWorld

logger = logging.getLogger(__name__)


class BotAPIServer(
    SimulatedWorld, UpdateMethods, CommandMethods, ChatMethods, MessageMethods, EditMethods, ForumMethods,
    CallbackMethods,
):
    """A local Telegram Bot API server holding simulated users and groups.

    ``token=None`` accepts any token (the bot's id is then taken from the first request).
    Everything the bot does is recorded: `requests` (every call, in order, parameters decoded),
    `errors` (every error answer), the chats (`chat_messages`, `SimUser.messages`), `commands`.
    `listeners` receive ``(event, message)`` for every message event — "user", "sent", "edited",
    "deleted", and "service" (a topic created, someone joined) — which is how the terminal demo renders
    the conversation.
    """

    def __init__(
        self,
        token: str | None = "123456:TEST",
        *,
        limits: Limits | None = None,
        bot_username: str = "nobat_test_bot",
        bot_first_name: str = "Nobat",
    ) -> None:
        self.token = token
        self.limits = limits if limits is not None else Limits()
        # What a tap waits for after the bot's answer, given the chat: a bot may answer a tap before
        # it draws the screen that follows (Nobat does, so that no tap spins while its edit waits for
        # the outgoing budget), so a test that reads the chat right after a tap sets this to wait
        # until the bot is done with the chat. None: the answer alone.
        self.settle: Callable[[int], Awaitable[None]] | None = None
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.base_url = ""
        self.limit_violations = 0
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, dict[str, Any], int, str]] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}  # (setMyName|setMyDescription|..., language)
        self.default_menu_button: dict[str, Any] = {"type": "commands"}
        self.webhook = WebhookDelivery(self)  # posts updates while a webhook is set (setWebhook)
        self.callback_query_ttl = 15.0  # Telegram stops accepting answers to a query after a while
        # Simulated seconds a person takes between two actions in a chat.  Tests drive users at
        # machine speed; without this, a bot answering its fourth message within milliseconds
        # would hit the per-chat limit, which no human conversation can cause.  It only moves
        # that chat's limiter clock: many people acting at once are still a real burst for the
        # global limit, and bursts the bot makes on its own are still limited.  0 = machine speed.
        self.user_think_time = 3.0
        self.listeners: list[Callable[[str, ChatMessage], Any]] = []
        self.clock: Callable[[], float] = time.monotonic  # replaceable by tests that fake time
        self._failures: dict[str, list[ApiError]] = {}  # by lower-cased method: the next answers (fail_next)
        self._outage: dict[str, ApiError] = {}  # by lower-cased method: every answer until recover()
        self._bot_id: int | None = token_bot_id(token) if token else None
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self._chats: dict[int, Chat] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 700_000_001
        self._fetched_update_id = 0
        self._allowed_updates: set[str] | None = None
        self._queries: dict[str, PendingQuery] = {}
        self._answers: dict[str, CallbackAnswer] = {}
        self._query_counter = itertools.count(1)
        self._global_bucket = TokenBucket()
        self._feed = ChangeFeed()
        self._poll_generation = 0
        self._activity = 0
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._methods = self._method_table()

    def _method_table(self) -> dict[str, tuple[str, Callable[[Params], Any]]]:
        """Every method the server answers, by its lower-cased name (Telegram ignores the case)."""
        methods = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyName": self._set_bot_text("name"),
            "getMyName": self._get_bot_text("name"),
            "setMyDescription": self._set_bot_text("description"),
            "getMyDescription": self._get_bot_text("description"),
            "setMyShortDescription": self._set_bot_text("short_description"),
            "getMyShortDescription": self._get_bot_text("short_description"),
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "sendMessage": self._send_message,
            "sendPhoto": self._media_sender("photo"),
            "sendDocument": self._media_sender("document"),
            "sendVoice": self._media_sender("voice"),
            "sendSticker": self._media_sender("sticker"),
            "sendVideo": self._media_sender("video"),
            "sendVideoNote": self._media_sender("video_note"),
            "sendAnimation": self._media_sender("animation"),
            "sendAudio": self._media_sender("audio"),
            "sendLocation": self._media_sender("location"),
            "sendContact": self._media_sender("contact"),
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "createForumTopic": self._create_forum_topic,
            "editForumTopic": self._edit_forum_topic,
            "closeForumTopic": self._close_forum_topic,
            "reopenForumTopic": self._reopen_forum_topic,
            "deleteForumTopic": self._delete_forum_topic,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
        }
        return {name.lower(): (name, handler) for name, handler in methods.items()}

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening; returns the base URL (port 0 picks a free port)."""
        if self._runner is not None:
            return self.base_url
        self._stopping = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/{path:.*}", self._handle_file)
        # handler_cancellation: a long poll whose client went away (polling stopped) ends at once.
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"
        self.webhook.resume()
        return self.base_url

    async def stop(self) -> None:
        """Stop the server; pending long polls return [] right away instead of at their timeout."""
        self._stopping = True
        self._feed.notify()
        await self.webhook.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> BotAPIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def create_bot(self, **bot_kwargs: Any) -> Any:
        """An aiogram ``Bot`` wired to this server (aiogram is imported only here)."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        if not self.base_url:
            raise RuntimeError("start() the server before creating a bot")
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(self.token or "123456:TEST", session=session, **bot_kwargs)

    def fail_all(self, *methods: str, code: int = 502, description: str = "Bad Gateway") -> None:
        """Every call of these methods fails with this error until `recover()`: an outage of
        Telegram's servers, for as long as a test wants one."""
        for method in methods:
            self._outage[method.lower()] = ApiError(code, description)

    def recover(self) -> None:
        self._outage.clear()

    def fail_next(self, method: str, times: int = 1, code: int = 500,
                  description: str = "Internal Server Error") -> None:
        """The next `times` calls of `method` fail with this error before doing anything, as
        Telegram's own servers sometimes do (5xx, "Bad Gateway"): for testing a bot's retries."""
        self._failures.setdefault(method.lower(), []).extend(ApiError(code, description) for _ in range(times))

    # ---- HTTP -------------------------------------------------------------------------------------

    async def _handle_file(self, request: web.Request) -> web.Response:
        """File downloads are not simulated; Telegram answers unknown files with 404 too."""
        return json_error(ApiError(404, "Not Found"))

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if self.token is not None and token != self.token:
            return json_error(ApiError(401, "Unauthorized"))
        if self._bot_id is None:
            self._bot_id = token_bot_id(token)
        try:
            params = await read_params(request)
        except ApiError as error:
            return json_error(error)

        entry = self._methods.get(request.match_info["method"].lower())
        name = entry[0] if entry else request.match_info["method"]
        decoded = params.decoded()
        self.requests.append((name, decoded))
        if entry is None:
            logger.warning("local Bot API server: unknown or unimplemented method %s", name)
            return json_error(ApiError(404, "Not Found"))
        if name != "getUpdates":
            self._activity += 1
        try:
            if name.lower() in self._outage:
                raise self._outage[name.lower()]
            failures = self._failures.get(name.lower())
            if failures:
                raise failures.pop(0)
            result = await entry[1](params)
        except ApiError as error:
            self.errors.append((name, decoded, error.code, error.description))
            return json_error(error)
        except Exception as error:  # a bug in the server: say so loudly instead of a bare 500 page
            logger.exception("local Bot API server failed in %s", name)
            failure = ApiError(500, f"Internal Server Error: local Bot API server bug in {name}: {error!r}")
            self.errors.append((name, decoded, failure.code, failure.description))
            return json_error(failure)
        finally:
            if name != "getUpdates":
                self._feed.notify()
        return json_result(result)

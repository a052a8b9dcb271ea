"""The local Bot API server: Telegram's Bot API on localhost, for tests and the terminal demo.

`BotAPIServer` is an aiohttp web server that speaks the Bot API wire format at
``/bot<token>/<method>``, so a bot talks to it through aiogram's real HTTP session::

    server = BotAPIServer()
    url = await server.start()
    bot = Bot(server.token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))

Why a server rather than mocking aiogram: the bot's whole stack (serialisation, multipart
encoding, error classes such as ``TelegramBadRequest``/``TelegramRetryAfter``, polling) runs for
real, and the server enforces the rules Telegram enforces and that bite bots in production —
entity parsing of HTML, 4096-character texts, 64-byte callback data, "message is not modified",
flood limits, blocked users.  A test that passes here exercises the same code paths as production.

Simulated people are `SimUser` (a private chat with the bot) and `SimGroup` (a supergroup the bot is
in; a forum with ``server.group(..., forum=True)``, whose topics are `SimTopic`).  Users send text,
stickers, photos, documents, voice messages, videos, video notes, GIFs, audio files, contacts and
locations, edit what they wrote, join and leave groups and post in their topics, tap inline and
reply-keyboard buttons (in their private chat, or in a group: ``tap(..., group=)``), and wait —
event-driven, no sleeping — for the bot to answer.

What the server does, per method, follows the Bot API (version 9/10 era).  Deliberate
simplifications are documented where they are made; the main ones:

* only ``parse_mode=HTML`` is implemented (Markdown modes answer 400 so nobody relies on them);
* inline mode, payments, games and business connections are not simulated (but a tap on a
  button of an inline message is: `SimUser.tap_inline`);
* webhooks are delivered (`webhook`), but only to this machine: the URL's host must be 127.0.0.1,
  ::1 or localhost, and plain ``http://`` is accepted there, so tests need no TLS certificate
  (Telegram requires HTTPS on ports 443, 80, 88 or 8443); failed posts are retried sooner than
  Telegram would (`WebhookDelivery.retry_delay`), and never given up while the webhook is set;
* edits and ``answerCallbackQuery`` are not rate limited (Telegram limits them far more loosely
  than sends, and a bot that misbehaves there shows up in its send pattern first);
* simulated people act at a human pace: every action they take advances their chat's rate
  limiter clock by `BotAPIServer.user_think_time` (3 s; one person's own `SimUser.think_time`
  overrides it, 0 for a flood), so a test typing at machine speed does not trip per-chat limits
  that no real conversation would — while bursts the bot makes on its own, and many people acting
  at once (the global limit), still do;
* every group is a supergroup in which the bot is an administrator with privacy mode off (so it may
  post in closed topics, as admins may); someone who writes in a group without having joined it is
  taken to have been a member all along (getChatMember says "member" from then on);
* forum topics exist in forum supergroups only (Bot API 9.3's topics in private chats are not
  simulated), the General topic cannot be closed, hidden or renamed, a topic without an icon_color
  gets the six colours in turn (Telegram picks one), and a message_thread_id must name a topic (the
  reply threads of a non-forum supergroup are not simulated);
* HTML follows the documented formatting rules (`html_mode`) and is a little stricter than
  Telegram: an "&" before a letter or "#" must be one of the documented HTML entities, where
  Telegram would show it as typed;
* of the entities Telegram finds in a text by itself, only commands, mentions and links are found.

Where things live: `server` (the aiohttp app and the method table) composes `methods/` (the methods
by group); `world` and `people` (with `people_media`, the files people send) are the simulated users,
groups and their updates; `chat` holds messages as people see them; `formatting` makes a message's
text and entities (`html_mode`, `entities`, `links`, `utf16`); `webhook` posts updates to a webhook;
`keyboards`, `limits`, `media`, `wire` (request parameters) and `errors` hold the rest.
"""

from local_bot_api.chat import CallbackAnswer, ChatMessage
from local_bot_api.errors import EntityParseError
from local_bot_api.formatting import FormattedText, format_text
from local_bot_api.html_mode import parse_html
from local_bot_api.limits import Limits
from local_bot_api.media import UploadedFile
from local_bot_api.groups import SimGroup, SimTopic
from local_bot_api.people import SimUser
from local_bot_api.server import BotAPIServer
from local_bot_api.utf16 import utf16_len

__all__ = [
    "BotAPIServer",
    "CallbackAnswer",
    "ChatMessage",
    "EntityParseError",
    "FormattedText",
    "Limits",
    "SimGroup",
    "SimTopic",
    "SimUser",
    "UploadedFile",
    "format_text",
    "parse_html",
    "utf16_len",
]

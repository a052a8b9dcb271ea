"""The bot's web server: one aiohttp application, where Telegram posts updates to the webhook.

Telegram drops an update once the webhook answered it with a 2xx, and posts it again otherwise. So
the answer waits until the update has been handled (aiogram's `SimpleRequestHandler` with
`handle_in_background=False`): an update whose process died before answering is posted again,
to this process after a restart or to another one behind the same URL. Handlers are idempotent.

A handler's fault does not fail the request: the errors router has logged it and answered the
driver, and Telegram re-posting a fault would only repeat it. After 55 s aiogram answers Telegram
anyway and lets the handler go on, before Telegram would give up on the request and post it again.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

log = logging.getLogger(__name__)

# Requests still being handled when the server stops get this long to finish; the rest are cut off
# unanswered, and Telegram posts their updates again.
STOP_GRACE_SECONDS = 15.0


def webhook_path(url: str) -> str:
    """Where the webhook listens: the URL's path (a proxy in front must forward it unchanged)."""
    return urlsplit(url).path or "/"


def build_web_app(dispatcher: Dispatcher, bot: Bot, *, webhook_url: str, secret_token: str) -> web.Application:
    app = web.Application()
    # Every request must carry the secret set with setWebhook, else 401 and nothing is handled:
    # anyone who finds the URL could otherwise post forged taps.
    webhook = SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token=secret_token)
    # Not webhook.register(app): that also closes the bot's HTTP session when the app shuts down,
    # before the requests still in flight have made their calls; App.stop closes it last.
    app.router.add_post(webhook_path(webhook_url), webhook.handle)
    return app


class WebServer:
    """Runs a web application on host:port until stopped."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        # No access log: every update is logged once already, by aiogram, with its handling time.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=STOP_GRACE_SECONDS)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        log.info("listening on http://%s:%s", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening, and let the requests in flight finish (up to STOP_GRACE_SECONDS)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

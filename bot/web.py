"""The bot's web server: one aiohttp application, where Telegram posts updates to the webhook and
the border system calls its API (`border_api`), each on its own port (`web.port`, `api.port`; one
listener when they are the same). A request reaches only the routes of the port it came in on, so
the webhook's public proxy does not expose the API, nor the API's port the webhook.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

from border_api.endpoints import BorderApi
from border_api.routes import PREFIX

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

log = logging.getLogger(__name__)

# Requests still being handled when the server stops get this long to finish; the rest are cut off
# unanswered, and Telegram posts their updates again.
STOP_GRACE_SECONDS = 15.0


def webhook_path(url: str) -> str:
    """Where the webhook listens: the URL's path (a proxy in front must forward it unchanged)."""
    return urlsplit(url).path or "/"


WEBHOOK, API = "webhook", "api"
_FACES = web.AppKey("faces", dict)  # bound port → the faces it serves, filled once listening


@dataclass(frozen=True)
class Listener:
    """One face of the app (WEBHOOK or API) and where it listens; port 0 takes any free port."""

    face: str
    host: str
    port: int


def build_web_app(dispatcher: Dispatcher | None = None, bot: Bot | None = None, *, webhook_url: str = "",
                  secret_token: str = "", api: BorderApi | None = None) -> web.Application:
    """The webhook when `webhook_url` is given, the API when `api` is: one application for both."""
    app = web.Application(middlewares=[_own_port_only])
    app[_FACES] = {}
    if webhook_url:
        from bot.webhook import Webhook  # aiogram's: `nobat api` serves the API without loading it

        # Every request must carry the secret set with setWebhook, else 401 and nothing is handled:
        # anyone who finds the URL could otherwise post forged taps.
        webhook = Webhook(dispatcher, bot, handle_in_background=False, secret_token=secret_token)
        # Not webhook.register(app): that also closes the bot's HTTP session when the app shuts down,
        # before the requests still in flight have made their calls; App.stop closes it last.
        app.router.add_post(webhook_path(webhook_url), webhook.handle)
    if api is not None:
        api.add_to(app)
    return app


@web.middleware
async def _own_port_only(request: web.Request, handler) -> web.StreamResponse:
    """A request reaches only the routes of the faces its port serves (all, before the app listens)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    faces = request.app[_FACES].get(sockname[1]) if sockname else None
    face = API if request.path == PREFIX or request.path.startswith(PREFIX + "/") else WEBHOOK
    if faces is not None and face not in faces:
        raise web.HTTPNotFound()
    return await handler(request)


class WebServer:
    """Runs a web application until stopped: one TCP site per port, serving that port's faces."""

    def __init__(self, app: web.Application, listeners: list[Listener]) -> None:
        self.app = app
        self.listeners = listeners
        self._sites: dict[int, tuple[str, set[str]]] = {}
        for listener in listeners:
            host, faces = self._sites.setdefault(listener.port, (listener.host, set()))
            if host != listener.host:
                raise ValueError(f"{' and '.join(sorted(faces | {listener.face}))} share port {listener.port} "
                                 f"but name different hosts ({host}, {listener.host}): give them one host")
            faces.add(listener.face)
        self.ports: dict[str, int] = {}  # face → the port it listens on, once started
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on every port; OSError (say, a port in use) when one cannot be had."""
        # No access log: every update is logged once already, by aiogram, with its handling time.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=STOP_GRACE_SECONDS)
        await runner.setup()
        self._runner = runner
        try:
            for port, (host, faces) in self._sites.items():
                before = set(runner.addresses)
                await web.TCPSite(runner, host, port).start()
                for bound in {address[1] for address in set(runner.addresses) - before}:
                    self.app[_FACES][bound] = faces
                    self.ports.update(dict.fromkeys(faces, bound))
                log.info("listening on http://%s:%s (%s)", host, self.ports[next(iter(faces))],
                         " and ".join(sorted(faces)))
        except OSError:
            await self.stop()
            raise

    def port(self, face: str) -> int:
        """The port a face really listens on: what port 0 turned into."""
        return self.ports[face]

    async def stop(self) -> None:
        """Stop listening, and let the requests in flight finish (up to STOP_GRACE_SECONDS)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


async def listen(app, listeners: list[Listener]) -> WebServer:
    """A started web server, or the one line that says which address could not be had."""
    try:
        server = WebServer(app, listeners)
    except ValueError as exc:
        raise SystemExit(f"nobat: {exc}") from None
    try:
        await server.start()
    except OSError as exc:
        where = ", ".join(f"{listener.host}:{listener.port}" for listener in listeners)
        raise SystemExit(f"nobat: cannot listen on {where}: {exc.strerror or exc}") from None
    return server

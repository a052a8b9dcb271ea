"""Webhook delivery as Telegram does it: with a webhook set, updates are posted to it, not polled.

Each update is POSTed as JSON to the webhook's URL, with the ``X-Telegram-Bot-Api-Secret-Token``
header when a secret token was set, at most ``max_connections`` at once, oldest first.  An update is
dropped only after a 2xx answer; a failed or timed-out post is tried again after a backoff (short
here, `retry_delay` doubling up to 16 times as long; Telegram waits longer), with the URL and
secret of the moment, until it is answered or the webhook is deleted.  A method in the webhook's
answer (a "webhook reply") is not executed: it is logged as unsupported.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from local_bot_api.errors import bad_request

if TYPE_CHECKING:
    from local_bot_api.server import BotAPIServer

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_LOOPBACK_NAMES = {"localhost"}


def check_webhook_url(url: str) -> None:
    """Telegram takes only HTTPS; this server, which delivers only to this machine, takes http too."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not _is_loopback(parts.hostname):
        raise bad_request("bad webhook: the local Bot API server delivers only to 127.0.0.1, ::1 or localhost")


def check_secret_token(secret: str) -> None:
    if not 1 <= len(secret) <= 256 or not set(secret) <= _SECRET_CHARACTERS:
        raise bad_request("secret token contains unallowed characters")


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookDelivery:
    """Posts the server's queued updates to the webhook while one is set."""

    def __init__(self, server: BotAPIServer) -> None:
        self.server = server
        self.url = ""
        self.secret_token: str | None = None
        self.max_connections = 40
        self.retry_delay = 0.5  # seconds before a failed post is tried again, doubling up to 16x
        self.timeout = 60.0  # a post not answered within this long has failed
        self.last_error: tuple[int, str] | None = None  # (unix time, message), as getWebhookInfo shows
        self.delivered: list[int] = []  # update ids answered with a 2xx, in order (a redelivery repeats)
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._runner: asyncio.Task[None] | None = None

    def configure(self, url: str, secret_token: str | None, max_connections: int) -> None:
        self.url, self.secret_token, self.max_connections = url, secret_token, max_connections
        self.resume()
        self.server._feed.notify()

    def resume(self) -> None:
        """Deliver while a webhook is set: from setWebhook on, and again after the server restarts."""
        if self.url and self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="webhook delivery")

    async def close(self) -> None:
        """The server stops: posts in flight are abandoned, their updates stay queued."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    async def _run(self) -> None:
        # One loop from the first setWebhook until the server stops; with no webhook set it waits,
        # and posts in flight when the webhook is deleted still finish (and drop their update).
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http:
            try:
                # Checked here too, not only cancelled: a cancel that comes as the feed wakes the
                # loop can be lost in asyncio.wait_for (Python 3.11).
                while not self.server._stopping:
                    with contextlib.suppress(TimeoutError):
                        for update in await self.server._feed.wait_until(self._due, 3600):
                            self._start(http, update)
            finally:
                for task in self._in_flight.values():
                    task.cancel()
                await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    def _due(self) -> list[dict[str, Any]] | None:
        """The updates to post now ([] when the server stops), or None while there are none to post
        (or no webhook, or no room)."""
        if self.server._stopping:
            return []
        room = self.max_connections - len(self._in_flight)
        if not self.url or room <= 0:
            return None
        self.server._drop_disallowed_updates()
        due = [u for u in self.server._updates if u["update_id"] not in self._in_flight][:room]
        return due or None

    def _start(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        update_id = update["update_id"]
        self.server._fetched_update_id = max(self.server._fetched_update_id, update_id)
        task = asyncio.create_task(self._deliver(http, update), name=f"webhook update {update_id}")
        self._in_flight[update_id] = task

        def done(_: asyncio.Task[None]) -> None:
            del self._in_flight[update_id]
            self.server._feed.notify()

        task.add_done_callback(done)

    async def _deliver(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        """Post the update until a 2xx answer; a retry waits here, keeping its connection's place."""
        body = json.dumps(update, ensure_ascii=False).encode()
        failures = 0
        # Until answered, or no longer wanted: the webhook deleted, or the update dropped meanwhile.
        while self.url and self._queued(update):
            if await self._post(http, update["update_id"], body):
                self.delivered.append(update["update_id"])
                self.server._updates = [u for u in self.server._updates if u is not update]
                return
            failures += 1
            await asyncio.sleep(self.retry_delay * min(2 ** (failures - 1), 16))

    def _queued(self, update: dict[str, Any]) -> bool:
        return any(u is update for u in self.server._updates)

    async def _post(self, http: aiohttp.ClientSession, update_id: int, body: bytes) -> bool:
        headers = {"Content-Type": "application/json"}
        if self.secret_token:
            headers[SECRET_HEADER] = self.secret_token
        try:
            async with http.post(self.url, data=body, headers=headers,
                                 timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
                answer = await response.read()
                if not 200 <= response.status < 300:
                    return self._failed(update_id, f"Wrong response from the webhook: {response.status} "
                                                   f"{response.reason}")
        except TimeoutError:
            return self._failed(update_id, "Read timeout expired")
        except aiohttp.ClientConnectorError:
            return self._failed(update_id, "Connection refused")
        except aiohttp.ClientError as error:
            return self._failed(update_id, f"Connection failed: {type(error).__name__}")
        if answer.strip() not in (b"", b"{}"):
            logger.warning("local Bot API server: a method in the answer to webhook update %s is not executed "
                           "(webhook replies are not simulated): %.200r", update_id, answer)
        return True

    def _failed(self, update_id: int, message: str) -> bool:
        self.last_error = (int(time.time()), message)
        self.server._feed.notify()
        logger.info("local Bot API server: webhook update %s: %s; trying again", update_id, message)
        return False

"""`nobat api`: the border system's API in a process of its own. It loads no Telegram framework, so
it starts in a moment."""

from __future__ import annotations

from dataclasses import dataclass

from border_api.endpoints import BorderApi
from bot.config import Settings
from bot.startup import open_database
from bot.web import API, Listener, WebServer, build_web_app, listen
from services.container import Services
from services.kernel.clock import SystemClock
from services.storage.database import Database


@dataclass
class ApiAlone:
    """`nobat api`: the border system's API over the database, without the bot (no token, no
    polling, no workers); its events wait in the outbox for a `nobat run` to send them."""

    db: Database
    web: WebServer

    @classmethod
    async def start(cls, settings: Settings) -> ApiAlone:
        db = await open_database(settings)
        services = Services.build(db, settings.checkpoints, settings.booking, SystemClock())
        app = build_web_app(api=BorderApi(services, settings.api))
        try:
            web = await listen(app, [Listener(API, settings.api.host, settings.api.port)])
        except SystemExit:
            await db.close()
            raise
        return cls(db, web)

    async def stop(self) -> None:
        await self.web.stop()
        await self.db.close()

"""aiogram's aiohttp session, made cheaper per request in two ways.

aiogram posts every method as an HTML form: each field prepared and encoded on its own, a
keyboard dumped to JSON inside it, then the form URL-encoded. Telegram takes the same request as one
JSON body, which costs far less to make: in a rush, where every tap is an edit and a callback
answer, the form was most of what a request cost the bot (docs/benchmarks.md). A request that
uploads a file still goes as aiogram sends it (multipart).

And aiogram reads every answer of Telegram into `Response[T]`, T what the method returns. pydantic
keeps such a generic model only while something refers to it, so the model was built anew for
nearly every request, a share of the bot's work in a rush worth sparing (docs/benchmarks.md).
Referred to here, each is built once.

The URL of every request holds the bot's token (`/bot<token>/method`), and aiohttp names the URL in
some of its errors; a failed request is raised without the token, which would otherwise reach the
log and the console.
"""

from __future__ import annotations

import asyncio
from typing import cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods.base import Response, TelegramMethod, TelegramType
from aiohttp import ClientError

JSON_HEADERS = {"Content-Type": "application/json"}


class JsonSession(AiohttpSession):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._response_models: dict[object, type] = {}

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:
        returning = method.__returning__
        if returning not in self._response_models:
            self._response_models[returning] = Response[returning]
        files: dict = {}
        body = self.prepare_value(method.model_dump(warnings=False), bot=bot, files=files, _dumps_json=False)
        if files:  # an upload: multipart, as aiogram sends it
            try:
                return await super().make_request(bot, method, timeout)
            except TelegramNetworkError as e:
                raise TelegramNetworkError(method=method, message=_without_token(e.message, bot.token)) from None
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(url, data=self.json_dumps(body), headers=JSON_HEADERS,
                                    timeout=self.timeout if timeout is None else timeout) as resp:
                raw_result = await resp.text()
        except asyncio.TimeoutError:
            raise TelegramNetworkError(method=method, message="Request timeout error") from None
        except ClientError as e:
            # Not `from e`: its traceback would name the URL, token and all.
            message = _without_token(f"{type(e).__name__}: {e}", bot.token)
            raise TelegramNetworkError(method=method, message=message) from None
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return cast(TelegramType, response.result)


def _without_token(text: str, token: str) -> str:
    return text.replace(token, "<BOT_TOKEN>")

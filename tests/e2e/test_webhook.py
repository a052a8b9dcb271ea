"""The bot in webhook mode: the local Bot API server posts updates to the bot's own web server,
which handles only those that carry the secret given with setWebhook."""

from __future__ import annotations

import json
import logging
import uuid
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import select

from services.storage.models import Account
from tests.conftest import TOKEN
from tests.processes import free_port, raw_request


@pytest.fixture
async def webhook_bot(tg, db, clock):
    from bot.app import App
    from bot.config import load_settings

    port = free_port()
    settings = load_settings(bot_token=TOKEN, telegram_api_url=tg.base_url, redis_url=None,
                             webhook={"url": f"http://127.0.0.1:{port}/telegram/{uuid.uuid4().hex}"},
                             web={"host": "127.0.0.1", "port": port})
    app = await App.create(settings, clock=clock, db=db, manual_workers=True)
    await app.start()
    yield app
    await app.stop()


async def test_a_driver_is_answered_through_the_webhook(tg, webhook_bot):
    ali = tg.user(4301, first_name="Ali", language_code="fa")
    welcome = await ali.send("/start")
    assert welcome is not None and "Ali" in welcome.text

    webhook = tg.calls("setWebhook")[-1]
    assert webhook["url"] == webhook_bot.settings.webhook.url
    assert webhook["drop_pending_updates"] is False, "what a dead process left is still handled"
    assert set(webhook["allowed_updates"]) == {"message", "edited_message", "callback_query"}, \
        "edited_message: support mirrors edits"
    assert len(webhook["secret_token"]) >= 32, "a secret made at start when none is configured"
    assert tg.calls("getUpdates") == []


async def test_a_post_without_the_secret_is_refused_and_not_handled(tg, db, webhook_bot):
    mallory = tg.user(4302, first_name="Mallory")
    update = {"update_id": 1, "message": {
        "message_id": 1, "date": 1_700_000_000, "chat": {"id": mallory.user_id, "type": "private"},
        "from": {"id": mallory.user_id, "is_bot": False, "first_name": "Mallory", "language_code": "ru"},
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }}
    secret = tg.calls("setWebhook")[-1]["secret_token"]
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guessed"}):
            async with http.post(webhook_bot.settings.webhook.url, data=json.dumps(update),
                                 headers=headers) as answer:
                assert answer.status == 401
        assert mallory.bot_messages() == []
        async with db.reading() as session:
            assert await session.scalar(select(Account).where(Account.id == mallory.user_id)) is None

        async with http.post(webhook_bot.settings.webhook.url, data=json.dumps(update),
                             headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as answer:
            assert answer.status == 200
    # Answered only once handled: the welcome was sent before the webhook's answer came back.
    assert "Mallory" in mallory.last_message().text


@pytest.mark.parametrize("secret", ["тайный-ключ".encode(), b"\xff\xfe-not-utf-8", b"caf\xc3"])
async def test_a_post_whose_secret_is_not_ascii_is_refused_without_a_traceback(tg, db, webhook_bot, caplog, secret):
    mallory = tg.user(4303, first_name="Mallory")
    update = {"update_id": 1, "message": {
        "message_id": 1, "date": 1_700_000_000, "chat": {"id": mallory.user_id, "type": "private"},
        "from": {"id": mallory.user_id, "is_bot": False, "first_name": "Mallory", "language_code": "ru"},
        "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }}
    path = urlsplit(webhook_bot.settings.webhook.url).path.encode()
    head = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" \
           b"X-Telegram-Bot-Api-Secret-Token: %s\r\n" % (path, secret)
    with caplog.at_level(logging.DEBUG):
        status, answer = await raw_request(webhook_bot.settings.web.port, head, json.dumps(update).encode())
    assert (status, answer) == (401, b"Unauthorized")
    assert not [record for record in caplog.records if record.exc_info], "refused calmly, no traceback"
    assert mallory.bot_messages() == []
    async with db.reading() as session:
        assert await session.scalar(select(Account).where(Account.id == mallory.user_id)) is None


async def test_the_webhook_and_the_border_api_each_answer_only_on_their_own_port(webhook_bot):
    web_port, api_port = webhook_bot.settings.web.port, webhook_bot.api_port
    assert web_port != api_port
    webhook = urlsplit(webhook_bot.settings.webhook.url).path
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{api_port}/v1/openapi.json") as answer:
            assert answer.status == 200 and (await answer.json())["openapi"] == "3.1.0"
        async with http.get(f"http://127.0.0.1:{web_port}/v1/openapi.json") as answer:
            assert answer.status == 404, "the webhook's public port does not expose the API"
        async with http.post(f"http://127.0.0.1:{api_port}{webhook}", data="{}") as answer:
            assert answer.status == 404, "nor the API's port the webhook"

"""Which requests take a token of the outgoing budget, and at which priority."""

from __future__ import annotations

from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetUpdates, SendMessage, SendPhoto, SetMyCommands

from bot.app import RetryAfterMiddleware, build_bot
from bot.config import load_settings
from bot.outgoing import OutgoingMiddleware
from services.limits.outgoing import ACTION, ANSWER, SILENT, sending_at


class Recorder:
    def __init__(self) -> None:
        self.taken: list[tuple[int | None, int]] = []

    async def acquire(self, chat_id, priority=ANSWER) -> float:
        self.taken.append((chat_id, priority))
        return 0.0


async def _through(middleware, method) -> None:
    async def make_request(bot, method):
        return True

    await middleware(make_request, None, method)


async def test_sends_and_edits_take_a_token_at_the_senders_priority():
    recorder = Recorder()
    middleware = OutgoingMiddleware(recorder)
    await _through(middleware, SendMessage(chat_id=5, text="hi"))
    with sending_at(ACTION):
        await _through(middleware, SendPhoto(chat_id=-100, photo="file-id"))
        with sending_at(SILENT):
            await _through(middleware, EditMessageText(chat_id=5, message_id=1, text="x"))
        await _through(middleware, EditMessageText(inline_message_id="abc", text="x"))
    assert recorder.taken == [(5, ANSWER), (-100, ACTION), (5, SILENT), (None, ACTION)]


async def test_answers_to_taps_updates_and_commands_take_none():
    recorder = Recorder()
    middleware = OutgoingMiddleware(recorder)
    for method in (AnswerCallbackQuery(callback_query_id="1"), GetUpdates(), SetMyCommands(commands=[])):
        await _through(middleware, method)
    assert recorder.taken == []


async def test_the_budget_comes_before_the_retries_of_429():
    bot = build_bot(load_settings(bot_token="123456:TEST"))
    kinds = [type(m) for m in bot.session.middleware._middlewares]
    assert kinds.index(OutgoingMiddleware) < kinds.index(RetryAfterMiddleware)
    await bot.session.close()

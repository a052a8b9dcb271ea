"""Callback queries: what a tap waits for, and answerCallbackQuery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from local_bot_api.chat import CallbackAnswer
from local_bot_api.errors import ApiError, bad_request
from local_bot_api.limits import MAX_CALLBACK_ANSWER_LENGTH
from local_bot_api.wire import Params

if TYPE_CHECKING:
    from local_bot_api.people import SimUser

QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


@dataclass
class PendingQuery:
    """A callback query the bot has received; Telegram accepts one answer, and only for a while."""

    user: SimUser
    data: str | None
    created: float
    answered: bool = False
    # An answer came after the query's lifetime and was refused. Telegram says the same thing for
    # a late answer, a second answer and an unknown id; tests need to tell a late one apart, to
    # expect an answer for every tap except those a bot could no longer answer.
    answered_too_late: bool = False


class CallbackMethods:
    """answerCallbackQuery; a mixin of `BotAPIServer`."""

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.str("callback_query_id") or ""
        query = self._queries.get(query_id)
        if query is None or query.answered:
            raise ApiError(400, QUERY_INVALID)
        if self.clock() - query.created > self.callback_query_ttl:
            query.answered_too_late = True
            raise ApiError(400, QUERY_INVALID)
        text = params.str("text")
        if text and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        answer = CallbackAnswer(
            text=text or None,
            show_alert=params.bool("show_alert"),
            url=params.str("url"),
            cache_time=params.int("cache_time") or 0,
            query_id=query_id,
            data=query.data,
        )
        self._answers[query_id] = answer
        query.user.callback_answers.append(answer)
        return True

"""A tap is answered before its handler waits for the outgoing budget.

Telegram shows a spinner on a tapped button until the bot answers the tap (answerCallbackQuery,
which Telegram does not count against the bot's 30 messages a second). The answer used to go after
the handler, and so after the handler's edit of the screen, which waits its turn in the budget: in a
rush of 300 drivers tapping Next, the answers came at the budget's pace, 30 a second, the last after
10 s, though every decision was made in the first second. Now the first request of a handler that
must take a token of the budget answers the tap first, with what the handler has put on its answer
by then (the alert of a refusal, or nothing: the screen that follows shows the outcome).

`bot.middlewares.AnswerTaps` opens a `PendingTap` around each tap's handler, and
`bot.outgoing.OutgoingMiddleware` calls `answer_pending_tap()` before it takes a token. The context
variable carries the tap to the requests of its handler, and of tasks the handler starts (which copy
the context), and to no other update's.
"""

from __future__ import annotations

from collections import OrderedDict
from contextvars import ContextVar

from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer, CallbackAnswerMiddleware


class PendingTap:
    """A tap being handled, and whether its one answer has gone."""

    def __init__(self, middleware: CallbackAnswerMiddleware, query: CallbackQuery, answer: CallbackAnswer) -> None:
        self.middleware, self.query, self.answer = middleware, query, answer
        self.sent: tuple[str | None, bool | None] | None = None  # the text and alert it went with

    async def send(self) -> None:
        """The answer, once: marked sent before the request, so that two requests of one handler
        started side by side do not both answer."""
        if self.sent is not None or self.answer.disabled:
            return
        self.sent = (self.answer.text, self.answer.show_alert)
        await self.middleware.answer(self.query, self.answer)

    def changed_after_sending(self) -> bool:
        """Whether the handler put another text or alert on its answer after it went (Telegram takes
        one answer per tap, so that one was not shown)."""
        return self.sent is not None and self.sent != (self.answer.text, self.answer.show_alert)


pending_tap: ContextVar[PendingTap | None] = ContextVar("nobat_pending_tap", default=None)

# Taps answered before their handler failed, by query id, for the error handler (which runs after
# the tap's context is gone). Each is taken once; a few hundred at most are ever waiting.
_answered_then_failed: OrderedDict[str, None] = OrderedDict()
_KEPT = 1000


async def answer_pending_tap() -> None:
    """Answer the tap being handled, if any and not yet answered: called before waiting for the budget."""
    tap = pending_tap.get()
    if tap is not None:
        await tap.send()


def failed_after_answer(tap: PendingTap) -> None:
    """The tap's handler failed; if its answer had gone, the error handler must say so otherwise."""
    if tap.sent is not None:
        _answered_then_failed[tap.query.id] = None
        while len(_answered_then_failed) > _KEPT:
            _answered_then_failed.popitem(last=False)


def answered_early(query_id: str) -> bool:
    """Whether this failed tap had its answer already: Telegram would refuse a second one, so the
    error handler says what failed in a message instead."""
    return _answered_then_failed.pop(query_id, False) is None

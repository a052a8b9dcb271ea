"""One mapping of Telegram's answers for every row of the outbox, and one retry policy: what each
answer means for the message, whether it is tried again, and when."""

from __future__ import annotations

import pytest
from aiogram.exceptions import (
    TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError,
)
from aiogram.methods import SendMessage

from bot.outbox.answers import judge
from services.outbox.outbox import Due, Failed, Retry, RetryPolicy, Settled, Undeliverable
from services.storage.unavailable import DatabaseUnavailable

SEND = SendMessage(chat_id=1, text="x")
POLICY = RetryPolicy(retry_limit=3, first_delay=2, longest_delay=600)


def row(attempts: int = 0) -> Due:
    return Due(1, "notice", "chat:1", 1, 1, 7, {}, attempts, None, "ru")


def test_the_backoff_doubles_from_two_seconds_to_at_most_ten_minutes():
    assert [POLICY.delay(n) for n in (1, 2, 3, 4, 20)] == [2, 4, 8, 16, 600]


def test_a_429_comes_back_when_telegram_says_without_spending_an_attempt():
    assert judge(TelegramRetryAfter(SEND, "Too Many Requests", 7), row(2), POLICY) == \
        Retry(7.0, "429 retry after 7s", 2)


def test_a_chat_that_blocked_the_bot_is_undeliverable_at_once():
    assert judge(TelegramForbiddenError(SEND, "Forbidden: bot was blocked by the user"), row(), POLICY) == \
        Undeliverable("403 Forbidden: bot was blocked by the user", 1)


@pytest.mark.parametrize("error", [TelegramServerError(SEND, "Bad Gateway"), TelegramNetworkError(SEND, "timeout"),
                                   TimeoutError()])
def test_a_fault_of_the_moment_is_tried_again_after_the_backoff_until_the_limit(error):
    first, second, last = (judge(error, row(n), POLICY) for n in range(3))
    assert (type(first), first.seconds, first.attempts) == (Retry, 2, 1)
    assert (type(second), second.seconds, second.attempts) == (Retry, 4, 2)
    assert type(last) is Failed and last.attempts == 3


@pytest.mark.parametrize("message", ["Bad Request: message to edit not found", "Bad Request: message can't be edited",
                                     "Bad Request: message to copy not found"])
def test_a_message_that_is_gone_is_settled_not_retried(message):
    assert isinstance(judge(TelegramBadRequest(SEND, message), row(), POLICY), Settled)


def test_an_edit_that_changes_nothing_is_settled():
    verdict = judge(TelegramBadRequest(SEND, "Bad Request: message is not modified: specified new message content "
                                             "and reply markup are exactly the same"), row(), POLICY)
    assert verdict == Settled("unchanged")


def test_a_refusal_no_retry_can_cure_fails_the_row_instead_of_trying_forever():
    verdict = judge(TelegramBadRequest(SEND, "Bad Request: message is too long"), row(), POLICY, mendable=True)
    assert verdict == Failed("400 Bad Request: message is too long", 1)


def test_the_agents_group_refusing_waits_for_an_operator_to_mend_it_without_end():
    not_admin = TelegramBadRequest(SEND, "Bad Request: not enough rights to create a topic")
    later = judge(not_admin, row(attempts=50), POLICY, mendable=True)
    assert type(later) is Retry and later.seconds == 600 and later.attempts == 51
    kicked = judge(TelegramForbiddenError(SEND, "Forbidden: bot was kicked from the supergroup chat"), row(9), POLICY,
                   mendable=True)
    assert type(kicked) is Retry
    assert type(judge(not_admin, row(), POLICY)) is Failed, "a private chat's refusal is not the operator's to mend"


def test_the_database_away_spends_no_attempt_and_a_bug_is_given_up_like_any_fault():
    away = judge(DatabaseUnavailable("gone"), row(2), POLICY)
    assert type(away) is Retry and away.attempts == 2
    assert type(judge(KeyError("x"), row(2), POLICY)) is Failed

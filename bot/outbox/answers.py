"""What Telegram's answer to a send means for its outbox row: the one mapping every kind shares.

403 (the chat blocked the bot) makes it undeliverable; 429 brings it back after Telegram's
`retry_after` without spending an attempt; a 5xx, a timeout or a network fault is tried again after
the policy's backoff; a message to edit that is gone, or already says the same, is settled: there
is nothing left to do. Any other refusal is for what the message says, and no retry would cure it:
the row fails, instead of being tried forever. Rows for the agents' group are the exception an
operator can mend (the group not a forum yet, the bot not its admin): those refusals wait and try
again, without end, until the group takes them.
"""

from __future__ import annotations

from aiogram.exceptions import (
    TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError,
)

from services.outbox.outbox import Due, Failed, Retry, RetryPolicy, Settled, Undeliverable, Verdict
from services.storage.unavailable import DatabaseUnavailable

GONE = ("message to edit not found", "message can't be edited", "message to copy not found",
        "message to delete not found")
UNCHANGED = "message is not modified"
# Refusals of what a message says: no change of the chat's setup makes Telegram take it.
CONTENT = ("too long", "can't parse", "must be non-empty", "is empty", "BUTTON_DATA_INVALID", "wrong file",
           "entities")
DATABASE_RETRY_SECONDS = 5.0
DATABASE_AWAY = "the database was unavailable"  # a Retry's error that is ours, not Telegram's or the chat's


def judge(error: BaseException, due: Due, policy: RetryPolicy, *, mendable: bool = False) -> Verdict:
    """`mendable`: the chat's refusals (400, 403) are its setup's, which an operator mends."""
    if isinstance(error, TelegramRetryAfter):
        return Retry(float(error.retry_after), f"429 retry after {error.retry_after}s", due.attempts)
    if isinstance(error, TelegramForbiddenError):
        if mendable:
            return policy.failed(due, f"403 {error.message}", give_up=False)
        return Undeliverable(f"403 {error.message}", due.attempts + 1)
    if isinstance(error, (TelegramServerError, TelegramNetworkError, TimeoutError)):
        return policy.failed(due, f"{type(error).__name__}: {getattr(error, 'message', '') or error!r}"[:200])
    if isinstance(error, TelegramBadRequest):
        if any(reason in error.message for reason in GONE):
            return Settled(f"gone: {error.message}")
        if UNCHANGED in error.message:
            return Settled("unchanged")
        if mendable and not any(reason in error.message for reason in CONTENT):
            return policy.failed(due, f"400 {error.message}", give_up=False)
        return Failed(f"400 {error.message}", due.attempts + 1)
    if isinstance(error, DatabaseUnavailable):  # ours, not the row's: no attempt spent
        return Retry(DATABASE_RETRY_SECONDS, DATABASE_AWAY, due.attempts)
    # A fault of ours (a bug): tried again after the backoff, and given up like any other fault.
    return policy.failed(due, f"{type(error).__name__}")

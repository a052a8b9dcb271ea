"""Telegram's limits: sizes of texts and buttons, and the flood limits enforced with token buckets."""

from __future__ import annotations

import math
from dataclasses import dataclass

from local_bot_api.errors import ApiError

MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units after entity parsing, like Telegram's own clients count
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_TOPIC_NAME_LENGTH = 128  # characters; Telegram cuts longer names rather than refusing them
MAX_LONG_POLL_SECONDS = 50.0  # Telegram caps getUpdates timeouts at about 50 s as well


@dataclass
class Limits:
    """Telegram's flood limits, which the server enforces with token buckets.

    Telegram answers 429 "Too Many Requests: retry after N" when a bot sends faster than these
    (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).  A bot
    that broadcasts (queue notifications to every driver, say) must pace itself; these limits make
    a test fail the same way production would, instead of silently passing.  Tests may change the
    fields at any time, e.g. lower `global_per_s` to exercise the global limit with few users.
    """

    global_per_s: float = 30.0  # messages sent by the bot per second, all chats together
    chat_per_s: float = 1.0  # per private chat: about one message a second
    chat_burst: int = 3  # Telegram tolerates short bursts in a private chat before it answers 429
    group_per_min: float = 20.0  # per group/supergroup chat (chat id < 0): 20 messages a minute
    group_burst: int = 5
    enabled: bool = True


class TokenBucket:
    """A token bucket read with the current limits on every use (tests change limits at runtime).

    Starts full, so a bot that just started may send a burst, as on Telegram.
    """

    def __init__(self) -> None:
        self.tokens: float | None = None
        self.stamp = 0.0

    def seconds_until_token(self, rate: float, capacity: float, now: float) -> float:
        capacity = max(1.0, float(capacity))
        if self.tokens is None:
            self.tokens = capacity
        elif rate > 0:
            self.tokens = min(capacity, self.tokens + max(0.0, now - self.stamp) * rate)
        else:
            self.tokens = min(capacity, self.tokens)
        self.stamp = now
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / rate if rate > 0 else 3600.0

    def take(self) -> None:
        assert self.tokens is not None
        self.tokens -= 1.0


def take_send_slot(
    limits: Limits, global_bucket: TokenBucket, chat_bucket: TokenBucket, *, private: bool, now: float,
    chat_clock_ahead: float,
) -> float:
    """Take one send from the global and the chat's bucket; 0.0, or the seconds to wait if refused.

    Nothing is taken when refused: a refused message is not delivered, exactly like on Telegram,
    so a bot that ignores 429 visibly loses messages in tests.  `chat_clock_ahead` is how far the
    chat's clock runs ahead of `now` (the time its people spent thinking).
    """
    if private:
        chat_rate, chat_capacity = limits.chat_per_s, limits.chat_burst
    else:
        chat_rate, chat_capacity = limits.group_per_min / 60.0, limits.group_burst
    wait = max(
        # One second's worth of burst globally.
        global_bucket.seconds_until_token(limits.global_per_s, limits.global_per_s, now),
        chat_bucket.seconds_until_token(chat_rate, chat_capacity, now + chat_clock_ahead),
    )
    if wait == 0:
        global_bucket.take()
        chat_bucket.take()
    return wait


def too_many_requests(wait: float) -> ApiError:
    retry_after = max(1, math.ceil(wait - 1e-9))
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

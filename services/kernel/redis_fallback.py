"""Redis away at run time: what each user of Redis does instead, and how it goes back.

Redis holds what several bot processes share: the outgoing budget, the flood counts and the
conversation state. It was there at start (or the start failed), but it may stop answering later:
restarted, its port refusing, the network gone. Then every call would fail, and with it every
update, the error reply too (it waits for the outgoing budget). So each user of Redis names what
to do instead while it is away: the budget and the flood count in this process's memory, the
conversation state as unknown (a step that needs it asks the driver to try again shortly).

One `RedisFallback` per Redis client is shared by all of them:
- the first failure is one warning line, the first call that gets through again one line; the
  updates in between add nothing to the log;
- every call tries Redis first, so the first one after Redis is back uses it again: nothing waits
  for a timer to notice;
- but while Redis is away only one call at a time tries it, the others go straight to what they
  do instead: a Redis that accepts connections and never answers costs one caller its socket
  timeout, not every update in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
T = TypeVar("T")

# What says "Redis is not there to answer" (refused, reset, timed out, still loading its data, a
# replica that cannot write), as opposed to a fault of the call itself, which is raised as it is.
AWAY = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError, TimeoutError)


class RedisFallback:
    def __init__(self) -> None:
        self.away: str | None = None  # why Redis is away, while it is
        self._trying = False

    async def call(self, attempt: Callable[[], Awaitable[T]], instead: Callable[[], T]) -> T:
        """`attempt()`'s answer from Redis, or, while Redis is away, `instead()`'s."""
        if self.away is not None and self._trying:
            return instead()
        trying = self._trying = self.away is not None
        try:
            result = await attempt()
        except AWAY as error:
            self._gone(error)
            return instead()
        finally:
            if trying:
                self._trying = False
        if self.away is not None:
            log.info("Redis answers again: shared state and limits are kept there again (it was away: %s)", self.away)
            self.away = None
        return result

    def _gone(self, error: BaseException) -> None:
        if self.away is None:
            self.away = f"{type(error).__name__}: {error}".rstrip(": ")
            log.warning("Redis is away (%s): until it answers, this process keeps the outgoing budget and the flood "
                        "limit in its memory, and steps that need the conversation state ask to try again", self.away)

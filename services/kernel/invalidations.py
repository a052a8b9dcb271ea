"""How a process tells the others that a cached row changed, so their caches drop it.

Without Redis there are no others to tell (one process; several need Redis for their shared
conversation state anyway). With Redis, a change is published on a channel that every process
subscribes to; after a gap in the subscription (Redis restarted, the connection dropped) a process
cannot know what it missed, so it forgets its whole cache.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable

from services.kernel.redis_fallback import RedisFallback

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0


class Invalidations:
    """The changes of this process only: nothing to publish, nobody else to hear."""

    def __init__(self) -> None:
        self._on_change: dict[str, list[Callable[[Iterable[int]], None]]] = {}
        self._on_gap: list[Callable[[], None]] = []

    def listen(self, kind: str, on_change: Callable[[Iterable[int]], None], on_gap: Callable[[], None]) -> None:
        """`on_change(ids)` when rows of this kind changed elsewhere; `on_gap()` when changes may
        have been missed."""
        self._on_change.setdefault(kind, []).append(on_change)
        self._on_gap.append(on_gap)

    async def publish(self, kind: str, ids: list[int]) -> None:
        """Tell the other processes (this one has already dropped them itself)."""

    async def run(self) -> None:
        """Hear the other processes until cancelled."""

    def _changed(self, kind: str, ids: list[int]) -> None:
        for listener in self._on_change.get(kind, []):
            listener(ids)

    def _gap(self) -> None:
        for listener in self._on_gap:
            listener()


class RedisInvalidations(Invalidations):
    def __init__(self, redis, channel: str, fallback: RedisFallback | None = None) -> None:
        super().__init__()
        self.redis = redis
        self.channel = channel
        self.fallback = fallback or RedisFallback()
        self.listening = asyncio.Event()  # set while subscribed (tests wait for it)

    async def publish(self, kind: str, ids: list[int]) -> None:
        try:
            # Redis away: the others' caches still expire, and they forget them whole when they
            # hear again; nothing of the change is lost.
            await self.fallback.call(lambda: self.redis.publish(self.channel, json.dumps({"kind": kind, "ids": ids})),
                                     lambda: None)
        except Exception as exc:
            log.warning("could not tell the other processes that %s %s changed (%s: %s)", kind, ids,
                        type(exc).__name__, exc)

    async def run(self) -> None:
        deaf = False  # said once while the subscription fails again and again (Redis away), not each second
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    # Whatever changed before this subscription, this process may hold it.
                    self._gap()
                    self.listening.set()
                    if deaf:
                        log.info("hearing other processes' changes again")
                        deaf = False
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            change = json.loads(message["data"])
                            self._changed(change["kind"], change["ids"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not deaf:
                    log.warning("not hearing other processes' changes (%s: %s); forgetting the cache, trying again "
                                "every %ss", type(exc).__name__, exc, RECONNECT_SECONDS)
                deaf = True
            self.listening.clear()
            self._gap()
            await asyncio.sleep(RECONNECT_SECONDS)

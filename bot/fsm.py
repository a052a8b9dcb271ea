"""aiogram's Redis FSM storage, with the reads and writes of one moment sent together.

aiogram reads the conversation state of every update (`FSMContextMiddleware`), and most taps write
it. One at a time, each is a round trip through redis-py's connection pool: with a hundred updates
in flight, those round trips were a large part of what a tap cost the bot (docs/benchmarks.md).
Through `services.kernel.batching.Batcher`, the states read at the same moment are one MGET, and the
writes one pipeline; a request alone is still one round trip. Each caller still waits for its own
read or write, so a handler that sets a state and returns has it stored, as before.

While Redis is away (`services.kernel.redis_fallback`) the state reads as unknown, and a step's data
or a move to a step cannot be had (`handlers.common.conversation`). Leaving a step then (/start)
clears nothing: once Redis is back, the old step may still be the driver's, as if /start had not come.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage

from handlers.common.conversation import UNKNOWN, StateUnavailable
from services.kernel.batching import Batcher
from services.kernel.redis_fallback import RedisFallback


class BatchedRedisStorage(RedisStorage):
    def __init__(self, *args: Any, fallback: RedisFallback | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fallback = fallback or RedisFallback()
        self._reads: Batcher[str, str | None] = Batcher(self._read_batch)
        self._writes: Batcher[tuple[str, str | None, Any], None] = Batcher(self._write_batch)

    async def get_state(self, key: StorageKey) -> str | None:
        return await self.fallback.call(lambda: self._reads(self.key_builder.build(key, "state")), lambda: UNKNOWN)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        value = await self.fallback.call(lambda: self._reads(self.key_builder.build(key, "data")), _unavailable)
        return {} if value is None else self.json_loads(value)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(self.key_builder.build(key, "state"), value, self.state_ttl)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            raise DataNotDictLikeError(f"Data must be a dict or dict-like object, got {type(data).__name__}")
        value = self.json_dumps(data) if data else None
        await self._write(self.key_builder.build(key, "data"), value, self.data_ttl)

    async def _write(self, key: str, value: str | None, ttl: Any) -> None:
        # Leaving a step (a None) is let go while Redis is away, so /start still starts afresh;
        # a step that cannot be stored cannot be taken.
        await self.fallback.call(lambda: self._writes((key, value, ttl)),
                                 _unavailable if value is not None else lambda: None)

    async def _read_batch(self, keys: list[str]) -> list[str | None]:
        values = await self.redis.mget(keys)
        return [value.decode("utf-8") if isinstance(value, bytes) else value for value in values]

    async def _write_batch(self, writes: list[tuple[str, str | None, Any]]) -> list[None]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, value, ttl in writes:  # in order: of two writes to one key, the later stays
                if value is None:
                    pipe.delete(key)
                else:
                    pipe.set(key, value, ex=ttl)
            await pipe.execute()
        return [None] * len(writes)


def _unavailable() -> Any:
    raise StateUnavailable("the conversation state is in Redis, which is away")

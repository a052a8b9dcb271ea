"""What a process remembers of rows it read lately, and when it must forget them.

Accounts and their trucks are read on nearly every update and change rarely, so they are cached.
A change drops the row here and, through `services.kernel.invalidations`, in every other process. Two
races are closed: a read that began before a change must not put the old row back (each change
bumps a counter, and a read stores its rows only if none of them changed since it began); and a
change that another process's message never brought (Redis away for a moment) is covered by an
age limit on every row, and by forgetting everything after such a gap.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")

CACHE_SIZE = 100_000  # accounts active in the last hours of a big crossing
CACHE_SECONDS = 300.0


class RecentRows(Generic[Key, Value]):
    """The rows read lately, the least recently used forgotten first, none kept past `seconds`."""

    def __init__(self, size: int = CACHE_SIZE, seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.seconds, self.clock = size, seconds, clock
        self._rows: OrderedDict[Key, tuple[float, Value]] = OrderedDict()
        self._changes = 0
        self._changed_at: dict[Key, int] = {}  # key → the change counter when it last changed
        self._cleared_at = -1

    def get(self, key: Key) -> Value | None:
        found = self._rows.get(key)
        if found is None:
            return None
        stored_at, value = found
        if self.clock() - stored_at > self.seconds:
            del self._rows[key]
            return None
        self._rows.move_to_end(key)
        return value

    def mark(self) -> int:
        """Taken before a read: what `put` compares against."""
        return self._changes

    def put(self, rows: Iterable[tuple[Key, Value]], mark: int) -> None:
        if self._cleared_at > mark:
            return
        now = self.clock()
        for key, value in rows:
            if self._changed_at.get(key, -1) >= mark:
                continue  # changed while it was being read: the next update reads it again
            self._rows[key] = (now, value)
            self._rows.move_to_end(key)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def invalidate(self, keys: Iterable[Key]) -> None:
        for key in keys:
            self._rows.pop(key, None)
            self._changed_at[key] = self._changes
        self._changes += 1
        if len(self._changed_at) > self.size:  # only reads still running need the old entries
            self._changed_at = {k: at for k, at in self._changed_at.items() if at >= self._changes - 1000}

    def clear(self) -> None:
        """Forget everything: changes may have been missed."""
        self._rows.clear()
        self._changed_at.clear()
        self._changes += 1
        self._cleared_at = self._changes

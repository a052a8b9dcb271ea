"""A background step run again and again until stopped: the workers and the notice sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)


class Repeating:
    """Runs `step()` every `interval` seconds until `stop()`; at once again while `step()` says
    more is waiting. A failed step is logged and tried again at the next round. `interval` None:
    nothing runs by itself (tests call the step)."""

    name = "repeating"

    def __init__(self, interval: float | None) -> None:
        self.interval = interval
        self._stopping = asyncio.Event()

    async def step(self) -> object:
        raise NotImplementedError

    def start(self) -> list[asyncio.Task]:
        if self.interval is None:
            return []
        self._stopping.clear()
        return [asyncio.create_task(self._loop(), name=self.name)]

    async def stop(self) -> None:
        self._stopping.set()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = await self.step()
            except Exception:
                log.exception("%s: a step failed; trying again in %ss", self.name, self.interval)
                busy = False
            if busy:
                continue  # more may be due: on at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)

"""An asyncio loop on simulated time, for tests of code that paces itself (the outgoing budget):
whenever nothing is ready to run, the loop's clock jumps to the next timer instead of sleeping, so
`asyncio.sleep`, `wait_for` and `asyncio.timeout` pass at once, in their order, and
`loop.time()` says exactly how long the code waited. What is asserted is what was allowed,
refused and waited in simulated seconds, never how long the machine took."""

from __future__ import annotations

import asyncio
import functools
import selectors
from collections.abc import Callable, Coroutine
from typing import Any


class _Jumping(selectors.BaseSelector):
    """The loop's selector: real I/O is only polled (the loop's own wake-up pipe), and a wait for
    the next timer is a jump of the simulated clock."""

    def __init__(self, loop: SimulatedLoop) -> None:
        self._loop = loop
        self._real = selectors.DefaultSelector()

    def register(self, fileobj, events, data=None):
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj):
        return self._real.unregister(fileobj)

    def modify(self, fileobj, events, data=None):
        return self._real.modify(fileobj, events, data)

    def get_map(self):
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None):
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("nothing is scheduled and nothing can wake the loop: the test would wait forever")
        self._loop.now += timeout
        return []


class SimulatedLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.now = 1000.0
        super().__init__(_Jumping(self))

    def time(self) -> float:
        return self.now


LIMIT_SECONDS = 60.0  # of simulated time: a test still waiting then fails instead of running on (for long)


def simulated(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """The async test run to its end in a `SimulatedLoop` of its own."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        loop = SimulatedLoop()
        try:
            loop.run_until_complete(asyncio.wait_for(test(*args, **kwargs), LIMIT_SECONDS))
        finally:
            left = asyncio.all_tasks(loop)  # as asyncio.run ends: what the test left running is cancelled
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    return run

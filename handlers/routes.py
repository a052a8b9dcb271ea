"""Handlers declared once, routers built per dispatcher.

aiogram attaches a Router to one parent for life, so module-level routers allow one Dispatcher
per process. Tests and `nobat demo` build several (one per test, or two bot processes sharing a
database), so each handler module records its handlers in `Routes`, written exactly like a Router,
and `build()` makes a fresh Router from them each time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router


class _Observer:
    def __init__(self, routes: Routes, event: str) -> None:
        self.routes = routes
        self.event = event

    def __call__(self, *filters: Any, **kwargs: Any) -> Callable:
        def register(callback: Callable) -> Callable:
            self.routes.handlers.append((self.event, callback, filters, kwargs))
            return callback

        return register

    def filter(self, *filters: Any) -> None:
        self.routes.filters.append((self.event, filters))


class Routes:
    def __init__(self, name: str) -> None:
        self.name = name
        self.handlers: list[tuple[str, Callable, tuple, dict]] = []
        self.filters: list[tuple[str, tuple]] = []
        self.message = _Observer(self, "message")
        self.callback_query = _Observer(self, "callback_query")
        self.error = _Observer(self, "error")

    def build(self) -> Router:
        router = Router(name=self.name)
        for event, filters in self.filters:
            getattr(router, event).filter(*filters)
        for event, callback, filters, kwargs in self.handlers:
            getattr(router, event).register(callback, *filters, **kwargs)
        return router

"""The features' routers: built afresh for every dispatcher, each under the router of the chat kind it
serves, and no two features share a button prefix."""

from __future__ import annotations

from aiogram import Dispatcher, Router
from aiogram.filters.callback_data import CallbackData

import handlers


def _all_callback_data(cls: type = CallbackData) -> list[type[CallbackData]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_callback_data(sub)]
    return found


def _tree(router: Router) -> list:
    return [(sub.name, _tree(sub)) for sub in router.sub_routers]


def _routers(router: Router) -> list[Router]:
    return [r for sub in router.sub_routers for r in (sub, *_routers(sub))]


def test_two_dispatchers_in_one_process_each_get_their_own_routers():
    first, second = Dispatcher(), Dispatcher()
    handlers.include_all(first)
    handlers.include_all(second)  # aiogram refuses to attach one Router to two parents
    assert _tree(first) == _tree(second) == [
        ("private_chats", [
            ("start", []), ("operators", []), ("trucks", []), ("following", []), ("booking", []), ("bookings", []),
            ("fairness", []), ("support", [("support_closing", [])]), ("fallback", [])]),
        ("agents_group", [("support_topics", [("support_agents", [])])]),
        ("outside", []),
        ("errors", []),
    ]
    assert not {id(r) for r in _routers(first)} & {id(r) for r in _routers(second)}


def test_every_button_prefix_belongs_to_one_feature():
    # Two payload classes with one prefix would send one feature's taps to the other's handlers.
    prefixes = [cls.__prefix__ for cls in _all_callback_data() if cls.__module__.startswith("handlers.")]
    assert len(prefixes) >= 10
    assert len(prefixes) == len(set(prefixes))


def test_every_command_of_private_chats_leaves_the_step_it_interrupts_but_cancel():
    from aiogram.filters import Command

    from handlers.common.conversation import LEAVING_COMMANDS

    dispatcher = Dispatcher()
    handlers.include_all(dispatcher)
    private = next(r for r in dispatcher.sub_routers if r.name == "private_chats")
    registered = {name for router in _routers(private) for handler in router.message.handlers
                  for f in handler.filters or () if isinstance(f.callback, Command)
                  for name in f.callback.commands if isinstance(name, str)}
    assert "book" in registered and "support" in registered
    assert registered - {"cancel"} == LEAVING_COMMANDS

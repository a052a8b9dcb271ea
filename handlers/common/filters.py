"""Filters that resolve what a button names and hand it to the handler as an argument.

A button's payload is a request, never a permission: these look the named thing up for the account
that tapped. When it is unknown, gone or someone else's, the filter does not pass, no handler of the
feature runs, and the fallback router answers the tap with the localized stale-button alert.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import CommandObject, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.magic_filter import MagicFilter

from services.accounts.trucks import TruckService
from services.kernel.rules import Checkpoint


class Magic(Filter):
    """An `F` expression checked in the event loop. aiogram runs a bare magic filter through
    `asyncio.to_thread` (it is a plain function to it): a thread hop per filter per update, which
    in a rush costs more than the check itself."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))


class KnownCheckpoint(Filter):
    """Passes `checkpoint`: the configured checkpoint whose code the button carries.

    A code can go stale when an operator removes a checkpoint from config.yaml while its buttons
    are still in drivers' chats.
    """

    async def __call__(self, query: CallbackQuery, callback_data: CallbackData,
                       checkpoints: dict[str, Checkpoint]) -> dict[str, Any] | bool:
        checkpoint = checkpoints.get(getattr(callback_data, "checkpoint", None))
        return {"checkpoint": checkpoint} if checkpoint is not None else False


class OwnTruck(Filter):
    """Passes `truck`: the tapping account's own truck that the button names.

    A truck removed since the button was sent, or another account's (a forged payload), does not pass.
    """

    async def __call__(self, query: CallbackQuery, callback_data: CallbackData,
                       trucks: TruckService) -> dict[str, Any] | bool:
        truck = await trucks.get(query.from_user.id, callback_data.truck_id)
        return {"truck": truck} if truck is not None else False



class LinkedCheckpoint(Filter):
    """Passes `checkpoint` for /start with a checkpoint's code (t.me/<bot>?start=khorgos), the link
    printed at a border post. Another payload does not pass, and /start greets as usual."""

    async def __call__(self, message: Message, command: CommandObject,
                       checkpoints: dict[str, Checkpoint]) -> dict[str, Any] | bool:
        checkpoint = checkpoints.get((command.args or "").strip().lower())
        return {"checkpoint": checkpoint} if checkpoint is not None else False

"""The operators' commands: /abusers, /ban, /unban, /annul, /stats.

Operators are the Telegram accounts listed in config (`operators`), checked on the server for every
command: to anyone else these commands do not exist, and the fallback answers them as unknown.
"""

from __future__ import annotations

import logging
import re

from aiogram import Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import Message

from handlers.operators import screens
from services.kernel.rules import Checkpoint
from services.operators.abuse import Operators

log = logging.getLogger(__name__)
COMMANDS = ("abusers", "ban", "unban", "annul", "stats")


class IsOperator(Filter):
    async def __call__(self, message: Message, operator_ids: frozenset[int]) -> bool:
        return message.from_user is not None and message.from_user.id in operator_ids


def router() -> Router:
    r = Router(name="operators")
    r.message.filter(IsOperator())
    r.message.register(abusers, Command("abusers"))
    r.message.register(ban, Command("ban"))
    r.message.register(unban, Command("unban"))
    r.message.register(annul, Command("annul"))
    r.message.register(stats, Command("stats"))
    return r


def _words(command: CommandObject, at_least: int) -> list[str] | None:
    words = (command.args or "").split(maxsplit=at_least - 1)
    return words if len(words) >= at_least else None


def _account(text: str) -> int | None:
    """A Telegram account id as an operator types it: ASCII digits, within the ids Telegram gives
    (under 2**52) and the database's integers; None for anything else (the usage line follows)."""
    if not re.fullmatch(r"[0-9]{1,16}", text):
        return None
    value = int(text)
    return value if 0 < value < 2**52 else None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value <= 3650 else None


async def abusers(message: Message, command: CommandObject, operators: Operators, language: str) -> None:
    hours = _number(command.args.strip()) if command.args else 24.0
    if hours is None:
        await message.answer(**screens.usage().as_kwargs())
        return
    await message.answer(**screens.abusers(await operators.abusers(message.from_user.id, hours), hours, language).as_kwargs())


async def ban(message: Message, command: CommandObject, operators: Operators, checkpoints: dict[str, Checkpoint],
              language: str) -> None:
    words = _words(command, 3)
    days = _number(words[1]) if words else None
    account_id = _account(words[0]) if words else None
    if account_id is None or days is None:
        await message.answer(**screens.usage().as_kwargs())
        return
    reason = words[2]
    result = await operators.ban(message.from_user.id, account_id, days, reason)
    if result is None:
        await message.answer(**screens.no_account(account_id, language).as_kwargs())
        return
    # The reason is the operator's words, maybe about a person: it is in the audit trail, not the log.
    log.warning("operator %s banned account %s for %s days", message.from_user.id, account_id, days)
    checkpoint = next(iter(checkpoints.values()))
    await message.answer(**screens.banned(result, checkpoint, language).as_kwargs())  # it is told by the outbox


async def unban(message: Message, command: CommandObject, operators: Operators, language: str) -> None:
    words = _words(command, 1)
    account_id = _account(words[0]) if words else None
    if account_id is None:
        await message.answer(**screens.usage().as_kwargs())
        return
    was_banned = await operators.unban(message.from_user.id, account_id)
    log.warning("operator %s unbanned account %s", message.from_user.id, account_id)
    await message.answer(**screens.unbanned(account_id, was_banned, language).as_kwargs())


async def annul(message: Message, command: CommandObject, operators: Operators, language: str) -> None:
    words = _words(command, 2)
    if words is None:
        await message.answer(**screens.usage().as_kwargs())
        return
    ref, reason = words
    result = await operators.annul(message.from_user.id, ref, reason)
    log.warning("operator %s annulled booking %s (%s)", message.from_user.id, ref, result.outcome.value)
    await message.answer(**screens.annulled(ref.upper(), result, language).as_kwargs())


async def stats(message: Message, command: CommandObject, operators: Operators, checkpoints: dict[str, Checkpoint],
                language: str) -> None:
    code = (command.args or "").strip().lower()
    if code and code not in checkpoints:
        await message.answer(**screens.unknown_checkpoint(code, list(checkpoints), language).as_kwargs())
        return
    chosen = [checkpoints[code]] if code else list(checkpoints.values())
    found = [(checkpoint, await operators.stats(message.from_user.id, checkpoint)) for checkpoint in chosen]
    await message.answer(**screens.stats(found, language).as_kwargs())

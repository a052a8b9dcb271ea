"""/myrating: what the fair-access rules count of this account, and whether they pause it."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from handlers.fairness import screens
from services.booking.fairness import Fairness
from services.kernel.clock import Clock
from services.kernel.rules import BookingRules, Checkpoint


def router() -> Router:
    r = Router(name="fairness")
    r.message.register(my_rating, Command("myrating"))
    return r


async def my_rating(message: Message, fairness: Fairness, rules: BookingRules, checkpoints: dict[str, Checkpoint],
                    clock: Clock, language: str) -> None:
    shown = await fairness.rating(message.from_user.id, clock.now())
    # Times in the first checkpoint's zone: an account has none of its own, and it is where most cross.
    checkpoint = next(iter(checkpoints.values()))
    await message.answer(**screens.rating(shown, rules, checkpoint, language).as_kwargs())

"""Render what the bot tells a driver of their own holds and bookings: a hold ending, a hold ended, a
booking's reminder, and an operator's ban.

Each is rendered from the hold or booking as it is when sent, not as it was when queued: a warning
for a hold confirmed meanwhile, or a reminder of a booking cancelled meanwhile, is not sent at all.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot
from aiogram.utils.i18n import I18n

from handlers.booking import screens as booking_screens
from handlers.booking.ended import drop_buttons
from handlers.bookings import screens as bookings_screens
from handlers.common.screen import Screen
from handlers.operators import screens as operator_screens
from services.booking.engine import BookingService
from services.booking.outcomes import HoldView, minutes_left
from services.kernel.clock import Clock
from services.kernel.rules import Checkpoint
from services.limits.outgoing import ACTION, SILENT, sending_at
from services.operators.abuse import Banned
from services.outbox.kinds import Kind
from services.outbox.outbox import Due, Post, Sent, Settled, Verdict
from services.storage.models import ReservationStatus


class _OneMessage:
    """A row that sends one message, which rings."""

    kinds: tuple[str, ...] = ()

    def mendable(self, row: Due) -> bool:
        return False

    def __init__(self, bot: Bot, booking: BookingService, checkpoints: dict[str, Checkpoint], clock: Clock,
                 i18n: I18n) -> None:
        self.bot = bot
        self.booking = booking
        self.checkpoints = checkpoints
        self.clock = clock
        self.i18n = i18n

    async def load(self, rows: list[Due]) -> None:
        return None

    async def follow_ups(self, row: Due, verdict: Verdict) -> list[Post]:
        return []

    def language(self, row: Due) -> str:
        return row.language or self.i18n.default_locale

    async def reservation(self, row: Due) -> tuple[HoldView, Checkpoint] | None:
        found = await self.booking.get(row.account_id, int(row.payload["reservation"]))
        if found is None or found.checkpoint not in self.checkpoints:
            return None
        return found, self.checkpoints[found.checkpoint]

    async def send(self, row: Due, screen: Screen) -> Sent:
        with sending_at(ACTION):
            sent = await self.bot.send_message(chat_id=row.chat_id, **screen.as_kwargs())
        return Sent(sent.message_id)


class HoldEndingRenderer(_OneMessage):
    """A few minutes before a hold ends: how many are left, with Confirm."""

    kinds = (Kind.HOLD_ENDING,)

    async def deliver(self, row: Due) -> Verdict:
        found = await self.reservation(row)
        now = self.clock.now()
        if found is None or found[0].status is not ReservationStatus.HELD or found[0].expires_at <= now:
            return Settled("the hold is confirmed, cancelled or over")
        hold, checkpoint = found
        return await self.send(row, booking_screens.hold_ending(checkpoint, hold, minutes_left(hold.expires_at, now),
                                                                self.language(row), now))


class HoldExpiredRenderer(_OneMessage):
    """The news said once: a new message, which rings, says the hold ended, with Start again; the
    hold's own message and its warning lose their buttons (silently), their text kept, so neither
    says it again nor offers a Confirm that looks alive."""

    kinds = (Kind.HOLD_EXPIRED,)

    async def deliver(self, row: Due) -> Verdict:
        found = await self.reservation(row)
        if found is None:
            return Settled("no such hold")
        hold, checkpoint = found
        with sending_at(SILENT):
            for message_id in (hold.message_id, await self.booking.warning_message(hold)):
                await drop_buttons(self.bot, row.chat_id, message_id)
        return await self.send(row, booking_screens.hold_expired(checkpoint, hold.truck_id))


class ReminderRenderer(_OneMessage):
    """Some hours before a booked time: where and when, with "I'm on my way" and "Cancel booking"."""

    kinds = (Kind.REMINDER,)

    async def deliver(self, row: Due) -> Verdict:
        found = await self.reservation(row)
        if found is None or found[0].status is not ReservationStatus.BOOKED or found[0].starts_at <= self.clock.now():
            return Settled("the booking is cancelled, annulled or past")
        if found[0].slot_id != row.payload.get("slot", found[0].slot_id):
            return Settled("the booking was moved: its new time is reminded when due")
        booking, checkpoint = found
        return await self.send(row, bookings_screens.reminder(checkpoint, booking, self.language(row)))


class BannedRenderer(_OneMessage):
    """An operator's ban, told to the account itself: until when, and why."""

    kinds = (Kind.BANNED,)

    async def deliver(self, row: Due) -> Verdict:
        until = datetime.fromisoformat(str(row.payload["until"]))
        reason = str(row.payload.get("reason") or "")
        checkpoint = next(iter(self.checkpoints.values()))
        banned = Banned(row.chat_id, until, [], row.language)
        return await self.send(row, operator_screens.you_are_banned(banned, reason, checkpoint, self.language(row)))

"""Everything the bot says on its own, by kind: one renderer each in `bot.outbox`."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    NOTICE = "notice"  # a border system's event told to a following chat: its status card, and a ring
    HOLD_ENDING = "hold.ending"  # a few minutes before a hold ends: a new message with Confirm
    HOLD_EXPIRED = "hold.expired"  # the hold's message loses its buttons, a new one says it ended
    REMINDER = "booking.reminder"  # some hours before a booked time
    BANNED = "account.banned"  # an operator banned the account: why and until when
    TO_AGENTS = "support.to_agents"  # a driver's message copied into their ticket's topic
    TO_DRIVER = "support.to_driver"  # an agent's reply (or canned answer) copied to the driver
    SUPPORT_EDIT = "support.edit"  # a copy made to say what its message says after its writer's edit
    SUPPORT_NOTE = "support.note"  # the bot's own line on a ticket, to its driver or into its topic
    SUPPORT_TOPIC = "support.topic"  # a ticket's topic closed and marked ✅, or reopened, as the ticket is


"""What the support handlers ask of the bot, as Protocols: the relay that stores what drivers and
agents write and mirrors their edits (`Relay`), and the bot's own words to each side of a ticket
(`Notes`; what the other side is told of an action goes through the outbox, queued by the service
with the action). `bot.support.SupportRelay` and `bot.support_notes.SupportNotes` implement them and reach
the handlers as the `support_relay` and `support_notes` arguments, so the handlers need not import
the bot that assembles them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from aiogram import Bot
from aiogram.types import Message

from handlers.common.screen import Screen
from services.container import Services
from services.support.views import TicketView

# What goes to support, each way: whatever copyMessage carries that a driver sends from a phone (but
# their own contact, which the following feature takes first: it links their trucks by phone).
KINDS = ("text", "photo", "document", "voice", "sticker", "location", "contact", "video", "video_note", "animation",
         "audio")
EDITABLE = ("text", "photo", "document", "voice", "video", "animation", "audio")  # a text or a caption
NOTE_MARK = "!"  # an agent's line that starts so is a note for the other agents, never sent to the driver
STORE_PATIENCE_SECONDS = 20.0  # how long a driver's message for the agents waits for a busy database
Render = Callable[[str], Screen]  # a screen in the language given, rendered in that locale


@runtime_checkable
class Relay(Protocol):
    group_id: int | None  # the agents' forum supergroup; None: support is not available

    @property
    def available(self) -> bool: ...

    async def is_agent(self, bot: Bot, message: Message) -> bool:
        """A person the bot sees as a member of the agents' group now."""

    async def from_driver(self, message: Message) -> None:
        """Store the driver's message for their ticket's topic."""

    async def from_agent(self, message: Message) -> None:
        """Store an agent's message in a ticket's topic for its driver."""

    async def driver_edited(self, message: Message) -> None:
        """The driver edited a message of theirs: its copy in the topic is made to say the same."""

    async def agent_edited(self, message: Message) -> None:
        """An agent edited a reply: the driver's copy is made to say the same."""

    async def canned_answer(self, message: Message, name: str) -> TicketView | None:
        """`/faq NAME` in a ticket's topic, stored as the agent's reply; None if the topic is no ticket's."""


@runtime_checkable
class Notes(Protocol):
    services: Services
    group_id: int | None

    def in_agents_language(self, render: Render) -> Screen: ...

    async def driver_language(self, account_id: int) -> str: ...

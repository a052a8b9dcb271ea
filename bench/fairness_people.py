"""The people of the scalpers' day (`bench.fairness`): an honest driver who books one truck for
tomorrow through the bot's own buttons, and a scalper's booking window; and the taps they share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from local_bot_api import ChatMessage, SimUser

WAIT = 60.0  # seconds a simulated person waits for an answer before giving up on the bot


def button(message: ChatMessage | None, prefix: str) -> str | None:
    """The callback data of the first button of `message` whose data starts with `prefix`."""
    if message is None:
        return None
    return next((data for row in message.buttons for _text, data in row if data and data.startswith(prefix)), None)


def shown(user: SimUser, prefix: str) -> ChatMessage | None:
    """The newest of the bot's messages in this chat with such a button."""
    return next((m for m in reversed(user.bot_messages()) if not m.deleted and button(m, prefix)), None)


async def tap(user: SimUser, prefix: str) -> None:
    """Tap the first button with data starting `prefix` on the newest message showing one."""
    message = shown(user, prefix)
    data = button(message, prefix)
    if data is None:
        raise LookupError(f"{user.user_id}: no {prefix!r} button; the chat:\n{user.transcript()[-3000:]}")
    await user.tap(callback_data=data, message=message, timeout=WAIT)


def plate(n: int, letters: str) -> str:
    """Kazakh plates, unique for n below 26,000 per pair of letters."""
    return f"{n % 1000:03d}{letters}{chr(ord('A') + n // 1000 % 26)}02"


class Honest:
    """A driver who books one truck for tomorrow, in the chat, and confirms at once."""

    def __init__(self, user: SimUser, n: int, arrives: datetime) -> None:
        self.user, self.plate, self.due = user, plate(n, "HN"), arrives
        self.registered = self.booked = False
        self.tries = 0

    async def book(self, code: str, tomorrow: date) -> None:
        """One try: the bot's own buttons, as the driver reads them; stops where tomorrow is full."""
        user = self.user
        self.tries += 1
        if not self.registered:
            await user.send("/start", timeout=WAIT)
            await user.send("/book", timeout=WAIT)  # no truck yet: asks for the plate
            await user.send(self.plate, timeout=WAIT)
            await self._tap(shown(user, "tr:s:"), "tr:s:")  # no trailer: on to the checkpoints
            self.registered = True
        else:
            await user.send("/book", timeout=WAIT)
        await self._tap(shown(user, f"cp:{code}"), f"cp:{code}")
        for _ in range(3):  # a time filled meanwhile: the bot offers another, and the driver looks again
            await self._tap(shown(user, "ds:"), "ds:")  # "Other time": the days, with their free places
            days = shown(user, "dy:")
            day = next((d for row in days.buttons for _t, d in row
                        if d and d.startswith("dy:") and d.endswith(tomorrow.isoformat())), None) if days else None
            if day is None:
                return  # tomorrow is full: another time
            await self._tap(days, day)
            times = shown(user, "sl:")
            if times is None or times.message_id != days.message_id:
                return  # filled up since the days were shown: another time
            await self._tap(times, "sl:")  # the first time listed
            await self._tap(shown(user, "of:n:"), "of:n:")
            hold = shown(user, "hd:y:")
            if hold is not None:
                await self._tap(hold, "hd:y:")
                return

    async def _tap(self, message: ChatMessage | None, data_or_prefix: str) -> None:
        data = button(message, data_or_prefix)
        if data is None:
            raise LookupError(f"driver {self.user.user_id}: no {data_or_prefix!r} button; the chat:\n"
                              f"{self.user.transcript()[-3000:]}")
        await self.user.tap(callback_data=data, message=message, timeout=WAIT)


@dataclass
class Window:
    """One of a scalper's booking windows: a message of the chat with the offer of a truck."""

    user: SimUser
    message_id: int
    truck_id: int

"""`nobat demo`: the bot, the local Bot API server and a terminal chat, in one process.

No Telegram account or token: the bot talks HTTP to `local_bot_api` exactly as it would to
Telegram, and you are one of its users. Type text to send it; type a number to tap that button of
the latest message (its alert or toast, if any, is printed); `:text 5` sends "5" as text; `:wait 16`
lets 16 minutes pass, so a hold can be seen expiring; `:sticker`, `:photo` send those; `:contact`
shares your phone number (what the contact button sends); `:event called` plays the border system,
posting that status (signed, to the bot's own API) for your first truck at Khorgos; `:quit` (or end
of input) leaves.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bot.api import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from bot.app import App
from bot.config import load_settings
from local_bot_api import BotAPIServer, ChatMessage, SimUser
from services.notices.tables import Delivery, DeliveryStatus, Event

DEMO_TOKEN = "123456:DEMO-TOKEN"
HELP = ("Type a message, or a button's number to tap it; :text 5 sends 5 as text; :wait 16 lets 16 minutes pass; "
        ":sticker, :photo, :contact (your phone number); :event called (or arrived, released...: the border "
        "system reports a status of your truck); :quit.")
DEMO_API_SECRET = "demo-secret-for-the-local-border-api"


class DemoClock:
    """The real time plus the minutes `:wait` let pass: a script shows a hold expiring at once."""

    def __init__(self) -> None:
        self.passed = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.passed


class Typing:
    """The time the flood limit counts in: a replayed script is a person who reads each answer
    and taps, a couple of seconds a step, not a script sending forty messages in ten seconds."""

    STEP_SECONDS = 2.0

    def __init__(self) -> None:
        self.steps = 0

    def __call__(self) -> float:
        return time.monotonic() + self.steps * self.STEP_SECONDS


class Transcript:
    """Prints each bot message once, and again whenever the bot edits it."""

    def __init__(self, user: SimUser, out) -> None:
        self.user = user
        self.out = out
        self.seen: dict[int, int] = {}

    def flush(self) -> None:
        for message in self.user.messages:
            if not message.from_bot:
                continue
            version = -1 if message.deleted else message.edit_count
            if self.seen.get(message.message_id) == version:
                continue
            self.seen[message.message_id] = version
            self.out.write(self.render(message) + "\n")
        self.out.flush()

    def render(self, message: ChatMessage) -> str:
        if message.deleted:
            return f"  (message {message.message_id} deleted)"
        head = "── Nobat" + (" (edited)" if message.edited else "") + " " + "─" * 20
        lines = [head, message.text]
        number = 0
        for row in message.buttons:
            cells = []
            for text, _data in row:
                number += 1
                cells.append(f"[{number}] {text}")
            lines.append("   ".join(cells))
        keyboard = [b if isinstance(b, str) else b.get("text", "") for row in (message.reply_markup or {}).get(
            "keyboard", []) for b in row]
        if keyboard:  # a reply keyboard: its buttons are typed (the contact one is :contact)
            lines.append("   ".join(f"[{text}]" for text in keyboard) + "   (type a button's text; :contact)")
        return "\n".join(lines)


def numbered_button(message: ChatMessage | None, number: int) -> str | None:
    if message is None:
        return None
    flat = [data for row in message.buttons for _text, data in row]
    return flat[number - 1] if 1 <= number <= len(flat) else None


async def act(user: SimUser, line: str, out, app: App, clock: DemoClock) -> None:
    line = line.strip()
    if not line:
        return
    if line == ":sticker":
        await user.send_sticker()
    elif line == ":photo":
        await user.send_photo()
    elif line == ":contact":
        await user.send_contact()
    elif line.startswith(":event "):
        await border_event(user, line.removeprefix(":event ").strip(), out, app)
    elif line.startswith(":text "):
        await user.send(line.removeprefix(":text ").strip())
    elif line.startswith(":wait ") and line.removeprefix(":wait ").strip().isdigit():
        clock.passed += timedelta(minutes=int(line.removeprefix(":wait ")))
        await app.workers.tick()  # expire holds, release places and warn of holds ending now
    elif line.isdigit():
        latest = next((m for m in reversed(user.messages) if m.from_bot and not m.deleted and m.buttons), None)
        data = numbered_button(latest, int(line))
        if data is None:
            out.write("  (no button with that number)\n")
            return
        answer = await user.tap(callback_data=data, message=latest)
        if answer is not None and answer.text:
            out.write(f"  [{'alert' if answer.show_alert else 'toast'}] {answer.text}\n")
    elif _reply_button(user, line):
        try:
            await user.tap(line)  # what pressing that button of the reply keyboard sends (a contact, say)
        except LookupError:  # that keyboard is gone by now: plain text
            await user.send(line)
    else:
        await user.send(line)
    # Let follow-up messages and edits of this step arrive before printing.
    await asyncio.sleep(0.4)


def _reply_button(user: SimUser, line: str) -> bool:
    """Whether the line is the text of a button of the reply keyboard the bot showed last."""
    latest = next((m for m in reversed(user.messages) if m.from_bot and "keyboard" in (m.reply_markup or {})), None)
    texts = [b if isinstance(b, str) else b.get("text") for row in (latest.reply_markup["keyboard"] if latest else [])
             for b in row]
    return line in texts


async def border_event(user: SimUser, kind: str, out, app: App) -> None:
    """What the border system would post: one status of the user's first truck at Khorgos."""
    trucks = await app.services.trucks.list(user.user_id)
    if not trucks:
        out.write("  (add a truck first: /trucks)\n")
        return
    details = {"called": {"gate": "3", "lane": "B"}, "documents_required": {"documents": ["CMR", "TIR Carnet"]},
               "queue_position": {"queue_position": 7}}.get(kind, {})
    event_id = f"demo-{time.time_ns()}"
    body = json.dumps({"event_id": event_id, "type": kind, "plate": trucks[0].plate,
                       "checkpoint": "khorgos", "occurred_at": datetime.now(UTC).isoformat(),
                       "details": details}).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
               SIGNATURE_HEADER: signature(DEMO_API_SECRET, stamp, "POST", "/v1/events", body)}
    async with aiohttp.ClientSession() as session, session.post(
            f"http://127.0.0.1:{app.api_port}/v1/events", data=body, headers=headers) as answer:
        reply = await answer.json()
    out.write(f"  [border system] POST /v1/events {kind}: {answer.status} {reply.get('outcome') or reply}\n")
    await _delivered(app, event_id)


async def _delivered(app: App, event_id: str, within: float = 10.0) -> None:
    """Until the notice sender has delivered the event (it paces itself by Telegram's limits)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with app.db.reading() as session:
            waiting = await session.scalar(select(func.count()).select_from(Delivery).join(
                Event, Event.id == Delivery.event_id).where(Event.event_id == event_id,
                                                            Delivery.status == DeliveryStatus.QUEUED.value))
        if not waiting:
            return
        await asyncio.sleep(0.2)


async def run_demo(language: str = "ru", script: Path | None = None, out=None) -> None:
    out = out or sys.stdout
    server = BotAPIServer(DEMO_TOKEN)
    base_url = await server.start()
    with tempfile.TemporaryDirectory(prefix="nobat-demo-") as tmp:
        settings = load_settings(
            bot_token=DEMO_TOKEN, telegram_api_url=base_url, database_url=f"sqlite:///{tmp}/demo.db", redis_url=None,
            # The border system's API too, on a free port (a demo never fights for 8090), with the
            # secret :event signs with.
            api={"port": 0, "secret": DEMO_API_SECRET},
        )
        clock, typing = DemoClock(), Typing()
        app = await App.create(settings, clock=clock, flood_clock=typing)
        await app.start(polling_timeout=1)
        user = server.user(1001, first_name="Aigerim", language_code=language)
        transcript = Transcript(user, out)
        try:
            if script is not None:
                for line in script.read_text(encoding="utf-8").splitlines():
                    if line.startswith("#") or not line.strip():
                        continue
                    out.write(f"\n> {line}\n")
                    typing.steps += 1
                    await act(user, line, out, app, clock)
                    transcript.flush()
            else:
                out.write(f"Nobat demo: you are Aigerim (language {language}). {HELP}\n")
                await act(user, "/start", out, app, clock)
                transcript.flush()
                while True:
                    line = await asyncio.to_thread(sys.stdin.readline)
                    if not line or line.strip() == ":quit":
                        break
                    await act(user, line, out, app, clock)
                    transcript.flush()
        finally:
            await app.stop()
            await server.stop()

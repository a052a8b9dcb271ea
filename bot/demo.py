"""`nobat demo`: the bot, the local Bot API server and a terminal chat, in one process.

No Telegram account or token: the bot talks HTTP to `local_bot_api` exactly as it would to
Telegram, and you are one of its users. Type text to send it; type a number to tap that button of
the latest message (its alert or toast, if any, is printed); `:text 5` sends "5" as text; `:wait 16`
lets 16 minutes pass, so a hold can be seen expiring; `:sticker`, `:photo` send those; `:contact`
shares your phone number (what the contact button sends); `:event called` plays the border system,
posting that status (signed, to the bot's own API) for your first truck at Khorgos; `:quit` (or end
of input) leaves.

Support works too: the demo makes the agents' forum supergroup in the local server (its id is
`support.group_id`), with one agent in it. `:agent TEXT` is typed by that agent into the topic of
your ticket (`:agent /faq docs`, `:agent /close`, `:agent :photo`), `:topic` prints the topic as
the agents see it; what the bot posts in the agents' group is printed as it appears, each line
marked `┃` with the group and the topic's name. `nobat demo --agent` turns it round: you are the
agent, every plain line goes into the topic, and `:driver LINE` is the driver's (a message, or a
button's number to tap), after a simulated driver has opened a ticket with a question.
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
from sqlalchemy import select

from border_api.endpoints import signature
from border_api.routes import SIGNATURE_HEADER, TIMESTAMP_HEADER
from bot.app import App
from bot.config import load_settings
from local_bot_api import BotAPIServer, ChatMessage, SimGroup, SimTopic, SimUser
from services.notices.tables import Event

DEMO_TOKEN = "123456:DEMO-TOKEN"
HELP = ("Type a message, or a button's number to tap it; :text 5 sends 5 as text; :wait 16 lets 16 minutes pass; "
        ":sticker, :photo, :contact (your phone number); :event called (or arrived, released...: the border "
        "system reports a status of your truck); /support, then :agent TEXT is the support agent answering in "
        "your ticket's topic (:agent /faq docs, :agent /close, :agent :photo), :topic shows that topic "
        "(lines marked ┃ are in the agents' group); :quit.")
AGENT_HELP = ("You are Dana, a support agent: each line you type goes into the ticket's topic (/faq docs, /assign, "
              "/close, /reopen, /tickets are the agents' commands; :photo sends a photo); :driver TEXT is the driver "
              "writing (:driver 1 taps their button 1); :topic shows the topic; :wait 16, :event called; :quit.")
DEMO_API_SECRET = "demo-secret-for-the-local-border-api"
DEMO_AGENTS = -1001000000777  # the agents' forum supergroup, in the local server only
DRIVER_ID, AGENT_ID = 1001, 2001
AGENTS_TITLE = "Nobat support"
TOPIC_MARK = "┃ "
# What the simulated driver asks when you play the agent (`--agent`), in their language.
QUESTIONS = {
    "ru": "Здравствуйте! Какие документы нужны на границе в Хоргосе?",
    "kk": "Сәлеметсіз бе! Қорғаста шекарада қандай құжаттар керек?",
    "fa": "سلام! برای مرز خرگوس چه مدارکی لازم است؟",
}
SETTLE_SECONDS = 30.0  # the copies into the agents' group queue behind its 20 messages a minute


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
    """Prints each bot message of the driver's chat and of the agents' group once, in the order
    they appeared, and again whenever the bot edits it; the group's lines are marked, with the
    topic they are in, so the two sides read apart."""

    def __init__(self, server: BotAPIServer, user: SimUser, group: SimGroup, out) -> None:
        self.user = user
        self.group = group
        self.out = out
        self.names = {user.user_id: user.first_name}
        self.seen: dict[tuple[int, int], int] = {}
        self.heard: list[ChatMessage] = []
        server.listeners.append(self._heard)

    def _heard(self, _event: str, message: ChatMessage) -> None:
        if message.from_bot and message.chat_id in (self.user.chat_id, self.group.chat_id):
            self.heard.append(message)

    def flush(self) -> None:
        heard, self.heard = self.heard, []
        for message in heard:
            version = -1 if message.deleted else message.edit_count
            key = (message.chat_id, message.message_id)
            if self.seen.get(key) == version:
                continue
            self.seen[key] = version
            self.out.write(self.render(message) + "\n")
        self.out.flush()

    def render(self, message: ChatMessage) -> str:
        if message.chat_id == self.group.chat_id:
            return self.render_in_group(message)
        if message.deleted:
            return f"  (message {message.message_id} deleted)"
        head = "── Nobat" + (" (edited)" if message.edited else "") + " " + "─" * 20
        lines = [head, _content(message)]
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

    def render_in_group(self, message: ChatMessage) -> str:
        """A message of the agents' group, every line marked, its head naming the topic."""
        where = f"[agents · {self.topic_name(message.thread_id)}]"
        if message.deleted:
            return f"{TOPIC_MARK}{where} (message {message.message_id} deleted)"
        if message.kind == "forum_topic_created":
            return f"{TOPIC_MARK}{where} (a new topic)"
        if message.is_service:
            return f"{TOPIC_MARK}{where} ({message.kind.replace('_', ' ')})"
        who = "Nobat" if message.from_bot else self.names.get(message.sender_id or 0, "someone") + " (agent)"
        head = f"{where} {who}" + (" (edited)" if message.edited else "")
        lines = [head, *_content(message).splitlines(), *(f"[{text}]" for text in message.button_texts)]
        return "\n".join(TOPIC_MARK + line for line in lines)

    def topic_name(self, thread_id: int | None) -> str:
        if thread_id is None:
            return "General"
        try:
            return self.group.topic(thread_id).name
        except LookupError:
            return f"topic {thread_id}"

    def topic(self, topic: SimTopic) -> str:
        """The whole topic as the agents see it: the bot's posts and the agents' own messages."""
        return "\n".join(self.render_in_group(m) for m in topic.messages)


def _content(message: ChatMessage) -> str:
    """A message's text, a media message's kind before its caption."""
    if message.kind == "text":
        return message.text
    return f"[{message.kind}]" + (f" {message.text}" if message.text else "")


def numbered_button(message: ChatMessage | None, number: int) -> str | None:
    if message is None:
        return None
    flat = [data for row in message.buttons for _text, data in row]
    return flat[number - 1] if 1 <= number <= len(flat) else None


class Demo:
    """Who is in the demo and what each line does: the driver's chat, the agents' group and the
    agent in it, the bot's app and its clock."""

    def __init__(self, server: BotAPIServer, app: App, clock: DemoClock, user: SimUser, group: SimGroup,
                 agent: SimUser, transcript: Transcript, out) -> None:
        self.server = server
        self.app = app
        self.clock = clock
        self.user = user
        self.group = group
        self.agent = agent
        self.transcript = transcript
        self.out = out

    async def line(self, line: str, *, as_agent: bool = False) -> None:
        """One typed line, the driver's (or with `as_agent`, the agent's unless it says `:driver`);
        then wait until the bot and support's copies are done, and print what appeared."""
        line = line.strip()
        if not line:
            return
        if line == ":topic":
            await self.show_topic()
        elif line == ":agent" or line.startswith(":agent "):
            await self.as_agent(line.removeprefix(":agent").strip())
        elif line.startswith(":driver "):
            await act(self.user, line.removeprefix(":driver "), self.out, self.app, self.clock)
        elif as_agent and (not line.startswith(":") or line == ":photo"):
            await self.as_agent(line)
        else:
            await act(self.user, line, self.out, self.app, self.clock)
        await self.settle()
        self.transcript.flush()

    async def ticket_topic(self) -> SimTopic | None:
        """The topic of the driver's open ticket, else the newest one (a closed ticket's, to /reopen)."""
        ticket = await self.app.services.support.current(self.user.user_id)
        if ticket is not None and ticket.thread_id is not None:
            try:
                return self.group.topic(ticket.thread_id)
            except LookupError:
                pass
        topics = self.group.topics
        return topics[-1] if topics else None

    async def as_agent(self, text: str) -> None:
        if not text:
            self.out.write("  (:agent TEXT: what the agent writes in the ticket's topic)\n")
            return
        await self.settle()  # the topic may be on its way still
        topic = await self.ticket_topic()
        if topic is None:
            self.out.write("  (no ticket's topic yet: the driver writes /support, then a question)\n")
            return
        try:
            if text == ":photo":
                await self.agent.send_photo("map", group=self.group, thread=topic, wait=False)
            else:
                await self.agent.send_to_group(self.group, text, thread=topic, wait=False)
        except (PermissionError, LookupError, ValueError) as refused:  # what a Telegram app would refuse too
            self.out.write(f"  ({refused})\n")
            return

    async def show_topic(self) -> None:
        topic = await self.ticket_topic()
        if topic is None:
            self.out.write("  (no ticket's topic yet: the driver writes /support, then a question)\n")
            return
        self.transcript.flush()
        self.out.write(f"{TOPIC_MARK}═══ topic «{topic.name}» in «{self.group.title}» ═══\n")
        self.out.write(self.transcript.topic(topic) + "\n")

    async def settle(self, within: float = SETTLE_SECONDS) -> None:
        """Until the bot has handled every update and support has copied every message (its sender
        works by itself, after a short settle, paced by the agents' group's limit)."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            if self.app.poller is not None:
                try:
                    await asyncio.wait_for(self.app.poller.handled(self.server.last_update_id), left)
                except TimeoutError:
                    break
            if not self.app.outbox.under_way and not await self.app.services.outbox.waiting(due_now=True):
                break
            await asyncio.sleep(0.1)


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
    """Until the outbox's sender has delivered the event (it paces itself by Telegram's limits)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with app.db.reading() as session:
            row_id = await session.scalar(select(Event.id).where(Event.event_id == event_id))
        if row_id is None or not await app.services.outbox.waiting(event_id=row_id):
            return
        await asyncio.sleep(0.2)


async def run_demo(language: str = "ru", script: Path | None = None, out=None, *, agent: bool = False) -> None:
    """The demo; `agent`: the person types as the support agent, a simulated driver having asked first."""
    out = out or sys.stdout
    server = BotAPIServer(DEMO_TOKEN)
    base_url = await server.start()
    with tempfile.TemporaryDirectory(prefix="nobat-demo-") as tmp:
        settings = load_settings(
            bot_token=DEMO_TOKEN, telegram_api_url=base_url, database_url=f"sqlite:///{tmp}/demo.db", redis_url=None,
            # The border system's API too, on a free port (a demo never fights for 8090), with the
            # secret :event signs with.
            api={"port": 0, "secret": DEMO_API_SECRET},
            # Support, into a forum supergroup of agents that exists in the local server only.
            support={"group_id": DEMO_AGENTS},
        )
        # Before the bot starts: it lists the agents' commands in their group at start.
        group = server.group(DEMO_AGENTS, AGENTS_TITLE, forum=True)
        helper = server.user(AGENT_ID, first_name="Dana", language_code=settings.default_language)
        group.set_member_status(helper, "administrator")
        clock, typing = DemoClock(), Typing()
        app = await App.create(settings, clock=clock, flood_clock=typing)
        await app.start(polling_timeout=1)
        user = server.user(DRIVER_ID, first_name="Aigerim", language_code=language)
        transcript = Transcript(server, user, group, out)
        transcript.names[helper.user_id] = helper.first_name
        demo = Demo(server, app, clock, user, group, helper, transcript, out)
        try:
            if agent:  # a driver asks first, so the agent has a ticket's topic to answer in
                out.write(f"Nobat demo: {AGENT_HELP}\nAigerim (language {language}) writes to support:\n")
                for line in ("/start", "/support", QUESTIONS.get(language, QUESTIONS["ru"])):
                    out.write(f"\n> :driver {line}\n")
                    typing.steps += 1
                    await demo.line(line)
            if script is not None:
                for line in script.read_text(encoding="utf-8").splitlines():
                    if line.startswith("#") or not line.strip():
                        continue
                    out.write(f"\n> {line}\n")
                    typing.steps += 1
                    await demo.line(line, as_agent=agent)
            else:
                if not agent:
                    out.write(f"Nobat demo: you are Aigerim (language {language}). {HELP}\n")
                    await demo.line("/start")
                while True:
                    line = await asyncio.to_thread(sys.stdin.readline)
                    if not line or line.strip() == ":quit":
                        break
                    await demo.line(line, as_agent=agent)
        finally:
            await app.stop()
            await server.stop()

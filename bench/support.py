"""Support under a burst: `python -m bench support`.

A real `nobat run` process and the local Bot API server with its flood limits raised and enforced:
`--rate` messages a second overall (default 1,000, Telegram's paid-broadcast tier) and `--group-rate`
messages a minute into one group (Telegram's is 20, at which 500 tickets would take over an hour;
the default 1,200 keeps the run to a few minutes; the group's burst is a second's worth of it, as the
overall limit's is). The bot's `telegram_limits` are set to the same
numbers, so it must still queue within them. 500 drivers (`--drivers`) each send /start and
/support, then all of them write their `--messages` (2) messages at once; 5 agents (`--agents`),
members of the forum group, take the topics in turn as they open and answer each once, as soon as
its driver's messages are all in it.

One JSON line per backend: `per_s` (driver messages copied into their topics a second, from the
first write to the last copy), `p50_ms`/`p95_ms` (a driver's write to its copy in the topic),
`reply_p95_ms` (an agent's reply to its copy at the driver), `lost` (driver messages not in their
topic and replies not at their driver when the run ends), `refused` (of those, the messages the bot
did not store and asked their driver to send again: the database had no turn for them), `misrouted` (in another topic, or at
another driver), `duplicates` (a message or a reply copied twice), `out_of_order` (a driver's
message shown in the topic after a later one of theirs), `limit_violations` (the server's 429s),
`topics` (opened: one per driver), `group_posts` and `group_rate_ratio` (the bot's posts into the
group a second from its first to its last, over the group's limit), and the limits used.
The run is bounded: at its deadline it reports what is missing instead of waiting on.
"""

from __future__ import annotations

import asyncio
import gettext
import json
import os
import re
import statistics
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import locales
from bench.bot import TOKEN, Answers, _nobat, burst, process
from local_bot_api import BotAPIServer, ChatMessage, Limits, SimUser
from services.kernel.clock import SystemClock
from services.outbox.outbox import Outbox
from services.storage.database import Database

GROUP = -100_555_000_001
DRIVERS = 5_000_000  # user ids of the drivers start here
AGENTS = 5_900_000  # and the agents' here
MESSAGE = re.compile(r"^d(\d+) m(\d+)$")  # a driver's message: which driver, which of theirs
REPLY = re.compile(r"^a(\d+) r$")  # an agent's reply: to which driver
NAMED = re.compile(r"(?:^|\s)D(\d+)(?:\s|$)")  # the driver in a topic's name (their first name)
QUIET_SECONDS = 2.0  # after the last expected copy: time for a duplicate to show
# What a driver reads when the database had no turn for their message: it was not stored, and they
# are asked to send it again (`handlers.common.screen.database_busy`).
BUSY = gettext.translation("messages", Path(locales.__file__).parent, languages=["ru"]).gettext(
    "We are very busy right now; nothing was lost. Please try again in a few seconds.")


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[max(0, int(len(values) * share) - 1)] * 1000, 1)


class Watch:
    """What the server shows: each copy in the group and each reply at a driver, checked against
    where it belongs as it arrives. When a topic holds all its driver's messages, its agent answers."""

    def __init__(self, server: BotAPIServer, drivers: int, messages: int, agents: list[SimUser], group,
                 group_rate: float) -> None:
        self.server = server
        self.group_rate = group_rate
        self.drivers = drivers
        self.messages = messages
        self.agents = agents
        self.group = group
        self.written: dict[tuple[int, int], float] = {}
        self.copied: dict[tuple[int, int], float] = {}
        self.replied: dict[int, float] = {}  # driver → when their agent wrote
        self.reply_seen: dict[int, float] = {}
        self.seen = Counter()  # (driver, message) and ("r", driver): how often copied
        self.in_topic: dict[int, list[int]] = defaultdict(list)  # driver → their message numbers, as shown
        self.topic_driver: dict[int, int | None] = {}  # thread id → the driver it is named after
        self.topic_order: list[int] = []
        self.misrouted = 0
        self.refused: Counter = Counter()  # driver → their messages the bot asked them to send again
        self.topic_of: dict[int, int] = {}  # driver → the topic their messages are in
        self.group_posts: list[float] = []
        self.first_write = 0.0
        self.done = asyncio.Event()
        self.tasks: set[asyncio.Task] = set()
        server.listeners.append(self._seen)

    @property
    def expected(self) -> int:
        """Every message, and a reply to each driver with a message stored: one the bot refused
        (the driver asked to send it again) never arrives, but is not waited for either."""
        answered = sum(1 for d in range(self.drivers) if self.refused[d] < self.messages)
        return self.drivers * self.messages + answered

    @property
    def arrived(self) -> int:
        return len(self.copied) + len(self.reply_seen) + sum(self.refused.values())

    def _seen(self, event: str, message: ChatMessage) -> None:
        now = time.perf_counter()
        if message.chat_id == GROUP:
            if event == "service" and message.kind == "forum_topic_created":
                topic = self.server._chats[GROUP].topic(message.thread_id)
                found = NAMED.search(topic.name) if topic is not None else None
                self.topic_driver[message.thread_id] = int(found.group(1)) if found else None
                self.topic_order.append(message.thread_id)
            elif event == "sent" and message.from_bot:
                self.group_posts.append(now)
                if (found := MESSAGE.match(message.text)) is not None:
                    self._copy(int(found.group(1)), int(found.group(2)), message.thread_id, now)
        elif event == "sent" and message.from_bot and message.text == BUSY:
            driver = message.chat_id - DRIVERS
            self.refused[driver] += 1
            self._maybe_answer(driver)
            self._check_done()
        elif event == "sent" and message.from_bot and (found := REPLY.match(message.text)) is not None:
            driver = int(found.group(1))
            self.seen["r", driver] += 1
            if message.chat_id != DRIVERS + driver:
                self.misrouted += 1
            elif driver not in self.reply_seen:
                self.reply_seen[driver] = now
                self._check_done()

    def _copy(self, driver: int, number: int, thread_id: int | None, now: float) -> None:
        self.seen[driver, number] += 1
        if thread_id is None or self.topic_driver.get(thread_id) != driver:
            self.misrouted += 1
            return
        if (driver, number) in self.copied:
            return
        self.copied[driver, number] = now
        self.in_topic[driver].append(number)
        self.topic_of[driver] = thread_id
        self._maybe_answer(driver)
        self._check_done()

    def _maybe_answer(self, driver: int) -> None:
        """The topic's agent answers once all the driver's messages that were stored are in it."""
        thread_id = self.topic_of.get(driver)
        if thread_id is None or driver in self.replied:
            return
        if len(self.in_topic[driver]) + self.refused[driver] < self.messages:
            return
        self.replied[driver] = time.perf_counter()
        agent = self.agents[self.topic_order.index(thread_id) % len(self.agents)]
        task = asyncio.get_running_loop().create_task(
            agent.send_to_group(self.group, f"a{driver} r", thread=thread_id, wait=False))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _check_done(self) -> None:
        if self.arrived >= self.expected:
            self.done.set()

    def figures(self) -> dict:
        duplicates = sum(n - 1 for n in self.seen.values() if n > 1)
        out_of_order = sum(sum(1 for a, b in zip(shown, shown[1:]) if b < a) for shown in self.in_topic.values())
        latencies = [self.copied[key] - self.written[key] for key in self.copied]
        replies = [self.reply_seen[d] - self.replied[d] for d in self.reply_seen if d in self.replied]
        last = max(self.copied.values(), default=self.first_write)
        named = Counter(d for d in self.topic_driver.values())
        posts = self.group_posts
        posting_s = posts[-1] - posts[0] if len(posts) > 1 else 0.0
        per_min = len(posts) / posting_s * 60 if posting_s > 0 else None
        return {
            "copied": len(self.copied), "replies": len(self.reply_seen),
            "per_s": round(len(self.copied) / (last - self.first_write), 1) if last > self.first_write else None,
            "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p95_ms": _percentile(latencies, 0.95),
            "reply_p95_ms": _percentile(replies, 0.95),
            "refused": sum(self.refused.values()),
            "lost": self.drivers * self.messages - len(self.copied) + self.drivers - len(self.reply_seen),
            "misrouted": self.misrouted,
            "duplicates": duplicates,
            "out_of_order": out_of_order,
            "topics": len(self.topic_driver),
            "extra_topics": sum(n - 1 for n in named.values() if n > 1),
            "group_posts": len(posts),
            "group_per_min": round(per_min, 1) if per_min else None,
            "group_rate_ratio": round(per_min / self.group_rate, 2) if per_min else None,
        }


async def _quiet(server: BotAPIServer, seconds: float, limit: float) -> None:
    """Until the bot has sent nothing for `seconds` (at most `limit`): late duplicates show here."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        count = len(server.requests)
        await asyncio.sleep(seconds)
        if len(server.requests) == count:
            return


def _is_support_prompt(message: ChatMessage) -> bool:
    return any(data and data.startswith("sc:") for row in message.buttons for _text, data in row)


async def run(backend: str, url: str, *, drivers: int, agents: int, messages: int, rate: float, group_rate: float,
              tmp: Path, timeout: float | None = None) -> dict:
    # The group's burst is a second's worth of its rate, as the overall limit's is: at Telegram's
    # 20 a minute, its 5 messages are 15 s of slack for requests that reach it bunched; at the
    # raised rate, 5 would leave a tenth of a second beyond the bot's own burst of 3, less than this
    # machine's event loops stall under the burst (a PostgreSQL run met 429s: docs/benchmarks.md).
    limits = Limits(global_per_s=rate, group_per_min=group_rate, group_burst=max(5, round(group_rate / 60)))
    server = BotAPIServer(TOKEN, limits=limits)
    base_url = await server.start()
    group = server.group(GROUP, "Agents", forum=True)
    people = [server.user(DRIVERS + i, first_name=f"D{i}", language_code="ru") for i in range(drivers)]
    staff = [server.user(AGENTS + k, first_name=f"Agent {k}", language_code="ru") for k in range(agents)]
    answers = Answers(server)
    watch = Watch(server, drivers, messages, staff, group, group_rate)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "NOBAT_CONFIG")}
    env.update(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=base_url, DATABASE_URL=url, NOBAT_API__PORT="0",
               NOBAT_SUPPORT__GROUP_ID=str(GROUP),
               NOBAT_TELEGRAM_LIMITS__MESSAGES_PER_SECOND=str(rate),
               NOBAT_TELEGRAM_LIMITS__PER_GROUP_PER_MINUTE=str(group_rate))
    redis = os.environ.get("REDIS_URL") if backend == "postgresql" else None
    if redis:  # keys of this run only: Redis may be shared, and hold states of earlier runs
        env.update(REDIS_URL=redis, NOBAT_REDIS_PREFIX=f"bench-support-{uuid.uuid4().hex[:8]}")
    # The group's posts (a card and the copies per ticket) at the group's rate, twice over, and
    # two minutes for everything else: past that, what has not arrived is reported as lost.
    timeout = timeout or 120 + 2 * drivers * (messages + 1) / (group_rate / 60)
    db = Database(url)
    queued = None
    try:
        log = Path(os.environ.get("NOBAT_BENCH_LOGS", tmp)) / f"nobat-support-{backend}.log"
        async with process(_nobat(), env, server, log):
            for agent in staff:
                await agent.join_group(group, wait=False)
            await burst(answers, [(u, lambda u=u: u.send("/start", wait=False), lambda _: True) for u in people])
            await burst(answers, [(u, lambda u=u: u.send("/support", wait=False), _is_support_prompt)
                                  for u in people])
            watch.first_write = time.perf_counter()
            for number in range(messages):  # everyone at once; each driver's in their order
                for i, driver in enumerate(people):
                    watch.written[i, number] = time.perf_counter()
                    await driver.send(f"d{i} m{number}", wait=False)
            try:
                await asyncio.wait_for(watch.done.wait(), timeout)
            except TimeoutError:
                pass
            await _quiet(server, QUIET_SECONDS, 30)
            queued = await Outbox(db, SystemClock()).waiting()
    finally:
        await db.close()
        await server.stop()
    return {"bench": "support", "backend": backend, "redis": bool(redis), "drivers": drivers, "agents": agents,
            "messages": messages, "rate": rate, "group_rate": group_rate, "group_burst": limits.group_burst,
            **watch.figures(),
            "limit_violations": server.limit_violations, "still_queued": queued}


async def main(*, drivers: int, agents: int, messages: int, rate: float, group_rate: float) -> None:
    sizes = {"drivers": drivers, "agents": agents, "messages": messages, "rate": rate, "group_rate": group_rate}
    with tempfile.TemporaryDirectory(prefix="nobat-bench-support-") as tmp:
        print(json.dumps(await run("sqlite", f"sqlite:///{tmp}/bench.db", **sizes, tmp=Path(tmp))), flush=True)
        if os.environ.get("DATABASE_URL"):
            from bench.booking import _postgres_database

            url, drop = await _postgres_database(os.environ["DATABASE_URL"])
            try:
                print(json.dumps(await run("postgresql", url, **sizes, tmp=Path(tmp))), flush=True)
            finally:
                await drop()

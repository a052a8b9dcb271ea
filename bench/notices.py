"""Status notices end to end: `python -m bench notices`.

A real `nobat run` process and the local Bot API server with its flood limits raised to a rate R
(default 1,000 messages a second, Telegram's paid-broadcast tier) and enforced. 2,000 trucks, each
followed by one driver's chat; 10,000 events (five statuses per truck) posted, signed, to the
border API as fast as it takes them; the sender delivers them meanwhile. Two runs: the API served
by the `nobat run` that sends, then by a `nobat api` process of its own. One JSON line each:
`events`, `accepted_per_s` (events the API answered per second), `sent` (deliveries sent), `lost`
(events that reached no one: 0), `duplicates` (ringing messages or status cards sent more than
once: 0), `limit_violations` (the server's 429s: 0), `send_rate_ratio` (Telegram calls the bot
made per second from its first delivery to its last, over R), `drain_send_rate_ratio` (the same
from the moment the last event was accepted: the backlog alone, with no posting beside it),
`p95_event_to_send_ms` (an event's arrival to its delivery).

`--batch N`: two runs instead, both with the API served by `nobat run`: the events one a request, as
above, then N a request (`POST /v1/events` with an array, a few requests in flight, as a border
system sending batches would); each line has `batch` too, the events of one request.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import yaml
from sqlalchemy import func, insert, select

from bench.bot import ROOT, TOKEN, _nobat, process
from border_api.endpoints import signature
from border_api.routes import SIGNATURE_HEADER, TIMESTAMP_HEADER
from local_bot_api import BotAPIServer, Limits
from services.accounts.follow_tables import Follow
from services.kernel.clock import SystemClock
from services.notices.tables import Event
from services.notices.types import rings
from services.outbox.kinds import Kind
from services.outbox.tables import OutboxRow, PostStatus
from services.storage.database import Database
from services.storage.models import Account, Truck

SECRET = "bench-secret-0123456789abcdef"
USERS = 3_000_000  # account ids of the bench start here
# Five statuses of one crossing: two of them ring (called, released), three edit the card only.
STATUSES = [("queue_position", {"queue_position": 12}), ("called", {"gate": "3", "lane": "B"}),
            ("arrived", {}), ("inspection_started", {}), ("released", {})]
CHECKPOINT = {"code": "bench", "names": {"kk": "Bench", "ru": "Bench", "fa": "Bench"},
              "timezone": "Asia/Almaty", "slot_minutes": 60, "trucks_per_slot": 100,
              "opens": "00:00", "closes": "23:00", "horizon_days": 1, "lead_minutes": 0}
TIMEOUT = 300.0
CONCURRENCY = 64  # requests in flight, one event each: a border system's many posting threads
BATCH_CONCURRENCY = 4  # requests in flight of a batch each: a border system sending its queue in batches


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _plate(i: int) -> str:
    return f"{i % 1000:03d}NT{'ACDEFHKLMP'[i // 1000 % 10]}02"  # Kazakh plates, unique up to 10,000


async def _accounts_and_trucks(db: Database, trucks: int) -> list[int]:
    now = SystemClock().now()
    ids = [USERS + i for i in range(trucks)]
    async with db.transaction() as session:
        await session.execute(insert(Account), [{"id": i, "first_name": "Driver", "language": "ru", "created_at": now}
                                                for i in ids])
        await session.execute(insert(Truck), [{"account_id": i, "plate": _plate(n), "created_at": now}
                                              for n, i in enumerate(ids)])
        await session.execute(insert(Follow), [{"account_id": i, "plate": _plate(n), "source": "own",
                                                "created_at": now} for n, i in enumerate(ids)])
    return ids


async def _post_all(port: int, trucks: int, events: int, batch: int = 1) -> float:
    """Every event posted and answered, one a request or `batch` a request; the seconds it took."""
    base = f"http://127.0.0.1:{port}"
    todo = [(n, truck) for n in range(events // trucks) for truck in range(trucks)]
    occurred = datetime.now(UTC).isoformat()

    def one(n: int, truck: int) -> dict:
        kind, details = STATUSES[n % len(STATUSES)]
        return {"event_id": f"bench-{truck}-{n}", "type": kind, "plate": _plate(truck),
                "checkpoint": CHECKPOINT["code"], "occurred_at": occurred, "details": details}

    async def post(session: aiohttp.ClientSession, sent: list[tuple[int, int]]) -> None:
        body = json.dumps(one(*sent[0]) if batch == 1 else [one(*each) for each in sent]).encode()
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
                   SIGNATURE_HEADER: signature(SECRET, stamp, "POST", "/v1/events", body)}
        async with session.post(f"{base}/v1/events", data=body, headers=headers) as answer:
            statuses = ([result["status"] for result in (await answer.json())["results"]]
                        if batch > 1 and answer.status == 200 else [answer.status])
            if not set(statuses) <= {200, 202}:  # a new event, or a repeat
                raise SystemExit(f"the API answered {answer.status}: {await answer.text()}")

    async def worker(session: aiohttp.ClientSession, queue: list) -> None:
        while queue:
            await post(session, queue.pop())

    # Popped in order: each truck's statuses in turn.
    queue = list(reversed([todo[i:i + batch] for i in range(0, len(todo), batch)]))
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session, queue) for _ in range(CONCURRENCY if batch == 1 else
                                                                      BATCH_CONCURRENCY)))
    return time.perf_counter() - started


async def _delivered(db: Database, events: int) -> dict[str, int]:
    deadline = time.monotonic() + TIMEOUT
    while True:
        async with db.reading() as session:
            counts = dict((await session.execute(
                select(OutboxRow.status, func.count()).where(OutboxRow.kind == Kind.NOTICE)
                .group_by(OutboxRow.status))).all())
        if sum(n for status, n in counts.items() if status != PostStatus.QUEUED) >= events:
            return counts
        if time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.5)


async def _listening(port: int, child: asyncio.subprocess.Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/v1/openapi.json") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if child.returncode is not None or time.monotonic() > deadline:
                raise SystemExit("nobat api did not start listening")
            await asyncio.sleep(0.1)


async def run(url: str, *, trucks: int, events: int, rate: float, tmp: Path, api_process: bool = False,
              batch: int | None = None) -> dict:
    """One run; `batch`: events a request (and the line says so), None: one, and a line as ever."""
    server = BotAPIServer(TOKEN, limits=Limits(global_per_s=rate))
    base_url = await server.start()
    for n in range(trucks):
        server.user(USERS + n, first_name=f"Driver {n}", language_code="ru")
    db = Database(url)
    port = _free_port()
    settings = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    settings["checkpoints"] = [CHECKPOINT]
    config = tmp / "bench-notices.yaml"
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "NOBAT_CONFIG")}
    env.update(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=base_url, DATABASE_URL=url, NOBAT_CONFIG=str(config),
               NOBAT_API__SECRET=SECRET, NOBAT_API__PORT=str(port),
               NOBAT_TELEGRAM_LIMITS__MESSAGES_PER_SECOND=str(rate))
    if os.environ.get("REDIS_URL") and not url.startswith("sqlite"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    try:
        await db.migrate()
        await _accounts_and_trucks(db, trucks)
        log = Path(os.environ.get("NOBAT_BENCH_LOGS", tmp)) / "nobat-notices.log"
        async with AsyncExitStack() as processes:
            if api_process:  # the bot's own API then listens elsewhere, unused
                # `nobat api` on the port posted to: the border API in a process of its own.
                await processes.enter_async_context(process(
                    [*_nobat()[:-1], "api"], {**env, "NOBAT_API__PORT": str(port)}, server,
                    log.with_name("nobat-notices-api.log"), ready=lambda child: _listening(port, child)))
                env["NOBAT_API__PORT"] = str(_free_port())
            await processes.enter_async_context(process(_nobat(), env, server, log))
            since = len(server.requests)
            shown: list[float] = []  # when each message the bot sent or edited reached the server
            server.listeners.append(lambda event, message: shown.append(time.perf_counter())
                                    if event in ("sent", "edited") and message.from_bot else None)
            posted_s = await _post_all(port, trucks, events, batch or 1)
            posted_at = time.perf_counter()
            counts = await _delivered(db, events)
            calls = [(method, params) for method, params in server.requests[since:]
                     if method in ("sendMessage", "editMessageText")]
        async with db.reading() as session:
            waits = sorted(((sent - received).total_seconds() for sent, received in (await session.execute(
                select(OutboxRow.sent_at, Event.received_at).join(Event, Event.id == OutboxRow.event_id)
                .where(OutboxRow.sent_at.is_not(None)))).all()))
            first_sent, last_sent = (await session.execute(select(func.min(OutboxRow.sent_at),
                                                                  func.max(OutboxRow.sent_at)))).one()
    finally:
        await db.close()
        await server.stop()
    # Each chat gets one card and one message per ringing status; any more is a notice sent twice.
    expected = 1 + sum(1 for kind, _ in STATUSES if rings(kind)) * (events // trucks // len(STATUSES))
    sends = Counter(params.get("chat_id") for method, params in calls if method == "sendMessage")
    sending_s = max(0.001, (last_sent - first_sent).total_seconds()) if first_sent and last_sent else 0.001
    after = [at for at in shown if at > posted_at]  # the backlog left once every event was in
    drain_s = max(after) - posted_at if after else 0.0
    return {
        "bench": "notices", "backend": "sqlite" if url.startswith("sqlite") else "postgresql", "rate": rate,
        "api": "nobat api" if api_process else "nobat run", **({"batch": batch} if batch else {}),
        "events": events, "accepted_per_s": round(events / posted_s, 1),
        "sent": counts.get(PostStatus.SENT, 0),
        "lost": events - counts.get(PostStatus.SENT, 0) - counts.get(PostStatus.UNDELIVERABLE, 0),
        "duplicates": sum(max(0, n - expected) for n in sends.values()),
        "limit_violations": server.limit_violations,
        "send_rate_ratio": round(len(calls) / sending_s / rate, 2),
        "drain_send_rate_ratio": round(len(after) / drain_s / rate, 2) if drain_s >= 1 else None,
        "p95_event_to_send_ms": round(waits[max(0, int(len(waits) * 0.95) - 1)] * 1000, 1) if waits else None,
    }


async def main(*, trucks: int, events: int, rate: float, batch: int | None = None) -> None:
    """One line with the API served by the bot's own process (`nobat run` alone), one with the API
    in a process of its own (`nobat api` beside it): the shape for a border system posting fast.
    With `batch`: one line of the events posted one a request, one of them `batch` a request, both
    to `nobat run`, so the two compare within one invocation. Each on a database of its own."""
    runs = [(False, 1), (False, batch)] if batch else [(False, None), (True, None)]
    with tempfile.TemporaryDirectory(prefix="nobat-bench-notices-") as tmp:
        for n, (api_process, per_request) in enumerate(runs):
            if os.environ.get("DATABASE_URL"):
                from bench.booking import _postgres_database

                url, drop = await _postgres_database(os.environ["DATABASE_URL"])
            else:
                url, drop = f"sqlite:///{tmp}/bench-{n}.db", None
            try:
                print(json.dumps(await run(url, trucks=trucks, events=events, rate=rate, tmp=Path(tmp),
                                           api_process=api_process, batch=per_request)), flush=True)
            finally:
                if drop:
                    await drop()

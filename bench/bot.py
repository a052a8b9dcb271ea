"""The whole bot against its yardstick: a real `nobat run` process and a bare aiogram echo bot
(`bench.echo_bot`), one after the other on the same local Bot API server with its limits lifted,
driven by the same simulated people in this process.

Steps, each a burst of N people acting at once (default 1,000): /start by new users, /book, the
checkpoint tap (shows the first free time), Next (holds it), Confirm (books it). The echo bot's
bursts are N messages answered by a message, and N taps answered by an edit. One JSON line per
step and backend: `per_s` (people answered per second, first action to last answer), `echo_per_s`,
`ratio`, `p50_ms` and `p95_ms` from an action to its answer. Then the midnight rush: 5,000
drivers with an offer on screen tap Next at once on a checkpoint of 20 places a time; a refused
driver taps Next on the time shown instead, until held or nothing is left. Its line has the p95
from a tap to its answer, the holds and the overbooked places (0), and `echo_p95_ms`: the p95 of
the echo bot answering as many taps at once, each once (the floor for any bot on this machine).

The bot's log is kept in the folder that NOBAT_BENCH_LOGS names, if set; else it goes with the run.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import yaml
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import func, insert, select

from bench.booking import _postgres_database
from handlers.booking.callbacks import OfferAction, OfferCb
from local_bot_api import BotAPIServer, ChatMessage, Limits, SimUser
from services.container import Services
from services.kernel.clock import SystemClock
from services.kernel.rules import BookingRules, Checkpoint
from services.storage.database import Database
from services.storage.models import ACTIVE_STATUSES, Account, Reservation, Slot, Truck

TOKEN = "123456:BENCH-TOKEN"
ROOT = Path(__file__).resolve().parents[1]
STEP_USERS = 1_000_000  # user ids of the step bursts start here, the rush's at twice that
TIMEOUT = 120.0

# Every driver of the steps holds the same first free time: room for all of them at once.
STEPS_CHECKPOINT = {"code": "bench", "names": {"kk": "Bench", "ru": "Bench", "fa": "Bench"},
                    "timezone": "Asia/Almaty", "slot_minutes": 60, "trucks_per_slot": 10_000,
                    "opens": "00:00", "closes": "23:00", "horizon_days": 2, "lead_minutes": 0}
# The rush: 20 places a time, about 500 times in the horizon.
RUSH_CHECKPOINT = {"code": "rush", "names": {"kk": "Rush", "ru": "Rush", "fa": "Rush"},
                   "timezone": "Asia/Almaty", "slot_minutes": 5, "trucks_per_slot": 20,
                   "opens": "00:00", "closes": "23:55", "horizon_days": 2, "lead_minutes": 0}


class Answers:
    """Who is waiting for which answer: the server tells every message it sends or edits, and only
    the waiter of that chat looks at it (so 5,000 waiters cost nothing per message)."""

    def __init__(self, server: BotAPIServer) -> None:
        self._waiting: dict[int, tuple[Callable[[ChatMessage], bool], asyncio.Future]] = {}
        server.listeners.append(self._seen)

    def expect(self, chat_id: int, predicate: Callable[[ChatMessage], bool]) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._waiting[chat_id] = (predicate, future)
        return future

    def _seen(self, event: str, message: ChatMessage) -> None:
        if event not in ("sent", "edited") or not message.from_bot:
            return
        waiting = self._waiting.get(message.chat_id)
        if waiting is not None and not waiting[1].done() and waiting[0](message):
            del self._waiting[message.chat_id]
            waiting[1].set_result((time.perf_counter(), message))


def _data(message: ChatMessage, prefix: str) -> str | None:
    return next((data for row in message.buttons for _text, data in row if data and data.startswith(prefix)), None)


def _has(prefix: str) -> Callable[[ChatMessage], bool]:
    return lambda message: _data(message, prefix) is not None


def _anything(_: ChatMessage) -> bool:
    return True


async def burst(answers: Answers, actions: list[tuple[SimUser, Callable[[], object], Callable]]) -> dict:
    """Everyone acts at once; the figures of who was answered how fast."""
    waits, started = [], []
    first = time.perf_counter()
    for user, act, predicate in actions:
        waits.append(answers.expect(user.chat_id, predicate))
        started.append(time.perf_counter())
        await act()
    try:
        results = await asyncio.wait_for(asyncio.gather(*waits), TIMEOUT)
    except TimeoutError:
        unanswered = [user.user_id for (user, _, _), wait in zip(actions, waits, strict=True) if not wait.done()]
        raise SystemExit(f"{len(unanswered)} of {len(actions)} got no answer within {TIMEOUT:g} s, "
                         f"e.g. users {unanswered[:5]}") from None
    latencies = sorted(done - t0 for (done, _), t0 in zip(results, started, strict=True))
    last = max(done for done, _ in results)
    return {"per_s": len(actions) / (last - first), "latencies": latencies,
            "messages": [message for _, message in results]}


def _figures(latencies: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000, 1)}


async def _polling_started(server: BotAPIServer, since: int) -> None:
    deadline = time.monotonic() + 60
    while not any(method == "getUpdates" for method, _ in server.requests[since:]):
        if time.monotonic() > deadline:
            raise SystemExit("the bot under test did not start polling within 60 s")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def process(args: list[str], env: dict[str, str], server: BotAPIServer, log: Path,
                  ready: Callable[[asyncio.subprocess.Process], Awaitable[None]] | None = None):
    """A process of the bot under test, its output in `log`; entered once it is `ready` (by
    default: once it polls the server), terminated on the way out."""
    since = len(server.requests)
    with log.open("ab") as out:
        child = await asyncio.create_subprocess_exec(*args, stdout=out, stderr=out, env=env, cwd=ROOT)
    try:
        await (ready(child) if ready is not None else _polling_started(server, since))
        yield child
    finally:
        if child.returncode is None:
            child.terminate()
            await asyncio.wait_for(child.wait(), 60)


def _users(server: BotAPIServer, first_id: int, count: int) -> list[SimUser]:
    return [server.user(first_id + i, first_name=f"Driver {i}", language_code="ru") for i in range(count)]


async def echo_rates(server: BotAPIServer, answers: Answers, users: int, drivers: int, env: dict[str, str],
                     log: Path) -> dict:
    """The echo bot's bursts, and its own rush: `drivers` taps at once, each answered by an edit,
    the least any bot does for a tap. Its p95 is the floor under the bot's rush p95 on this machine."""
    people = _users(server, 9_000_000, max(users, drivers))
    async with process([sys.executable, "-m", "bench.echo_bot"], env, server, log):
        await burst(answers, [(u, lambda u=u: u.send("warm up", wait=False), _anything) for u in people[:50]])
        sent = await burst(answers, [(u, lambda u=u: u.send("/start", wait=False), _has("e:"))
                                     for u in people[:users]])
        tapped = await burst(answers, [
            (u, lambda u=u, m=m: u.tap(callback_data=_data(m, "e:"), message=m, wait=False), _has("e:"))
            for u, m in zip(people, sent["messages"], strict=False)])
        shown = await burst(answers, [(u, lambda u=u: u.send("/start", wait=False), _has("e:"))
                                      for u in people[:drivers]])
        rushed = await burst(answers, [
            (u, lambda u=u, m=m: u.tap(callback_data=_data(m, "e:"), message=m, wait=False), _has("e:"))
            for u, m in zip(people, shown["messages"], strict=True)])
    return {"message": sent["per_s"], "tap": tapped["per_s"], "rush": _figures(rushed["latencies"])["p95_ms"]}


async def _add_trucks(db: Database, user_ids: list[int], *, accounts: bool) -> None:
    now = SystemClock().now()
    async with db.transaction() as session:
        if accounts:
            await session.execute(insert(Account), [
                {"id": i, "first_name": "Driver", "language": "ru", "created_at": now} for i in user_ids])
        await session.execute(insert(Truck), [
            {"account_id": i, "plate": f"{i % 1000:03d}BN{i // 1000 % 100:02d}", "created_at": now}
            for i in user_ids])


async def nobat_steps(server: BotAPIServer, answers: Answers, db: Database, users: int) -> dict[str, dict]:
    people = _users(server, STEP_USERS, users)
    steps: dict[str, dict] = {}

    def taps(messages: list[ChatMessage], prefix: str, expect: Callable) -> list:
        return [(u, lambda u=u, m=m: u.tap(callback_data=_data(m, prefix), message=m, wait=False), expect)
                for u, m in zip(people, messages, strict=True)]

    steps["/start"] = await burst(answers, [(u, lambda u=u: u.send("/start", wait=False), _anything) for u in people])
    await _add_trucks(db, [u.user_id for u in people], accounts=False)
    steps["/book"] = await burst(answers, [(u, lambda u=u: u.send("/book", wait=False), _has("cp:bench"))
                                           for u in people])
    steps["checkpoint"] = await burst(answers, taps(steps["/book"]["messages"], "cp:bench", _has("of:n:")))
    steps["next"] = await burst(answers, taps(steps["checkpoint"]["messages"], "of:n:", _has("hd:y:")))
    steps["confirm"] = await burst(answers, taps(steps["next"]["messages"], "hd:y:",
                                                 lambda message: not _has("hd:")(message)))
    return steps


async def rush(server: BotAPIServer, answers: Answers, db: Database, drivers: int, checkpoint: Checkpoint) -> dict:
    """Every driver has an offer of the first free time on screen and taps Next at once."""
    people = _users(server, 2 * STEP_USERS, drivers)
    ids = [u.user_id for u in people]
    await _add_trucks(db, ids, accounts=True)
    async with db.reading() as session:
        trucks = dict((await session.execute(select(Truck.account_id, Truck.id).where(
            Truck.account_id.in_(ids)))).all())
    services = Services.build(db, [checkpoint], BookingRules(), SystemClock())
    first = await services.calendar.first_free(checkpoint)
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
    try:
        async def show_offer(user: SimUser) -> None:
            keyboard = InlineKeyboardBuilder()
            keyboard.button(text="Next", callback_data=OfferCb(action=OfferAction.NEXT, checkpoint=checkpoint.code,
                                                               truck_id=trucks[user.user_id], slot_id=first.slot_id))
            await bot.send_message(user.chat_id, "The first free time", reply_markup=keyboard.as_markup())

        for chunk in range(0, drivers, 200):
            await asyncio.gather(*(show_offer(u) for u in people[chunk:chunk + 200]))
    finally:
        await bot.session.close()

    latencies: list[float] = []
    held = 0

    async def driver(user: SimUser) -> None:
        nonlocal held
        message = user.last_message()
        while (data := _data(message, "of:n:")) is not None:
            waiting = answers.expect(user.chat_id, _anything)
            started = time.perf_counter()
            await user.tap(callback_data=data, message=message, wait=False)
            done, message = await asyncio.wait_for(waiting, TIMEOUT)
            latencies.append(done - started)
            if _data(message, "hd:y:") is not None:
                held += 1
                return

    started = time.perf_counter()
    await asyncio.gather(*(driver(u) for u in people))
    elapsed = time.perf_counter() - started
    async with db.reading() as session:
        per_slot = dict((await session.execute(
            select(Reservation.slot_id, func.count()).where(Reservation.checkpoint == checkpoint.code,
                                                            Reservation.status.in_(ACTIVE_STATUSES))
            .group_by(Reservation.slot_id))).all())
        capacity = dict((await session.execute(select(Slot.id, Slot.capacity).where(
            Slot.checkpoint == checkpoint.code))).all())
    latencies.sort()
    return {"drivers": drivers, "taps": len(latencies), "holds": held, "holds_in_db": sum(per_slot.values()),
            "overbooked": sum(max(0, n - capacity[slot]) for slot, n in per_slot.items()),
            "elapsed_s": round(elapsed, 2), **_figures(latencies)}


def _config(tmp: Path) -> Path:
    settings = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    settings["checkpoints"] = [STEPS_CHECKPOINT, RUSH_CHECKPOINT]
    settings["worker_interval_seconds"] = 30  # countdowns: not what is measured here
    # The server's limits are lifted, so the bot's own outgoing budget is too: the bench measures
    # the bot's work, not Telegram's 30 messages a second.
    settings["telegram_limits"] = {"messages_per_second": 10_000, "per_chat_per_second": 100,
                                   "per_group_per_minute": 10_000}
    path = tmp / "bench-config.yaml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return path


async def run(backend: str, url: str, *, users: int, drivers: int, tmp: Path) -> list[dict]:
    server = BotAPIServer(TOKEN, limits=Limits(enabled=False))
    base_url = await server.start()
    answers = Answers(server)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "NOBAT_CONFIG")}
    env.update(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=base_url)
    redis = os.environ.get("REDIS_URL") if backend == "postgresql" else None
    try:
        echo = await echo_rates(server, answers, users, drivers, env, tmp / "echo.log")
        # A refused driver of the rush taps again the moment the answer comes, faster than any
        # person: the bot's own flood limit would silence them.
        nobat_env = {**env, "DATABASE_URL": url, "NOBAT_CONFIG": str(_config(tmp)), "NOBAT_FLOOD__UPDATES": "10000",
                     "NOBAT_API__PORT": "0", **({"REDIS_URL": redis} if redis else {})}
        db = Database(url)
        try:
            log = Path(os.environ.get("NOBAT_BENCH_LOGS", tmp)) / f"nobat-{backend}.log"
            async with process(_nobat(), nobat_env, server, log):
                steps = await nobat_steps(server, answers, db, users)
                checkpoint = Checkpoint.model_validate(RUSH_CHECKPOINT)
                rushed = await rush(server, answers, db, drivers, checkpoint)
        finally:
            await db.close()
    finally:
        await server.stop()
    common = {"bench": "bot", "backend": backend, "redis": bool(redis), "users": users}
    lines = []
    for step, figures in steps.items():
        yardstick = echo["message"] if step.startswith("/") else echo["tap"]
        lines.append({**common, "step": step, "per_s": round(figures["per_s"], 1), "echo_per_s": round(yardstick, 1),
                      "ratio": round(figures["per_s"] / yardstick, 2), **_figures(figures["latencies"])})
    lines.append({**common, "step": "rush", **rushed, "echo_p95_ms": echo["rush"]})
    return lines


def _nobat() -> list[str]:
    script = Path(sys.executable).parent / "nobat"
    return [str(script), "run"] if script.exists() else [sys.executable, "-m", "bot.cli", "run"]


async def main(*, users: int, drivers: int) -> None:
    with tempfile.TemporaryDirectory(prefix="nobat-bench-bot-") as tmp:
        for line in await run("sqlite", f"sqlite:///{tmp}/bench.db", users=users, drivers=drivers, tmp=Path(tmp)):
            print(json.dumps(line), flush=True)
        if os.environ.get("DATABASE_URL"):
            url, drop = await _postgres_database(os.environ["DATABASE_URL"])
            try:
                for line in await run("postgresql", url, users=users, drivers=drivers, tmp=Path(tmp)):
                    print(json.dumps(line), flush=True)
            finally:
                await drop()

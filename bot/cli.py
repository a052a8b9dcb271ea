"""The `nobat` command: run the bot, run the demo, run the border system's API alone, migrate the database,
verify and export the audit trail."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from services.kernel.rules import LANGUAGES


def settle_heap() -> None:
    """Once started, set what start-up made (modules, the dispatcher, catalogs, pools) aside from
    the garbage collector: they live as long as the process, and every full collection would walk
    them all again, in the middle of a rush (docs/benchmarks.md). `python -m bench booking` does
    the same after its warm-up."""
    gc.collect()
    gc.freeze()


def _settings(**overrides):
    """Settings, or a short message naming what is wrong in config.yaml or the environment."""
    from pydantic import ValidationError

    from bot.config import config_path, load_settings, what_is_wrong

    try:
        return load_settings(**overrides)
    except ValidationError as error:
        raise SystemExit(f"nobat: configuration error in {config_path()} or the environment: "
                         f"{what_is_wrong(error)}") from None
    except FileNotFoundError as error:
        raise SystemExit(f"nobat: {error}") from None


async def _run(webhook: str | None) -> None:
    from bot.startup import StartupError, connect_redis, open_database

    settings = _settings(**({"webhook": {"url": webhook}} if webhook else {}))
    if not settings.bot_token:
        raise SystemExit("nobat run: BOT_TOKEN is not set. Get a token from @BotFather and export BOT_TOKEN=...; "
                         "or try `nobat demo`, which needs none.")
    # What the operator got wrong (a setting, the database, Redis) is said before the bot's framework
    # loads, which takes seconds of a small machine's time.
    db = await open_database(settings)
    try:
        redis = await connect_redis(settings)
    except StartupError:
        await db.close()
        raise
    from bot.app import App

    app = await App.create(settings, db=db, redis=redis)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await app.start()
        settle_heap()
        logging.getLogger("nobat").info("Nobat is running; Ctrl+C stops it")
        await stop.wait()
    finally:
        await app.stop()


async def _api() -> None:
    from bot.api_alone import ApiAlone

    settings = _settings()
    if not settings.api.secret:
        logging.getLogger("nobat").warning("NOBAT_API__SECRET is not set: every signed request is refused (503)")
    api = await ApiAlone.start(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        logging.getLogger("nobat").info("the border system's API is running; Ctrl+C stops it")
        await stop.wait()
    finally:
        await api.stop()


async def _migrate() -> None:
    from bot.startup import open_database

    db = await open_database(_settings())
    await db.close()


async def _audit_verify() -> int:
    """Exit status 0 with a one-line summary when the chain is unbroken, 1 naming its first broken record."""
    from bot.startup import open_database
    from services.audit.trail import AuditTrail

    db = await open_database(_settings())
    try:
        verdict = await AuditTrail(db).verify()
    finally:
        await db.close()
    if not verdict.intact:
        print(f"nobat audit verify: broken at record {verdict.broken_id} ({verdict.problem.value}): {verdict.why}; "
              f"{verdict.count} records before it are intact", file=sys.stderr)
        return 1
    if verdict.count == 0:
        print("audit trail intact: no records yet")
    else:
        # The head is what a later run must still reach: only a head noted elsewhere shows that
        # nobody cut the newest records off.
        print(f"audit trail intact: {verdict.count} records, head {verdict.head_id} {verdict.head_hash}")
    return 0


async def _audit_export(start: datetime, end: datetime, account_id: int | None) -> None:
    from bot.startup import open_database
    from services.audit.trail import AuditTrail

    db = await open_database(_settings())
    try:
        async for line in AuditTrail(db).export(start, end, account_id):
            sys.stdout.write(line + "\n")
    finally:
        await db.close()


def _moment(typed: str) -> datetime:
    """An ISO 8601 date or time; one without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {typed!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nobat", description="Nobat: the truck queue bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (needs BOT_TOKEN; TELEGRAM_API_URL for another Bot API server)")
    run.add_argument("--webhook", metavar="URL",
                     help="take updates on this HTTPS URL instead of polling (see webhook and web in config.yaml)")
    demo = commands.add_parser("demo", help="the bot with a local Bot API server and a terminal chat")
    demo.add_argument("--lang", choices=LANGUAGES, default="ru", help="the demo user's app language")
    demo.add_argument("--script", type=Path, help="replay this file's lines as the user's input and print the chat")
    demo.add_argument("--agent", action="store_true",
                      help="play the support agent in the agents' group (a simulated driver asks first); "
                           ":driver TEXT is the driver")
    commands.add_parser("api", help="the border system's HTTP API alone (api in config.yaml; no bot, no token)")
    commands.add_parser("migrate", help="create or upgrade the database schema")
    audit = commands.add_parser("audit", help="the audit trail of every action (hash-chained)")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="walk the chain; exit 1 naming the first broken record")
    export = audit_commands.add_parser("export", help="the records of a time range as JSON lines, to stdout")
    export.add_argument("--from", dest="start", type=_moment, required=True, metavar="ISO",
                        help="from this time on (UTC unless it names a zone)")
    export.add_argument("--to", dest="end", type=_moment, required=True, metavar="ISO", help="until before this time")
    export.add_argument("--account", type=int, metavar="ID", help="only the records about this Telegram account")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING if args.command in ("demo", "audit") else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiogram says at INFO that each update was handled and each tap answered: in a rush, lines
    # by the thousand that drown what matters and cost the bot a good part of its work.
    # What fails is still logged, by aiogram and by the error handler.
    for chatty in ("aiogram.event", "aiogram.middlewares"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    from bot.startup import StartupError

    try:
        if args.command == "run":
            asyncio.run(_run(args.webhook))
        elif args.command == "demo":
            from bot.demo import run_demo

            asyncio.run(run_demo(args.lang, args.script, agent=args.agent))
        elif args.command == "api":
            asyncio.run(_api())
        elif args.command == "migrate":
            asyncio.run(_migrate())
        elif args.command == "audit" and args.audit_command == "verify":
            raise SystemExit(asyncio.run(_audit_verify()))
        elif args.command == "audit":
            asyncio.run(_audit_export(args.start, args.end, args.account))
    except StartupError as error:  # the line says it all: no traceback
        raise SystemExit(f"nobat {args.command}: {error}") from None


if __name__ == "__main__":
    main()

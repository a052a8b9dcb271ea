"""What must work before the bot starts: its database, reachable and migrated, and Redis when
REDIS_URL is set. When one does not, `StartupError` says in one line what failed, where (with the
password hidden) and what to do; the `nobat` command prints that line and exits with status 1.
Each wait is bounded by `database.connect_timeout_seconds`, so a start never hangs on an address
that does not answer."""

from __future__ import annotations

import asyncio

from bot.config import Settings
from services.storage.database import Database, shown_url
from services.storage.unavailable import DatabaseUnavailable


class StartupError(Exception):
    """The bot cannot start; the message is the line for the operator."""


async def open_database(settings: Settings) -> Database:
    """The database of DATABASE_URL, migrated to the newest schema."""
    try:
        db = Database(settings.database_url, timeouts=settings.database)
    except (ValueError, OSError) as error:  # a URL we cannot use, a directory we cannot create
        raise StartupError(f"DATABASE_URL {shown_url(settings.database_url)} cannot be used: {error}") from None
    try:
        await db.migrate()
    except DatabaseUnavailable as error:
        await db.close()
        raise StartupError(
            f"cannot use the database {shown_url(settings.database_url)}: {error}. Check DATABASE_URL, that the "
            "database server is running and reachable, and that the database exists."
        ) from None
    return db


async def connect_redis(settings: Settings):
    """Redis of REDIS_URL, answering; None without REDIS_URL."""
    if not settings.redis_url:
        return None
    from redis.asyncio import BlockingConnectionPool, Redis
    from redis.exceptions import RedisError

    timeout = settings.database.connect_timeout_seconds
    shown = shown_url(settings.redis_url)
    try:
        # A burst of updates waits for a free connection instead of failing with "Too many
        # connections" (the plain pool's answer once it is exhausted).
        pool = BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=64, timeout=30, socket_connect_timeout=timeout,
            socket_timeout=settings.database.statement_timeout_seconds,
        )
    except ValueError as error:
        raise StartupError(f"REDIS_URL {shown} cannot be used: {error}") from None
    redis = Redis(connection_pool=pool)
    try:
        await asyncio.wait_for(redis.ping(), timeout)
    except (RedisError, OSError, TimeoutError) as error:
        await redis.aclose()
        reason = str(error).rstrip(".") or "it did not answer in time"
        raise StartupError(
            f"cannot reach Redis at {shown}: {reason}. Check REDIS_URL and that Redis is running; or unset "
            "REDIS_URL to keep conversation state in this process's memory (one bot process only)."
        ) from None
    return redis

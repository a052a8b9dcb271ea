"""Accounts: a Telegram user as the domain knows it (an id, a name, a language).

Every update from a private chat needs its account, so accounts are the hottest read of the bot:
loaded in batches (a rush of a thousand new drivers is one read and one write, not two thousand
transactions) and kept in a cache. A change of an account (its language) drops it from the cache
of this process and, through `Invalidations` (Redis when configured), of every other process (`services.invalidations`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select, update

from services.batching import Batcher
from services.clock import Clock
from services.invalidations import Invalidations
from services.rules import LANGUAGES
from services.storage import Account, Database

CACHE_SIZE = 100_000  # accounts active in the last hours of a big crossing; about 30 MB
# A backstop for a lost invalidation (Redis away for a moment): no cached account is older.
CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class AccountView:
    id: int
    first_name: str
    language: str | None  # None until the driver's language is known


@dataclass(frozen=True)
class _Ensure:
    account_id: int
    first_name: str
    language: str | None


def language_from_client(code: str | None) -> str | None:
    """Telegram's language_code (e.g. "ru-RU", "fa", "kk") to one of ours, or None."""
    if not code:
        return None
    base = code.split("-")[0].lower()
    return base if base in LANGUAGES else None


class AccountCache:
    """The accounts read lately, newest last, each for at most `CACHE_SECONDS`.

    A read that started before an invalidation of the same account must not put the old row back:
    each invalidation bumps a counter, and a load stores its rows only if none of them was
    invalidated since the load began.
    """

    def __init__(self, size: int = CACHE_SIZE, seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.seconds, self.clock = size, seconds, clock
        self._rows: OrderedDict[int, tuple[float, AccountView]] = OrderedDict()
        self._changes = 0
        self._changed_at: dict[int, int] = {}  # account id → the change counter when it was invalidated
        self._cleared_at = -1

    def get(self, account_id: int) -> AccountView | None:
        found = self._rows.get(account_id)
        if found is None:
            return None
        stored_at, account = found
        if self.clock() - stored_at > self.seconds:
            del self._rows[account_id]
            return None
        self._rows.move_to_end(account_id)
        return account

    def mark(self) -> int:
        """Taken before a load: what `put` compares against."""
        return self._changes

    def put(self, accounts: Iterable[AccountView], mark: int) -> None:
        now = self.clock()
        for account in accounts:
            if self._changed_at.get(account.id, -1) >= mark or self._cleared_at > mark:
                continue  # changed while it was being read: the next update reads it again
            self._rows[account.id] = (now, account)
            self._rows.move_to_end(account.id)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def clear(self) -> None:
        """Forget everything: invalidations may have been missed (Redis was away)."""
        self._rows.clear()
        self._changes += 1
        self._changed_at.clear()
        self._cleared_at = self._changes

    def invalidate(self, account_ids: Iterable[int]) -> None:
        for account_id in account_ids:
            self._rows.pop(account_id, None)
            self._changed_at[account_id] = self._changes
        self._changes += 1
        if len(self._changed_at) > self.size:  # only loads still running need the old entries
            self._changed_at = {i: at for i, at in self._changed_at.items() if at >= self._changes - 1000}


class AccountService:
    def __init__(self, db: Database, clock: Clock, invalidations: Invalidations | None = None) -> None:
        self.db = db
        self.clock = clock
        self.cache = AccountCache()
        self.invalidations = invalidations or Invalidations()
        self.invalidations.listen(self.cache.invalidate, self.cache.clear)
        self._ensure = Batcher(self._ensure_batch)

    async def ensure(self, account_id: int, first_name: str, client_language: str | None) -> AccountView:
        """The account of this user, created on first contact with the language the client reports."""
        cached = self.cache.get(account_id)
        if cached is not None:
            return cached
        return await self._ensure(_Ensure(account_id, first_name[:128], language_from_client(client_language)))

    async def _ensure_batch(self, requests: list[_Ensure]) -> list[AccountView]:
        """One read for the whole batch, and one write for the accounts it does not find."""
        mark = self.cache.mark()
        ids = sorted({r.account_id for r in requests})
        async with self.db.reading() as session:
            found = {row.id: AccountView(row.id, row.first_name, row.language) for row in (await session.execute(
                select(Account.id, Account.first_name, Account.language).where(self.db.among(Account.id, ids))
            ))}
        new: dict[int, _Ensure] = {}
        for request in requests:  # the first of two updates of one new user creates the account
            if request.account_id not in found:
                new.setdefault(request.account_id, request)
        if new:
            async with self.db.transaction() as session:
                await session.execute(
                    self.db.insert(Account).on_conflict_do_nothing(index_elements=["id"]),
                    [{"id": r.account_id, "first_name": r.first_name, "language": r.language,
                      "created_at": self.clock.now()} for r in new.values()],
                )
                # Another process may have created some meanwhile: what the database holds is the account.
                found.update({row.id: AccountView(row.id, row.first_name, row.language) for row in (
                    await session.execute(select(Account.id, Account.first_name, Account.language)
                                          .where(self.db.among(Account.id, sorted(new))))
                )})
        self.cache.put(found.values(), mark)
        return [found[r.account_id] for r in requests]

    async def set_language(self, account_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        async with self.db.transaction() as session:
            await session.execute(update(Account).where(Account.id == account_id).values(language=language))
        self.cache.invalidate([account_id])
        await self.invalidations.publish([account_id])

    async def language_of(self, account_id: int) -> str | None:
        cached = self.cache.get(account_id)
        if cached is not None:
            return cached.language
        async with self.db.reading() as session:
            return await session.scalar(select(Account.language).where(Account.id == account_id))

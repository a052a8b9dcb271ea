"""Accounts: a Telegram user as the domain knows it (an id, a name, a language).

Every update from a private chat needs its account, so accounts are the hottest read of the bot:
loaded in batches (a rush of a thousand new drivers is one read and one write, not two thousand
transactions) and kept in a cache (`services.kernel.cache`). A change of an account (its language) drops
it from the cache of this process and, through `services.kernel.invalidations`, of every other process.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from services.audit.trail import AuditTrail, Entry, account
from services.kernel.batching import Batcher
from services.kernel.cache import RecentRows
from services.kernel.clock import Clock
from services.kernel.invalidations import Invalidations
from services.kernel.rules import LANGUAGES
from services.storage.database import Database
from services.storage.models import Account

KIND = "accounts"  # what other processes are told of, when an account changes


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


class AccountService:
    def __init__(self, db: Database, clock: Clock, invalidations: Invalidations | None = None,
                 audit: AuditTrail | None = None) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit or AuditTrail(db)
        self.cache: RecentRows[int, AccountView] = RecentRows()
        self.invalidations = invalidations or Invalidations()
        self.invalidations.listen(KIND, self.cache.invalidate, self.cache.clear)
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
            now = self.clock.now()
            async with self.db.transaction() as session:
                created = set((await session.scalars(
                    self.db.insert(Account).on_conflict_do_nothing(index_elements=["id"]).returning(Account.id),
                    [{"id": r.account_id, "first_name": r.first_name, "language": r.language,
                      "created_at": now} for r in new.values()],
                )).all())
                # Another process may have created some meanwhile: what the database holds is the account.
                found.update({row.id: AccountView(row.id, row.first_name, row.language) for row in (
                    await session.execute(select(Account.id, Account.first_name, Account.language)
                                          .where(self.db.among(Account.id, sorted(new))))
                )})
                await self.audit.append(session, [
                    Entry(now, account(r.account_id), "account.create", f"account:{r.account_id}", "created",
                          r.account_id, {"language": r.language}) for r in new.values() if r.account_id in created])
        self.cache.put(found.items(), mark)
        return [found[r.account_id] for r in requests]

    async def set_language(self, account_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        async with self.db.transaction() as session:
            await session.execute(update(Account).where(Account.id == account_id).values(language=language))
            await self.audit.append(session, [Entry(self.clock.now(), account(account_id), "account.language",
                                                    f"account:{account_id}", "set", account_id,
                                                    {"language": language})])
        self.cache.invalidate([account_id])
        await self.invalidations.publish(KIND, [account_id])

    async def language_of(self, account_id: int) -> str | None:
        cached = self.cache.get(account_id)
        if cached is not None:
            return cached.language
        async with self.db.reading() as session:
            return await session.scalar(select(Account.language).where(Account.id == account_id))

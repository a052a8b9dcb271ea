"""Accounts: a Telegram user as the domain knows it (an id, a name, a language)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from services.clock import Clock
from services.rules import LANGUAGES
from services.storage import Account, Database


@dataclass(frozen=True)
class AccountView:
    id: int
    first_name: str
    language: str | None  # None until the driver's language is known


def language_from_client(code: str | None) -> str | None:
    """Telegram's language_code (e.g. "ru-RU", "fa", "kk") to one of ours, or None."""
    if not code:
        return None
    base = code.split("-")[0].lower()
    return base if base in LANGUAGES else None


class AccountService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def ensure(self, account_id: int, first_name: str, client_language: str | None) -> AccountView:
        """The account of this user, created on first contact with the language the client reports."""
        async with self.db.reading() as session:
            row = await session.get(Account, account_id)
            if row is not None:
                return AccountView(row.id, row.first_name, row.language)
        language = language_from_client(client_language)
        async with self.db.transaction() as session:
            insert = self.db.insert(Account).values(
                id=account_id, first_name=first_name[:128], language=language, created_at=self.clock.now(),
            ).on_conflict_do_nothing(index_elements=["id"])
            await session.execute(insert)
            row = await session.get(Account, account_id)
            return AccountView(row.id, row.first_name, row.language)

    async def set_language(self, account_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        async with self.db.transaction() as session:
            await session.execute(update(Account).where(Account.id == account_id).values(language=language))

    async def language_of(self, account_id: int) -> str | None:
        async with self.db.reading() as session:
            return await session.scalar(select(Account.language).where(Account.id == account_id))

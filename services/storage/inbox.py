"""Updates received and not yet handled, kept in the database (the polling inbox).

Telegram's getUpdates forgets every update below the `offset` it is sent, so an update may be
confirmed to it only when nothing can lose it any more. Keeping the fetched updates here first lets
polling confirm them at once (no slow or stuck update holds back the queue of everyone else's) and
still hand every unfinished one to the next process after a crash. Plain JSON text in, plain text
out: nothing of Telegram's types here.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select

from services.kernel.clock import Clock
from services.storage.database import Database
from services.storage.models import InboxUpdate


class Inbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def keep(self, updates: dict[int, str], handled: Collection[int] = ()) -> None:
        """Store fetched updates (by id; one already kept stays as it is) and, in the same
        transaction, forget the handled ones: one write per getUpdates, however busy."""
        if not updates and not handled:
            return
        async with self.db.transaction() as session:
            if handled:
                await session.execute(delete(InboxUpdate).where(self.db.among(InboxUpdate.update_id, handled)))
            if updates:
                now = self.clock.now()
                await session.execute(
                    self.db.insert(InboxUpdate).on_conflict_do_nothing(index_elements=["update_id"]),
                    [{"update_id": update_id, "payload": payload, "received_at": now}
                     for update_id, payload in updates.items()],
                )

    async def unhandled(self) -> dict[int, str]:
        """What an earlier process fetched and did not finish, oldest first."""
        async with self.db.reading() as session:
            rows = (await session.execute(
                select(InboxUpdate.update_id, InboxUpdate.payload).order_by(InboxUpdate.update_id)
            )).all()
        return dict(rows)

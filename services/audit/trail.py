"""The audit trail: who did what, when, to which hold, booking, truck or slot, with which result.

Law enforcement asks the queue to show that nobody hoarded places or sold them on, so every action
of a driver, a worker or the border system appends a record in the same transaction as the action
itself: the record exists exactly when the action does, and a rolled-back action leaves none.

Records are hash-chained. Each stores the hash of the record before it (`prev_hash`, the genesis
value for the first) and its own hash, SHA-256 in hex over `prev_hash` followed by the record's
canonical JSON (`canonical`), so that a record changed, deleted or moved breaks the chain at that
place. The chain cannot tell that its newest records were cut off, nor that someone rewrote all of
it from some record on: `verify` says which record is the head, and only a head noted elsewhere
(exported, printed in a report) proves that the trail still reaches it.

Ids are numbered here, one after another from the chain's head, not drawn from a sequence: a
sequence gives numbers away to transactions that roll back, and a gap is then a deletion's mark
that nobody made. A transaction's records are one chain segment, appended with one read of the
head and one multi-row insert (a binary COPY on PostgreSQL): the booking engine's group commit
writes thousands of records a second, one append per batch. The head is read and the segment
written with every other appender shut out: on PostgreSQL behind an advisory lock held to the
commit, on SQLite inside the write transaction, which BEGIN IMMEDIATE makes exclusive. The append
is the last statement of its transaction, so the lock is never held by a transaction that still
waits for a row lock. The primary key is the backstop: a second segment appended from the same
head is refused, never forked.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.database import Database
from services.storage.models import Base, UTCDateTime, naive_utc

GENESIS = "0" * 64  # the prev_hash of the first record
APPEND_LOCK = 0x6E6F6175646974  # the PostgreSQL advisory lock ("noaudit") an append holds to its commit
PAGE = 5000  # records read at a time by `verify` and `export`


class AuditRecord(Base):
    __tablename__ = "audit_records"
    __table_args__ = (
        # Block ranges on PostgreSQL (migration 0010): appended in nearly the order of their times.
        Index("ix_audit_records_at", "at", postgresql_using="brin"),
        Index("ix_audit_records_account_at", "account_id", "at"),
    )

    # The chain's order; on SQLite the row id itself (migration 0010), not an index beside it.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(32))  # "account:123", "worker:expiry", "border"
    action: Mapped[str] = mapped_column(String(40))  # "hold.take", "booking.confirm", ...
    subject: Mapped[str] = mapped_column(String(40))  # "reservation:77", "slot:12", "truck:5"
    result: Mapped[str] = mapped_column(String(32))  # "held", "slot_full", "cancelled", ...
    # The account the record is about, the actor's own or the owner of its subject, so that an
    # export for one account also finds the worker's expiry of its hold and the border's
    # cancellation of its booking.
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[str] = mapped_column(Text)  # a JSON object: what the request asked, what it got
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(slots=True)
class Entry:
    """One action to be recorded, before it has its place in the chain. A value, never changed once
    made; not declared frozen because the booking engine makes one per tap, thousands a second,
    and a frozen dataclass is much slower to make (docs/benchmarks.md)."""

    at: datetime
    actor: str
    action: str
    subject: str
    result: str
    account_id: int | None = None
    # What the request asked and got: a dict, or (on a hot path) its `canonical_json` text already.
    details: dict[str, Any] | str = field(default_factory=dict)


def account(account_id: int) -> str:
    """The actor of what a driver or dispatcher did from their own Telegram account."""
    return f"account:{account_id}"


# Workers act on their own; the booking engine too, when a take, confirm or cancel finds a hold
# past its time that the expiry worker has not visited yet and expires it there and then.
EXPIRY_WORKER = "worker:expiry"
RELEASE_WORKER = "worker:release"
COUNTDOWN_WORKER = "worker:countdown"  # tells a driver that the hold is about to end
ENGINE = "system:booking"
BORDER = "border"  # the border system's posts (services.notices)


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# JSON as the chain hashes it: keys sorted, no whitespace, text as itself (not \\u escapes).
_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
if json.encoder.c_make_encoder is not None:
    # What `_encoder.encode` builds anew at each call, built once: the record's details are encoded
    # for every tap of a rush, and the building was most of the time. No check for circular
    # references: details are plain values.
    _make_chunks = json.encoder.c_make_encoder(
        None, _encoder.default, json.encoder.encode_basestring, None, ":", ",", True, False, True)

    def canonical_json(value: Any) -> str:
        return "".join(_make_chunks(value, 0))
else:  # a Python without the json module's C speedups
    canonical_json = _encoder.encode
# ... and of one string: what that encoder itself calls for a string, without its call's overhead.
json_text = json.encoder.encode_basestring


def canonical(record_id: int, entry: Entry, *, at: str | None = None, details: str | None = None) -> str:
    """The record as hashed: its fields as one canonical JSON object (`canonical_json`), its time
    in UTC ISO 8601 with microseconds. Anyone can rebuild it from an exported line with any JSON
    library. Written out key by key, in sorted order, to the same text `canonical_json` gives for
    the whole record (a test says so): the booking engine hashes thousands of records a second,
    and this is a good part of the work. `at` and `details` may come encoded already."""
    return (f'{{"account_id":{"null" if entry.account_id is None else int(entry.account_id)},'
            f'"action":{json_text(entry.action)},"actor":{json_text(entry.actor)},'
            f'"at":"{at or utc_iso(entry.at)}","details":{details or _details_json(entry.details)},'
            f'"id":{int(record_id)},"result":{json_text(entry.result)},'
            f'"subject":{json_text(entry.subject)}}}')


def _details_json(details: dict[str, Any] | str) -> str:
    return details if isinstance(details, str) else canonical_json(details)


def chain_hash(prev_hash: str, record_id: int, entry: Entry, *, at: str | None = None,
               details: str | None = None) -> str:
    return hashlib.sha256((prev_hash + canonical(record_id, entry, at=at, details=details)).encode()).hexdigest()


class Problem(Enum):
    ALTERED = "altered"  # the record's hash is not the hash of its fields: a field or the hash was changed
    UNLINKED = "unlinked"  # its prev_hash is not the previous record's hash: a record before it deleted or moved
    GAP = "gap"  # ids are missing before it: records deleted
    START = "start"  # the chain does not start at record 1 with the genesis hash


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: an unbroken chain of `count` records up to `head_id`/`head_hash`, or
    the first record where it breaks, and why."""

    count: int
    head_id: int | None = None
    head_hash: str | None = None
    broken_id: int | None = None
    problem: Problem | None = None
    why: str = ""

    @property
    def intact(self) -> bool:
        return self.problem is None


_COLUMNS = ("id", "at", "actor", "action", "subject", "result", "account_id", "details", "prev_hash", "hash")
_SELECTED = [AuditRecord.__table__.c[name] for name in _COLUMNS]


class AuditTrail:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def append(self, session: AsyncSession, entries: Iterable[Entry]) -> None:
        """Append `entries` as one segment of the chain, in the caller's transaction; the last
        statement before its commit (see the module's docstring).

        `entries` may be made as they are written (a generator): a rush's batch records thousands
        of taps, and records made, hashed and sent one at a time are not all alive at once, which
        spares the process the garbage collections of thousands of objects that outlive a
        moment (on PostgreSQL; SQLite's executemany takes the rows as one list)."""
        entries = iter(entries)
        first = next(entries, None)
        if first is None:
            return
        if not self.db.is_sqlite:
            await session.execute(text(f"SELECT pg_advisory_xact_lock({APPEND_LOCK})"))
        head = (await session.execute(
            select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
        )).first()
        connection = await session.connection()
        await self._insert(connection, _rows(itertools.chain((first,), entries), self._stored_time(connection),
                                             *((head.id, head.hash) if head is not None else (0, GENESIS))))

    def _stored_time(self, connection) -> Callable[[datetime], Any]:
        """A moment in the form the driver stores it: naive UTC for asyncpg, the text SQLAlchemy's
        column type writes on SQLite (the rows go below SQLAlchemy, see `_insert`)."""
        if not self.db.is_sqlite:
            return naive_utc
        return AuditRecord.__table__.c.at.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)

    async def _insert(self, connection, rows: Iterator[tuple]) -> None:
        """One statement for the segment, below the ORM and SQLAlchemy's handling of each row, which
        costs more than SQLite's own insert does: a rush appends thousands of records a second.
        PostgreSQL: a binary COPY on the transaction's own connection, which costs the server and
        the client less a record than one INSERT ... SELECT FROM unnest(arrays) (the arrays built,
        sent and taken apart again; docs/benchmarks.md). SQLite: the driver's executemany."""
        if not self.db.is_sqlite:
            await self.db.copy(connection, "audit_records", _COLUMNS, rows)
            return
        await connection.exec_driver_sql(
            f"INSERT INTO audit_records ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", list(rows))

    async def _pages(self, *conditions) -> AsyncIterator[list]:
        """The records in chain order, a page at a time, each page read in a short session of its
        own: a walk through millions of rows neither holds them all nor one long transaction."""
        after = 0
        while True:
            async with self.db.reading() as session:
                # Rows, not ORM objects: a walk through the chain reads nothing else, and builds no
                # object per record.
                page = list(await session.execute(
                    select(*_SELECTED).where(AuditRecord.id > after, *conditions).order_by(AuditRecord.id).limit(PAGE)
                ))
            if not page:
                return
            yield page
            after = page[-1].id

    async def verify(self) -> Verdict:
        """Walk the chain from the first record and name the first one where it breaks."""
        count, expected_id, prev = 0, 1, GENESIS
        async for page in self._pages():
            for row in page:
                problem, why = None, ""
                if count == 0 and (row.id != 1 or row.prev_hash != GENESIS):
                    problem = Problem.START
                    why = f"the chain starts at record {row.id}, not at record 1 after the genesis hash"
                elif row.id != expected_id:
                    problem = Problem.GAP
                    why = f"records {expected_id}..{row.id - 1} are missing"
                elif row.prev_hash != prev:
                    problem = Problem.UNLINKED
                    why = f"its prev_hash is not the hash of record {row.id - 1}: a record deleted or moved"
                # Its details as stored: canonical JSON when written, so any other text is a change.
                elif chain_hash(row.prev_hash, row.id, _entry(row, details=False), details=row.details) != row.hash:
                    problem = Problem.ALTERED
                    why = "its hash is not the hash of its fields: the record was changed"
                if problem is not None:
                    return Verdict(count, expected_id - 1 or None, prev if count else None, row.id, problem, why)
                count, expected_id, prev = count + 1, row.id + 1, row.hash
        return Verdict(count, expected_id - 1 or None, prev if count else None)

    async def export(self, start: datetime, end: datetime, account_id: int | None = None) -> AsyncIterator[str]:
        """The records from `start` (included) to `end` (excluded), in chain order, one JSON object
        per line, each with its hashes so that the receiver can check them; with `account_id`, only
        those about that account."""
        conditions = [AuditRecord.at >= start, AuditRecord.at < end]
        if account_id is not None:
            conditions.append(AuditRecord.account_id == account_id)
        async for page in self._pages(*conditions):
            for row in page:
                yield json.dumps(
                    {"id": row.id, "at": utc_iso(row.at), "actor": row.actor, "action": row.action,
                     "subject": row.subject, "result": row.result, "account_id": row.account_id,
                     "details": json.loads(row.details), "prev_hash": row.prev_hash, "hash": row.hash},
                    ensure_ascii=False,
                )


def _rows(entries: Iterable[Entry], stored: Callable[[datetime], Any], record_id: int, prev: str) -> Iterator[tuple]:
    """The records of `entries` as rows of the chain after the record `record_id` whose hash is
    `prev`, each made when the one before is written; their times in the form `stored` gives."""
    # A batch's entries mostly share one moment: its text as hashed and its form as stored.
    times: dict[datetime, tuple[str, Any]] = {}
    sha256 = hashlib.sha256
    for entry in entries:
        record_id += 1
        at, at_stored = times.get(entry.at) or times.setdefault(entry.at, (utc_iso(entry.at), stored(entry.at)))
        details = _details_json(entry.details)
        # `chain_hash`, without its call: this loop runs for every tap of a rush.
        digest = sha256((prev + canonical(record_id, entry, at=at, details=details)).encode()).hexdigest()
        yield (record_id, at_stored, entry.actor, entry.action, entry.subject, entry.result, entry.account_id,
               details, prev, digest)
        prev = digest


def _entry(row, *, details: bool = True) -> Entry:
    """A stored record's entry; without its details decoded, for a hash over their stored text."""
    return Entry(row.at, row.actor, row.action, row.subject, row.result, row.account_id,
                 json.loads(row.details) if details else None)

"""What a batch of takes writes, in its own transaction: the places taken from the slots and the new
holds, each database its fastest way (SQLite: one JSON parameter and the driver's executemany;
PostgreSQL: arrays and a binary COPY), and the audit record of every take, refusals included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import select, text

from services.audit.trail import Entry, account, json_text, utc_iso
from services.booking.takes import BatchDecision, Decision, Hold, TakeOutcome, TakeRequest, TruckSeen
from services.storage.database import Database
from services.storage.models import Reservation, ReservationStatus, naive_utc


async def write_batch(db: Database, session, decided: BatchDecision, now: datetime,
                      warn_before: timedelta) -> dict[tuple[int, str, date], int]:
    """Take the granted places and insert the new holds; their ids by (truck, checkpoint, day)."""
    if not decided.new_holds:
        return {}
    # One statement for every slot of the batch; the CHECK constraint is the backstop. The
    # places taken come as one parameter (arrays, a JSON object), so that the statement is the
    # same whatever the batch: a CASE with a branch per slot was a new statement for
    # SQLAlchemy to compile and the database to prepare at every batch.
    if db.is_sqlite:
        await session.execute(text(
            "UPDATE slots SET taken = taken + granted.value FROM json_each(:granted) AS granted"
            " WHERE slots.id = CAST(granted.key AS INTEGER)"
        ), {"granted": json.dumps(decided.granted)})
    else:
        await session.execute(text(
            "UPDATE slots SET taken = slots.taken + granted.n"
            " FROM unnest(CAST(:ids AS integer[]), CAST(:ns AS integer[])) AS granted (id, n)"
            " WHERE slots.id = granted.id"
        ), {"ids": list(decided.granted), "ns": list(decided.granted.values())})
    return await _insert_holds(db, session, decided.new_holds, now, warn_before)


async def _insert_holds(db: Database, session, holds: list[Hold], now: datetime,
                        warn_before: timedelta) -> dict[tuple[int, str, date], int]:
    """Insert a batch of new holds; their ids by (truck, checkpoint, day), which the unique
    index keeps unique among active holds.

    PostgreSQL: the ids drawn from the sequence, then one binary COPY, two round trips for any
    batch size. SQLite: a plain executemany, then one read of the new ids by that key.
    """
    held = ReservationStatus.HELD.value
    countdown = [h.expires_at - warn_before if h.message_id else None for h in holds]
    if db.is_sqlite:
        # The driver's executemany, below the ORM's handling of each row (which cost more than
        # SQLite's insert itself); the times and days in the form the column types store them,
        # converted once per value.
        connection = await session.connection()

        def as_stored(column: str):
            dialect, seen = connection.dialect, {}
            process = Reservation.__table__.c[column].type.dialect_impl(dialect).bind_processor(dialect)

            def convert(value):
                return None if value is None else seen.get(value) or seen.setdefault(value, process(value))
            return convert

        moment, day = as_stored("created_at"), as_stored("day")
        await connection.exec_driver_sql(
            "INSERT INTO reservations (account_id, truck_id, plate, slot_id, checkpoint, day, status, created_at,"
            " expires_at, chat_id, message_id, countdown_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(h.account_id, h.truck_id, h.plate, h.slot_id, h.checkpoint, day(h.day), held, moment(now),
              moment(h.expires_at), h.chat_id, h.message_id, moment(at))
             for h, at in zip(holds, countdown, strict=True)],
        )
        found = (await session.execute(
            select(Reservation.truck_id, Reservation.checkpoint, Reservation.day, Reservation.id).where(
                Reservation.status == held, Reservation.created_at == now,
                db.among(Reservation.truck_id, [h.truck_id for h in holds]),
            )
        )).all()
    else:
        # Their ids first, then the rows by a binary COPY, which costs the client and the server
        # less than an INSERT ... SELECT FROM unnest(arrays) RETURNING (arrays built, sent and
        # taken apart again). A row the unique indexes refuse fails the COPY like the INSERT.
        ids = (await session.scalars(text("SELECT nextval('reservations_id_seq') FROM generate_series(1, :n)"),
                                     {"n": len(holds)})).all()
        created = naive_utc(now)
        await db.copy(await session.connection(), "reservations", _HOLD_COLUMNS, [
            (row_id, h.account_id, h.truck_id, h.plate, h.slot_id, h.checkpoint, h.day, held, created,
             naive_utc(h.expires_at), h.chat_id, h.message_id, at and naive_utc(at))
            for row_id, h, at in zip(ids, holds, countdown, strict=True)])
        found = [(h.truck_id, h.checkpoint, h.day, row_id) for row_id, h in zip(ids, holds, strict=True)]
    return {(truck_id, code, day): row_id for truck_id, code, day, row_id in found}


def take_entries(requests: list[TakeRequest], decisions: list[Decision], hold_ids: dict[tuple[int, str, date], int],
                 trucks: dict[int, TruckSeen], now: datetime) -> Iterator[Entry]:
    """The audit entries of a batch of takes, one per request in arrival order: a hold taken (or
    found again by a double tap), or a refusal with its reason.

    Their details (what was asked: the truck and the slot; what came of it) are written here as the
    canonical JSON that the chain hashes, keys in sorted order, instead of as dicts for the trail to
    encode: a rush records every tap, thousands a second, and the encoding was a good part of a
    record's cost (docs/benchmarks.md). A unit test holds each form to `canonical_json`."""
    times: dict[datetime, str] = {}  # a batch's new holds all end at the same time
    taken: set[tuple[int, str, date]] = set()
    for request, decision in zip(requests, decisions, strict=True):
        hold, outcome, account_id = decision.hold, decision.outcome, request.account_id
        asked = f'"slot_id":{int(request.slot_id)},"truck_id":{int(request.truck_id)}}}'
        if outcome is TakeOutcome.HELD:
            if hold.id is None and hold.key not in taken:
                taken.add(hold.key)
                until = times.get(hold.expires_at) or times.setdefault(hold.expires_at, utc_iso(hold.expires_at))
                details = f'{{"expires_at":"{until}","plate":{_text_or_null(hold.plate)},{asked}'
                subject = hold_ids[hold.key]
            else:  # a double tap: the hold the first tap made
                details = f'{{"again":true,{asked}'
                subject = hold_ids[hold.key] if hold.id is None else hold.id
            yield Entry(now, account(account_id), "hold.take", f"reservation:{subject}", _HELD, account_id,
                        details)
            continue
        if outcome is TakeOutcome.TRUCK_BUSY:  # with a hold of its own, perhaps one this batch took
            details = f'{{"busy_with":{int(hold_ids[hold.key] if hold.id is None else hold.id)},{asked}'
        elif outcome is TakeOutcome.PLATE_BUSY:
            details = f'{{"plate":{_text_or_null(trucks[request.truck_id].plate)},{asked}'
        else:
            details = "{" + asked
        yield Entry(now, account(account_id), "hold.refused", f"slot:{request.slot_id}", outcome.value,
                    account_id, details)


_HELD = TakeOutcome.HELD.value
_HOLD_COLUMNS = ("id", "account_id", "truck_id", "plate", "slot_id", "checkpoint", "day", "status", "created_at",
                 "expires_at", "chat_id", "message_id", "countdown_at")


def _text_or_null(text: str | None) -> str:
    return "null" if text is None else json_text(text)

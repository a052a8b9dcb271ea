"""What a batch of takes reads under its locks, before `services.booking.takes` decides it and
`services.booking.take_writes` writes the decision, all in one transaction of the engine's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from services.audit.trail import Entry
from services.booking.release import ReleaseScheduler
from services.booking.reschedules import rescheduled_since
from services.booking.takes import HOUR, Hold, Paused, TakeRequest, TruckSeen
from services.storage.database import Database
from services.storage.models import ACTIVE_STATUSES, Reservation, ReservationStatus, Slot, Truck


@dataclass(slots=True)
class BatchRead:
    """What a batch's decision depends on, read under its locks (see `read_batch`)."""

    trucks: dict[int, TruckSeen]
    active: list[Hold]  # the active holds and bookings of its accounts and of its trucks' plates
    slots: list[Any]
    paused: dict[int, Paused]  # its accounts banned or paused by their rating
    recent: dict[int, list[datetime]]  # when its accounts took the holds that count for the hourly cap


async def read_batch(db: Database, releases: ReleaseScheduler, session, requests: list[TakeRequest], now: datetime,
                     entries: list[Entry]) -> BatchRead:
    """What the batch's decision depends on, read under locks: its trucks, the active holds and
    bookings of its accounts and of its trucks' plates, and its slots; and for fair access
    (services.booking.fairness) which of its accounts are banned or paused, and when they took the
    holds of the last hour. Plain rows, not ORM objects: a batch may hold thousands, and this
    is the hot path. Fair access costs one statement of its own: the accounts' standing is read
    by the statement that locks them, their last hour by the one that reads their active holds,
    and the bookings they rescheduled within it from the audit trail (an indexed read).

    Another account's hold on the same plate is read, not locked: if a batch in another process
    takes that plate's place meanwhile, the unique index refuses the second insert, and the
    batch is decided again one request at a time, which then sees the first."""
    account_ids = sorted({r.account_id for r in requests})
    # Lock order everywhere: accounts, then slots, each by id, so batches in several
    # processes queue behind each other instead of deadlocking. The statement that locks the
    # accounts also says which of them are banned or paused.
    fairness = releases.fairness
    paused = await fairness.paused(session, account_ids, now, lock=True)
    # Holds past their expiry no longer count against limits, whether or not the expiry
    # worker has visited them yet.
    expired = await releases.expire(session, now, entries=entries, account_ids=account_ids)
    trucks = {row.id: TruckSeen(*row) for row in (await session.execute(
        select(Truck.id, Truck.account_id, Truck.plate, Truck.trailer_plate)
        .where(db.among(Truck.id, sorted({r.truck_id for r in requests})), Truck.removed_at.is_(None))
    ))}
    plates = sorted({truck.plate for truck in trucks.values()})
    # Another account's hold on one of these plates, past its expiry, would still hold the index.
    expired += await releases.expire(session, now, entries=entries, plates=plates)
    if expired:  # the rating counts an expiry: it may have paused an account of the batch just now
        paused = await fairness.paused(session, account_ids, now)
    # One read for the active holds and bookings, and for the holds of the last hour that count
    # against max_holds_per_hour: all those not booked now, ended or not (taking and cancelling
    # again and again is not free; a dispatcher booking a fleet is not hoarding).
    since, booked = now - HOUR, ReservationStatus.BOOKED.value
    mine = set(account_ids)
    active: list[Hold] = []
    recent: dict[int, list[datetime]] = {}
    for row in await session.execute(
        select(
            Reservation.id, Reservation.account_id, Reservation.truck_id, Reservation.slot_id,
            Reservation.checkpoint, Reservation.day, Reservation.status, Reservation.expires_at,
            Reservation.ref, Reservation.plate, Reservation.created_at,
        ).where(or_(
            and_(db.among(Reservation.account_id, account_ids),
                 or_(Reservation.status.in_(ACTIVE_STATUSES),
                     and_(Reservation.created_at > since, Reservation.status != booked))),
            and_(db.among(Reservation.plate, plates), Reservation.status.in_(ACTIVE_STATUSES)),
        ))
    ):
        if row.status in ACTIVE_STATUSES:
            active.append(Hold(id=row.id, account_id=row.account_id, truck_id=row.truck_id, slot_id=row.slot_id,
                               checkpoint=row.checkpoint, day=row.day, expires_at=row.expires_at,
                               booked=row.status == booked, ref=row.ref, plate=row.plate))
        if row.status != booked and row.account_id in mine and row.created_at > since:
            recent.setdefault(row.account_id, []).append(row.created_at)
    # A booking rescheduled within the hour counts as a hold taken then (services.booking.reschedules).
    for account_id, times in (await rescheduled_since(db, session, account_ids, since)).items():
        recent.setdefault(account_id, []).extend(times)
    for times in recent.values():
        times.sort()  # oldest first
    slots = (await session.execute(
        db.for_update(
            select(Slot.id, Slot.checkpoint, Slot.starts_at, Slot.capacity, Slot.taken)
            .where(db.among(Slot.id, sorted({r.slot_id for r in requests}))).order_by(Slot.id)
        )
    )).all()
    return BatchRead(trucks, active, slots, paused, recent)

"""Trucks an account books for: a driver's own truck or a dispatcher's fleet.

An account's trucks are read on most taps (the truck a button names must be the account's own) and
change only when the driver edits the list, so they are read in batches and cached like accounts
(`services.kernel.cache`); every change drops them here and, through `services.kernel.invalidations`, in the
other processes. The booking engine does not trust the cache: it reads the trucks again under its
locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import delete, func, or_, select, update

from services.accounts.follow_tables import Follow, FollowSource
from services.accounts.follows import follow
from services.accounts.plates import parse_plate
from services.audit.trail import AuditTrail, Entry, account
from services.kernel.batching import Batcher
from services.kernel.cache import RecentRows
from services.kernel.clock import Clock
from services.kernel.invalidations import Invalidations
from services.storage.database import Database
from services.storage.models import ACTIVE_STATUSES, Reservation, Slot, Truck

MAX_TRUCKS_PER_ACCOUNT = 50
KIND = "trucks"  # what other processes are told of (by account id) when an account's trucks change


@dataclass(slots=True)  # not frozen: a rush's refused taps make one each (see services.booking.outcomes)
class TruckView:
    id: int
    plate: str
    trailer_plate: str | None


class AddTruckOutcome(Enum):
    ADDED = "added"
    INVALID_PLATE = "invalid_plate"
    TRAILER_PLATE = "trailer_plate"  # a format only trailers carry, sent as the truck's own plate
    INVALID_TRAILER = "invalid_trailer"
    DUPLICATE = "duplicate"
    TOO_MANY = "too_many"
    NOT_FOUND = "not_found"  # a trailer for a truck that is gone (or not this account's)


@dataclass(frozen=True)
class AddTruckResult:
    outcome: AddTruckOutcome
    truck: TruckView | None = None


class RemoveTruckOutcome(Enum):
    REMOVED = "removed"
    NOT_FOUND = "not_found"  # also for another account's truck: we do not say whose it is
    HAS_BOOKINGS = "has_bookings"


class TruckService:
    def __init__(self, db: Database, clock: Clock, invalidations: Invalidations | None = None,
                 audit: AuditTrail | None = None) -> None:
        self.db = db
        self.audit = audit or AuditTrail(db)
        self.clock = clock
        self.cache: RecentRows[int, tuple[TruckView, ...]] = RecentRows()
        self.invalidations = invalidations or Invalidations()
        self.invalidations.listen(KIND, self.cache.invalidate, self.cache.clear)
        self._read = Batcher(self._read_batch)

    async def add(self, account_id: int, plate: str, trailer_plate: str | None = None) -> AddTruckResult:
        parsed = parse_plate(plate)
        if parsed is None:
            return AddTruckResult(AddTruckOutcome.INVALID_PLATE)
        if parsed.trailer:
            return AddTruckResult(AddTruckOutcome.TRAILER_PLATE)
        canonical, trailer = parsed.canonical, None
        if trailer_plate:
            trailer = _trailer(trailer_plate)
            if trailer is None:
                return AddTruckResult(AddTruckOutcome.INVALID_TRAILER)
        async with self.db.transaction() as session:
            result = await self._add(session, account_id, canonical, trailer)
            await self._record(session, account_id, "truck.add", result.truck, result.outcome,
                               {"plate": canonical, "trailer_plate": trailer})
        if result.outcome is AddTruckOutcome.ADDED:
            await self._changed(account_id)
        return result

    async def _add(self, session, account_id: int, canonical: str, trailer: str | None) -> AddTruckResult:
        active = (Truck.account_id == account_id) & Truck.removed_at.is_(None)
        existing = await session.scalar(select(Truck).where(active, Truck.plate == canonical))
        if existing is not None:
            return AddTruckResult(AddTruckOutcome.DUPLICATE, _view(existing))
        count = await session.scalar(select(func.count()).select_from(Truck).where(active))
        if count >= MAX_TRUCKS_PER_ACCOUNT:
            return AddTruckResult(AddTruckOutcome.TOO_MANY)
        truck = Truck(account_id=account_id, plate=canonical, trailer_plate=trailer, created_at=self.clock.now())
        session.add(truck)
        await session.flush()
        # The account hears of its own truck's statuses (services.notices).
        await follow(self.db, session, [(account_id, canonical)], FollowSource.OWN, self.clock.now())
        return AddTruckResult(AddTruckOutcome.ADDED, _view(truck))

    async def _record(self, session, account_id: int, action: str, truck: TruckView | int | None, outcome: Enum,
                      details: dict) -> None:
        """The audit entry of a change to the account's trucks, in the change's own transaction."""
        truck_id = truck.id if isinstance(truck, TruckView) else truck
        await self.audit.append(session, [Entry(
            self.clock.now(), account(account_id), action, f"truck:{truck_id}" if truck_id else f"account:{account_id}",
            outcome.value, account_id, details)])

    async def set_trailer(self, account_id: int, truck_id: int, trailer_plate: str) -> AddTruckResult:
        trailer = _trailer(trailer_plate)
        if trailer is None:
            return AddTruckResult(AddTruckOutcome.INVALID_TRAILER)
        async with self.db.transaction() as session:
            truck = await session.scalar(
                select(Truck).where(Truck.id == truck_id, Truck.account_id == account_id, Truck.removed_at.is_(None))
            )
            if truck is not None:
                truck.trailer_plate = trailer
            result = (AddTruckResult(AddTruckOutcome.NOT_FOUND) if truck is None
                      else AddTruckResult(AddTruckOutcome.ADDED, _view(truck)))
            await self._record(session, account_id, "truck.trailer", truck_id, result.outcome,
                               {"trailer_plate": trailer})
        if truck is not None:
            await self._changed(account_id)
        return result

    async def remove_trailer(self, account_id: int, truck_id: int) -> TruckView | None:
        """The truck without its trailer (a second tap finds it so already), or None when the truck
        is gone or not this account's."""
        async with self.db.transaction() as session:
            truck = await session.scalar(
                select(Truck).where(Truck.id == truck_id, Truck.account_id == account_id, Truck.removed_at.is_(None))
            )
            if truck is not None:
                truck.trailer_plate = None
            outcome = RemoveTruckOutcome.NOT_FOUND if truck is None else RemoveTruckOutcome.REMOVED
            await self._record(session, account_id, "truck.trailer", truck_id, outcome, {"trailer_plate": None})
            view = None if truck is None else _view(truck)
        if view is not None:
            await self._changed(account_id)
        return view

    async def list(self, account_id: int) -> list[TruckView]:
        cached = self.cache.get(account_id)
        if cached is None:
            cached = await self._read(account_id)
        return list(cached)

    async def get(self, account_id: int, truck_id: int) -> TruckView | None:
        """The account's own truck of that id, or None (removed, or another account's)."""
        return next((truck for truck in await self.list(account_id) if truck.id == truck_id), None)

    async def _read_batch(self, account_ids: list[int]) -> list[tuple[TruckView, ...]]:
        mark = self.cache.mark()
        wanted = sorted(set(account_ids))
        found: dict[int, list[TruckView]] = {account_id: [] for account_id in wanted}
        async with self.db.reading() as session:
            rows = await session.execute(
                select(Truck.account_id, Truck.id, Truck.plate, Truck.trailer_plate)
                .where(self.db.among(Truck.account_id, wanted), Truck.removed_at.is_(None)).order_by(Truck.id)
            )
            for account_id, *truck in rows:
                found[account_id].append(TruckView(*truck))
        trucks = {account_id: tuple(views) for account_id, views in found.items()}
        self.cache.put(trucks.items(), mark)
        return [trucks[account_id] for account_id in account_ids]

    async def _changed(self, account_id: int) -> None:
        """After the change is committed: every process reads this account's trucks again."""
        self.cache.invalidate([account_id])
        await self.invalidations.publish(KIND, [account_id])

    async def remove(self, account_id: int, truck_id: int) -> RemoveTruckOutcome:
        async with self.db.transaction() as session:
            outcome = await self._remove(session, account_id, truck_id)
            await self._record(session, account_id, "truck.remove", truck_id, outcome, {})
        if outcome is RemoveTruckOutcome.REMOVED:
            await self._changed(account_id)
        return outcome

    async def _remove(self, session, account_id: int, truck_id: int) -> RemoveTruckOutcome:
        # A truck with an upcoming hold or booking stays until that is cancelled, so no
        # booking ever points at a truck its owner no longer sees.
        active_bookings = await session.scalar(
            select(func.count()).select_from(Reservation).join(Slot, Slot.id == Reservation.slot_id).where(
                Reservation.truck_id == truck_id, Reservation.status.in_(ACTIVE_STATUSES),
                or_(Reservation.status == "booked", Reservation.expires_at > self.clock.now()),
                Slot.starts_at >= self.clock.now(),
            )
        )
        if active_bookings:
            owned = await session.scalar(
                select(func.count()).select_from(Truck).where(Truck.id == truck_id, Truck.account_id == account_id)
            )
            return RemoveTruckOutcome.HAS_BOOKINGS if owned else RemoveTruckOutcome.NOT_FOUND
        result = await session.execute(
            update(Truck)
            .where(Truck.id == truck_id, Truck.account_id == account_id, Truck.removed_at.is_(None))
            .values(removed_at=self.clock.now())
        )
        if not result.rowcount:
            return RemoveTruckOutcome.NOT_FOUND
        # Its notices stop too, unless the account follows the plate for another reason (a phone).
        await session.execute(delete(Follow).where(
            Follow.account_id == account_id, Follow.source == FollowSource.OWN.value,
            Follow.plate == select(Truck.plate).where(Truck.id == truck_id).scalar_subquery()))
        return RemoveTruckOutcome.REMOVED


def _trailer(typed: str) -> str | None:
    """A trailer's canonical plate: a trailer format, or a truck one, since not every country
    gives its trailers plates of their own (Kyrgyzstan, Iran and Türkiye write them alike)."""
    parsed = parse_plate(typed)
    return None if parsed is None else parsed.canonical


def _view(row: Truck) -> TruckView:
    return TruckView(row.id, row.plate, row.trailer_plate)

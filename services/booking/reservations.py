"""Reading reservations (holds and bookings) as drivers see them: the view of a row with its
truck's plate and its slot's start, and what counts as still active."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from services.booking.outcomes import HoldView
from services.storage.models import Reservation, ReservationStatus, Slot, Truck


def view(row: Reservation, plate: str, starts_at: datetime) -> HoldView:
    return HoldView(
        id=row.id, account_id=row.account_id, truck_id=row.truck_id, plate=plate, checkpoint=row.checkpoint,
        slot_id=row.slot_id, starts_at=starts_at, status=ReservationStatus(row.status), expires_at=row.expires_at,
        ref=row.ref, chat_id=row.chat_id, message_id=row.message_id, warned=row.warned_at is not None,
    )


def with_truck_and_slot(query):
    """A select of (Reservation, Truck.plate, Slot.starts_at), joined."""
    return query.join(Truck, Truck.id == Reservation.truck_id).join(Slot, Slot.id == Reservation.slot_id)


def still_active(now: datetime):
    """A booking, or a hold not yet past its expiry (whether or not the expiry worker came by)."""
    return or_(Reservation.status == ReservationStatus.BOOKED.value,
               (Reservation.status == ReservationStatus.HELD.value) & (Reservation.expires_at > now))


async def load(session, reservation_id: int, account_id: int | None = None) -> HoldView | None:
    """One hold or booking as its driver sees it, read afresh in `session`; with `account_id`,
    only if it is that account's."""
    query = (
        with_truck_and_slot(select(Reservation, Truck.plate, Slot.starts_at))
        .where(Reservation.id == reservation_id)
        .execution_options(populate_existing=True)
    )
    if account_id is not None:
        query = query.where(Reservation.account_id == account_id)
    found = (await session.execute(query)).first()
    if found is None:
        return None
    row, plate, starts_at = found
    return view(row, plate, starts_at)

"""Confirm: a hold becomes a booking with a reference code, if it is the account's own and has not
expired (rules 3 and 6).

Confirm taps come in rushes too (everyone who held a place at midnight confirms a minute later),
so they are batched like Next (`services.kernel.batching`): one transaction, one conditional UPDATE and
one commit for every confirm that arrived while the previous batch was written. A hold is booked
once whatever the batch holds: a double tap in the same batch finds the hold booked by the first
and is answered with the same booking.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from services.audit.trail import AuditTrail, Entry, account
from services.booking.outcomes import ConfirmOutcome, ConfirmResult, HoldView
from services.booking.release import ReleaseScheduler
from services.booking.reservations import view, with_truck_and_slot
from services.kernel.batching import Batcher
from services.kernel.clock import Clock
from services.storage.database import Database
from services.storage.models import Reservation, ReservationStatus, Slot, Truck
from services.storage.unavailable import DatabaseUnavailable

log = logging.getLogger(__name__)

# Booking references are read aloud at a border post and typed on phones: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
REF_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
REF_LENGTH = 7
REF_ATTEMPTS = 5  # 25^7 codes: a second collision in a row means something else is wrong


@dataclass(frozen=True)
class _Confirm:
    account_id: int
    hold_id: int


def draw_ref() -> str:
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))


class Confirmations:
    def __init__(self, db: Database, clock: Clock, releases: ReleaseScheduler, audit: AuditTrail | None = None) -> None:
        self.db = db
        self.audit = audit or AuditTrail(db)
        self.clock = clock
        self.releases = releases
        self._batcher = Batcher(self._confirm_batch)

    async def confirm(self, account_id: int, hold_id: int) -> ConfirmResult:
        return await self._batcher(_Confirm(account_id, hold_id))

    async def _confirm_batch(self, requests: list[_Confirm]) -> Sequence[ConfirmResult | Exception]:
        try:
            return await self._write(requests, self.clock.now())
        except DatabaseUnavailable:
            raise  # nobody's fault: one at a time, each would wait out the same timeout
        except Exception as exc:
            # A reference drawn twice, or one request the database refuses: each alone, so that
            # only the one at fault fails, and a colliding reference is drawn again.
            if not isinstance(exc, IntegrityError):
                log.warning("a batch of %d confirms failed (%r); confirming them one by one", len(requests), exc)
            return [await self._alone(request) for request in requests]

    async def _alone(self, request: _Confirm) -> ConfirmResult | Exception:
        for _attempt in range(REF_ATTEMPTS):
            try:
                [result] = await self._write([request], self.clock.now())
                return result
            except IntegrityError:
                log.warning("booking reference collision, drawing another")
            except DatabaseUnavailable:
                raise
            except Exception as exc:  # a fault, not a refusal: the caller's error handler logs it
                return exc
        return RuntimeError("could not draw a unique booking reference")

    async def _write(self, requests: list[_Confirm], now: datetime) -> list[ConfirmResult]:
        """One UPDATE for the batch, each hold under its own account and with its own reference;
        then the rows tell who was booked now: the first request for a hold, if its reference is
        the hold's now. A double tap in the same batch finds the first one's booking. Every confirm
        is one audit entry of the batch's one append."""
        first: dict[int, _Confirm] = {}
        for request in requests:  # in arrival order
            first.setdefault(request.hold_id, request)
        refs = {hold_id: draw_ref() for hold_id in first}
        table = Reservation.__table__
        async with self.db.transaction() as session:
            await session.execute(
                update(table)
                .where(self.db.among(table.c.id, sorted(first)),
                       table.c.account_id == case({h: r.account_id for h, r in first.items()}, value=table.c.id),
                       table.c.status == ReservationStatus.HELD.value, table.c.expires_at > now)
                .values(status=ReservationStatus.BOOKED.value, confirmed_at=now,
                        ref=case(refs, value=table.c.id))
            )
            rows = await self._load(session, set(first))
            results = []
            for request in requests:
                row = rows.get(request.hold_id)
                done = (first[request.hold_id] is request and row is not None
                        and row.status is ReservationStatus.BOOKED and row.ref == refs[request.hold_id])
                results.append(self._outcome(request, done, row))
            entries = [
                Entry(now, account(request.account_id), "booking.confirm", f"reservation:{request.hold_id}",
                      result.outcome.value, request.account_id,
                      {"ref": result.booking.ref} if result.outcome is ConfirmOutcome.BOOKED else {})
                for request, result in zip(requests, results, strict=True)
            ]
            ran_out = sorted({r.booking.id for r in results
                              if r.outcome is ConfirmOutcome.EXPIRED and r.booking.status is ReservationStatus.HELD})
            if ran_out:  # past its time, and the expiry worker has not come by yet
                await self.releases.expire(session, now, entries=entries, reservation_ids=ran_out)
            await self.audit.append(session, entries)
        return results

    @staticmethod
    def _outcome(request: _Confirm, done: bool, row: HoldView | None) -> ConfirmResult:
        if row is None or row.account_id != request.account_id:
            return ConfirmResult(ConfirmOutcome.NOT_FOUND)
        if done:
            return ConfirmResult(ConfirmOutcome.BOOKED, row)
        if row.status is ReservationStatus.BOOKED:
            return ConfirmResult(ConfirmOutcome.ALREADY_BOOKED, row)
        if row.status in (ReservationStatus.CANCELLED, ReservationStatus.ANNULLED):  # by the driver, or an operator
            return ConfirmResult(ConfirmOutcome.CANCELLED, row)
        return ConfirmResult(ConfirmOutcome.EXPIRED, row)

    async def _load(self, session, hold_ids: set[int]) -> dict[int, HoldView]:
        rows = (await session.execute(
            with_truck_and_slot(select(Reservation, Truck.plate, Slot.starts_at))
            .where(self.db.among(Reservation.id, sorted(hold_ids)))
            .execution_options(populate_existing=True)
        )).all()
        return {row.id: view(row, plate, starts_at) for row, plate, starts_at in rows}

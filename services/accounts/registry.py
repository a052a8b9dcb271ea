"""Trucks as the border system registers them: a plate and the phones of its owner or drivers.

The border system knows a truck's phones from its own registration (where it sent the SMS so far),
Telegram knows an account's phone once the driver shared it. Where the two meet, the account follows
the truck (`follows`, source `phone`) without typing its plate. `PUT /v1/trucks/{plate}` sets the
whole list, so a phone the border system no longer names (a sold truck, a driver who left) stops
hearing of the truck; an account's own trucks stay followed whatever the phones say.

Each registration carries the border system's version of the truck's record, growing with each
change. Only a version newer than the one applied is applied: the same request again (replayed
within its signature's window) or an older one overtaken on the way would otherwise set back a list
of phones that has changed since (`truck_registrations`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from services.accounts.follow_tables import AccountPhone, Follow, FollowSource, RegisteredTruck, TruckRegistration
from services.accounts.follows import follow
from services.accounts.phones import normalize_phone
from services.accounts.plates import parse_plate
from services.audit.trail import BORDER, AuditTrail, Entry
from services.kernel.clock import Clock
from services.storage.database import Database

MAX_PHONES = 20
MAX_VERSION = 2**63 - 1  # a BIGINT


class TruckPhones(BaseModel):
    """The body of `PUT /v1/trucks/{plate}`: every phone the border system has for the truck, and the
    version of its record they are."""

    version: int = Field(ge=1, le=MAX_VERSION, description="The version of the truck's record in the border "
                         "system, greater with each change (a revision number, or the change's time in "
                         "milliseconds); a registration not newer than the one applied is refused")
    phones: list[str] = Field(max_length=MAX_PHONES, description="International numbers, in any usual spelling; "
                                                                 "an empty list ends the registration")


class Registered(BaseModel):
    """What the registration answers: the canonical forms, and who follows the truck by phone now."""

    plate: str
    version: int = Field(description="The version applied")
    phones: list[str] = Field(description="Digits only, country code first")
    following: list[int] = Field(description="Accounts that shared one of these phones and so follow the plate")


@dataclass(frozen=True)
class Superseded:
    """A registration refused, nothing changed: its version is not newer than the one applied."""

    plate: str
    version: int
    applied: int


class InvalidRegistration(ValueError):
    """A plate or phone that cannot be registered; the message says which."""


class TruckRegistry:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail | None = None) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit or AuditTrail(db)

    @staticmethod
    def canonical(plate: str, phones: list[str]) -> tuple[str, list[str]]:
        """The plate's and the phones' canonical forms, or InvalidRegistration."""
        parsed = parse_plate(plate)
        if parsed is None:
            raise InvalidRegistration(f"{plate!r} is not a plate of any country the queue knows")
        if len(phones) > MAX_PHONES:
            raise InvalidRegistration(f"at most {MAX_PHONES} phones per truck")
        normal = []
        for position, phone in enumerate(phones):
            digits = normalize_phone(phone)
            if digits is None:
                raise InvalidRegistration(f"phones[{position}] {phone!r} is not an international phone number")
            if digits not in normal:
                normal.append(digits)
        return parsed.canonical, normal

    async def register(self, plate: str, phones: list[str], version: int) -> Registered | Superseded:
        """Set the phones of the plate, and who follows it by phone, in one transaction; or nothing,
        if a registration of this version or a newer one was applied."""
        plate, phones = self.canonical(plate, phones)
        now = self.clock.now()
        async with self.db.transaction() as session:
            applied = await self._claim(session, plate, version, now)
            if applied is not None:
                return Superseded(plate, version, applied)
            await session.execute(delete(RegisteredTruck).where(RegisteredTruck.plate == plate))
            if phones:
                await session.execute(self.db.insert(RegisteredTruck),
                                      [{"plate": plate, "phone": phone, "registered_at": now} for phone in phones])
            sharing = list(await session.scalars(
                select(AccountPhone.account_id).where(AccountPhone.phone.in_(phones))
            )) if phones else []
            stale = delete(Follow).where(Follow.plate == plate, Follow.source == FollowSource.PHONE.value)
            if sharing:
                stale = stale.where(Follow.account_id.not_in(sharing))
            await session.execute(stale)
            await follow(self.db, session, [(account_id, plate) for account_id in sorted(sharing)],
                         FollowSource.PHONE, now)
            # The numbers stay in registered_trucks, which the next registration replaces; the
            # trail keeps how many there were and whom they linked.
            await self.audit.append(session, [Entry(now, BORDER, "truck.register", f"plate:{plate}", "registered",
                                                    None, {"phones": len(phones), "following": sorted(sharing),
                                                           "version": version})])
        return Registered(plate=plate, version=version, phones=phones, following=sorted(sharing))

    async def _claim(self, session, plate: str, version: int, now: datetime) -> int | None:
        """None once the plate's version is this one, or the version applied already if it is not older.

        One statement compares and sets, and holds the plate's row to the end of the transaction: of
        two registrations at once, the later waits and is compared with what the first applied."""
        insert = self.db.insert(TruckRegistration).values(plate=plate, version=version, registered_at=now)
        claimed = await session.scalar(insert.on_conflict_do_update(
            index_elements=[TruckRegistration.plate],
            set_={"version": insert.excluded.version, "registered_at": insert.excluded.registered_at},
            where=TruckRegistration.version < insert.excluded.version,
        ).returning(TruckRegistration.plate))
        if claimed is not None:
            return None
        return await session.scalar(select(TruckRegistration.version).where(TruckRegistration.plate == plate))

"""Which trucks a chat hears of.

A chat may follow the plates of the trucks its account added, and those the border system
registered with the phone number the account shared through Telegram's contact button (Telegram
vouches that the number is the sender's own). Several chats may follow one truck (driver and
dispatcher), a chat many trucks; following is one tap on, one tap off. A plate the account has no
claim to cannot be followed, whatever a button says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from services.accounts.follow_tables import AccountPhone, Follow, FollowSource, RegisteredTruck
from services.accounts.phones import normalize_phone
from services.audit.trail import AuditTrail, Entry, account
from services.kernel.clock import Clock
from services.storage.database import Database
from services.storage.models import Truck


@dataclass(frozen=True)
class Followable:
    plate: str  # canonical
    own: bool  # a truck of the account's list (else registered with its phone)
    following: bool


@dataclass(frozen=True)
class PhoneShared:
    phone: str | None  # None: not a phone number
    linked: tuple[str, ...] = ()  # plates registered with it, now followed


class FollowService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail | None = None) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit or AuditTrail(db)

    async def followable(self, account_id: int) -> list[Followable]:
        """The plates this account may follow, own trucks first, each with whether it does."""
        async with self.db.reading() as session:
            own = set((await session.scalars(select(Truck.plate).where(
                Truck.account_id == account_id, Truck.removed_at.is_(None)))).all())
            by_phone = set((await session.scalars(self._registered_to(account_id))).all())
            followed = set((await session.scalars(select(Follow.plate).where(Follow.account_id == account_id))).all())
        return [Followable(plate, plate in own, plate in followed)
                for plate in sorted(own) + sorted(by_phone - own)]

    async def phone_of(self, account_id: int) -> str | None:
        async with self.db.reading() as session:
            return await session.scalar(select(AccountPhone.phone).where(AccountPhone.account_id == account_id))

    async def set_following(self, account_id: int, plate: str, following: bool) -> bool:
        """Follow or unfollow; False when the account has no claim to the plate (a forged button)."""
        async with self.db.transaction() as session:
            done = await self._set_following(session, account_id, plate, following)
            await self.audit.append(session, [Entry(
                self.clock.now(), account(account_id), "follow.on" if following else "follow.off", f"plate:{plate}",
                "done" if done else "refused", account_id)])
        return done

    async def _set_following(self, session, account_id: int, plate: str, following: bool) -> bool:
        if not following:
            await session.execute(delete(Follow).where(Follow.account_id == account_id, Follow.plate == plate))
            return True
        own = await session.scalar(select(Truck.id).where(
            Truck.account_id == account_id, Truck.plate == plate, Truck.removed_at.is_(None)).limit(1))
        registered = own is None and await session.scalar(
            select(RegisteredTruck.plate).where(RegisteredTruck.plate == plate,
                                                RegisteredTruck.phone == self._phone(account_id)).limit(1))
        if own is None and not registered:
            return False
        source = FollowSource.OWN if own is not None else FollowSource.PHONE
        await self._follow(session, account_id, [plate], source)
        return True

    async def share_phone(self, account_id: int, typed_phone: str) -> PhoneShared:
        """The account's own phone, as Telegram's contact button sent it: kept, and every truck the
        border system registered with it followed."""
        phone = normalize_phone(typed_phone)
        if phone is None:
            return PhoneShared(None)
        async with self.db.transaction() as session:
            await session.execute(self.db.insert(AccountPhone).on_conflict_do_update(
                index_elements=["account_id"], set_={"phone": phone, "shared_at": self.clock.now()}),
                [{"account_id": account_id, "phone": phone, "shared_at": self.clock.now()}])
            plates = sorted(set((await session.scalars(
                select(RegisteredTruck.plate).where(RegisteredTruck.phone == phone))).all()))
            await self._follow(session, account_id, plates, FollowSource.PHONE)
            # The number itself stays in account_phones, which the account can change; the trail
            # keeps what sharing it did.
            await self.audit.append(session, [Entry(
                self.clock.now(), account(account_id), "phone.share", f"account:{account_id}", "shared", account_id,
                {"followed": plates})])
        return PhoneShared(phone, tuple(plates))

    def _phone(self, account_id: int):
        return select(AccountPhone.phone).where(AccountPhone.account_id == account_id).scalar_subquery()

    def _registered_to(self, account_id: int):
        return select(RegisteredTruck.plate).where(RegisteredTruck.phone == self._phone(account_id))

    async def _follow(self, session, account_id: int, plates: list[str], source: FollowSource) -> None:
        await follow(self.db, session, [(account_id, plate) for plate in plates], source, self.clock.now())


async def follow(db: Database, session, pairs: list[tuple[int, str]], source: FollowSource, now: datetime) -> None:
    """Accounts follow plates (account id, canonical plate), in the caller's transaction. One that
    follows the plate already keeps its follow as it was, source included: a truck the account
    added stays its own when its phone links it too, and unfollowing by phone never takes it away."""
    if pairs:
        await session.execute(
            db.insert(Follow).on_conflict_do_nothing(index_elements=["account_id", "plate"]),
            [{"account_id": account_id, "plate": plate, "source": source.value, "created_at": now}
             for account_id, plate in pairs])


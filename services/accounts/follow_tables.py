"""The tables of who hears of which truck (migration 0004): the trucks the border system registered
with their phones, the phone each account shared, and the follows themselves; and the version of each
truck's latest registration (migration 0013)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.storage.models import Base, UTCDateTime


class FollowSource(StrEnum):
    OWN = "own"  # a truck the account added itself
    PHONE = "phone"  # registered by the border system with the phone number the account shared


class RegisteredTruck(Base):
    """A truck as the border system knows it: its plate and a phone of its owner or driver."""

    __tablename__ = "registered_trucks"

    plate: Mapped[str] = mapped_column(String(16), primary_key=True)  # canonical (services.accounts.plates)
    phone: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)  # digits only, with country code
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TruckRegistration(Base):
    """The version of the registration last applied to a plate. A registration replaces the whole
    list of phones, so one of an older or the same version, replayed or overtaken on the way, would
    bring back a list the border system has since changed: it is refused. Kept when the list is
    emptied, so the plate's versions go on from where they were."""

    __tablename__ = "truck_registrations"

    plate: Mapped[str] = mapped_column(String(16), primary_key=True)  # canonical (services.accounts.plates)
    version: Mapped[int] = mapped_column(BigInteger)  # the border system's, growing with each change
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccountPhone(Base):
    """The phone number an account shared through Telegram's contact button (its own, never a forwarded one)."""

    __tablename__ = "account_phones"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Follow(Base):
    """A chat hearing of a truck's statuses. Several chats may follow one truck (driver and
    dispatcher), a chat many trucks. An account's private chat id is the account id."""

    __tablename__ = "follows"
    __table_args__ = (Index("ix_follows_plate", "plate"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    plate: Mapped[str] = mapped_column(String(16), primary_key=True)
    source: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

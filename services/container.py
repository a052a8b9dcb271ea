"""All domain services built over one database, one clock and one set of rules."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from services.accounts.accounts import AccountService
from services.accounts.follows import FollowService
from services.accounts.registry import TruckRegistry
from services.accounts.trucks import TruckService
from services.audit.trail import AuditTrail
from services.booking.calendar import Calendar
from services.booking.engine import BookingService
from services.booking.fairness import Fairness
from services.booking.offers import OfferService
from services.booking.release import ReleaseScheduler
from services.booking.reminders import Reminders
from services.kernel.clock import Clock
from services.kernel.invalidations import Invalidations
from services.kernel.rules import BookingRules, Checkpoint
from services.notices.deliveries import NoticeDeliveries
from services.notices.events import EventService
from services.operators.abuse import Operators
from services.outbox.outbox import Outbox
from services.storage.database import Database
from services.storage.inbox import Inbox
from services.support.tickets import SupportService


@dataclass
class Services:
    db: Database
    checkpoints: dict[str, Checkpoint]
    rules: BookingRules
    clock: Clock
    accounts: AccountService
    trucks: TruckService
    calendar: Calendar
    releases: ReleaseScheduler
    booking: BookingService
    offers: OfferService
    inbox: Inbox
    invalidations: Invalidations
    follows: FollowService
    reminders: Reminders
    events: EventService
    registry: TruckRegistry
    fairness: Fairness
    operators: Operators
    audit: AuditTrail
    support: SupportService
    outbox: Outbox
    notices: NoticeDeliveries

    @classmethod
    def build(cls, db: Database, checkpoints: list[Checkpoint], rules: BookingRules, clock: Clock,
              rng: random.Random | None = None, invalidations: Invalidations | None = None,
              reopen_tickets_within: timedelta = timedelta(hours=24)) -> Services:
        """`invalidations`: how cached accounts and trucks learn of other processes' changes;
        `reopen_tickets_within`: how long after its close a driver's message opens a ticket again."""
        invalidations = invalidations or Invalidations()
        by_code = {c.code: c for c in checkpoints}
        audit = AuditTrail(db)
        outbox = Outbox(db, clock)
        calendar = Calendar(db, by_code, clock)
        releases = ReleaseScheduler(db, by_code, rules, clock, rng, audit, outbox)
        trucks = TruckService(db, clock, invalidations, audit)
        booking = BookingService(db, calendar, rules, clock, releases, trucks, audit)
        events = EventService(db, clock, booking, list(by_code), outbox)
        return cls(
            db=db, checkpoints=by_code, rules=rules, clock=clock,
            accounts=AccountService(db, clock, invalidations, audit), trucks=trucks, calendar=calendar,
            releases=releases, booking=booking,
            offers=OfferService(db, calendar, trucks, clock), inbox=Inbox(db, clock),
            invalidations=invalidations, follows=FollowService(db, clock, audit),
            reminders=Reminders(db, clock, audit, outbox), events=events,
            registry=TruckRegistry(db, clock, audit), audit=audit, fairness=releases.fairness,
            operators=Operators(db, clock, releases, events, by_code, audit),
            support=SupportService(db, clock, audit, outbox, reopen_tickets_within), outbox=outbox,
            notices=NoticeDeliveries(db, clock, by_code),
        )

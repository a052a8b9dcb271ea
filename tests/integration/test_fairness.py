"""Fair access in the engine, on SQLite and PostgreSQL: the rating pauses an account whose holds
lapse, holds per hour are capped, a ban annuls and tells, and released places come back at times
nobody can compute."""

from __future__ import annotations

import random
import statistics
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from services.audit.trail import AuditRecord
from services.booking.outcomes import ConfirmOutcome
from services.booking.takes import TakeOutcome
from services.container import Services
from services.kernel.rules import BookingRules, Checkpoint
from services.notices.tables import Event
from services.operators.abuse import AnnulOutcome
from services.outbox.tables import OutboxRow
from services.storage.models import Release, Reservation, ReservationStatus, Slot
from tests.integration.test_booking_engine import KHORGOS, driver

RULES = BookingRules(max_active_holds=2, max_holds_per_hour=6, rating_min_holds=4, min_confirm_ratio=0.5,
                     rating_block_minutes=60)
# Room for every test's holds: 20 places a time, from 08:00 to 20:00.
ROOMY = Checkpoint(code="khorgos", names=KHORGOS.names, timezone="Asia/Almaty", slot_minutes=30,
                   trucks_per_slot=20, opens=time(8), closes=time(20), horizon_days=3, lead_minutes=60)


@pytest.fixture
def services(db, clock):
    return Services.build(db, [ROOMY], RULES, clock, rng=random.Random(7))


async def take(services, account_id: int, truck_id: int):
    offer = await services.calendar.first_free(services.checkpoints["khorgos"])
    return await services.booking.take(account_id, truck_id, offer.slot_id)


async def lapse(services, clock, account_id: int, truck_id: int) -> None:
    """A hold taken and left to expire, the expiry worker then passing."""
    assert (await take(services, account_id, truck_id)).outcome is TakeOutcome.HELD
    clock.advance(RULES.hold + timedelta(seconds=1))
    await services.releases.expire_due()


async def test_an_account_whose_holds_lapse_is_paused_for_an_hour_each_time_another_lapses(services, clock):
    truck = await driver(services, 1, "123ABC02")
    for _ in range(3):
        await lapse(services, clock, 1, truck.id)
    assert (await take(services, 1, truck.id)).outcome is TakeOutcome.HELD, "three lapses are not enough to judge"
    clock.advance(RULES.hold + timedelta(seconds=1))
    await services.releases.expire_due()  # the fourth: 0 of 4 confirmed
    paused_at = clock.now()
    refused = await take(services, 1, truck.id)
    assert refused.outcome is TakeOutcome.RATING_BLOCKED and refused.until == paused_at + RULES.rating_block
    rating = await services.fairness.rating(1, clock.now())
    assert (rating.taken, rating.decided, rating.confirmed, rating.blocked_until) == (4, 4, 0, refused.until)
    clock.set(refused.until + timedelta(seconds=1))
    again = await take(services, 1, truck.id)
    assert again.outcome is TakeOutcome.HELD, "the pause ends"
    assert (await services.booking.take(1, truck.id, again.hold.slot_id)).hold.id == again.hold.id
    clock.advance(RULES.hold + timedelta(seconds=1))
    await services.releases.expire_due()
    assert (await take(services, 1, truck.id)).outcome is TakeOutcome.RATING_BLOCKED, "and comes back at the next lapse"


async def test_a_driver_who_books_most_of_the_time_is_never_paused(services, clock):
    truck = await driver(services, 2, "124ABC02")
    for n in range(6):
        held = await take(services, 2, truck.id)
        assert held.outcome is TakeOutcome.HELD, n
        if n % 3 == 2:  # one in three lapses
            clock.advance(RULES.hold + timedelta(seconds=1))
            await services.releases.expire_due()
        else:
            await services.booking.confirm(2, held.hold.id)
            await services.booking.cancel_booking(2, held.hold.id)  # booked, then given up: still confirmed
        clock.advance(timedelta(hours=1))
    rating = await services.fairness.rating(2, clock.now())
    assert (rating.decided, rating.confirmed, rating.blocked_until) == (6, 4, None)


async def test_taking_and_cancelling_again_and_again_gains_nothing(services, clock):
    truck = await driver(services, 3, "125ABC02")
    outcomes = []
    for _ in range(8):
        result = await take(services, 3, truck.id)
        outcomes.append(result.outcome)
        if result.hold is not None:
            await services.booking.cancel_hold(3, result.hold.id)
    # Cancelled holds are lapses too: the fourth pauses the account, whatever the hour allows.
    assert outcomes == [TakeOutcome.HELD] * 4 + [TakeOutcome.RATING_BLOCKED] * 4
    async with services.db.reading() as session:
        slots_taken = await session.scalar(select(func.sum(Slot.taken)))
        pending = await session.scalar(select(func.count()).select_from(Release).where(Release.released_at.is_(None)))
    assert slots_taken == pending == 4, "every place given up waits for its release time, none came back at once"


async def test_holds_per_hour_are_capped_but_a_dispatchers_bookings_are_not_counted(db, clock):
    services = Services.build(db, [ROOMY], RULES.model_copy(update={"rating_min_holds": 1000}), clock,
                              rng=random.Random(7))
    hoarder = await driver(services, 4, "126ABC02")
    first = clock.now()
    for _ in range(6):
        held = await take(services, 4, hoarder.id)
        await services.booking.cancel_hold(4, held.hold.id)
        clock.advance(timedelta(minutes=5))
    refused = await take(services, 4, hoarder.id)
    assert refused.outcome is TakeOutcome.HOURLY_LIMIT and refused.until == first + timedelta(hours=1)
    clock.set(first + timedelta(hours=1, seconds=1))
    assert (await take(services, 4, hoarder.id)).outcome is TakeOutcome.HELD
    fleet = [await driver(services, 5, f"{200 + n}ABC02") for n in range(10)]
    for truck in fleet:  # ten trucks booked within minutes
        held = await take(services, 5, truck.id)
        assert held.outcome is TakeOutcome.HELD
        await services.booking.confirm(5, held.hold.id)


async def test_a_ban_annuls_holds_and_future_bookings_tells_every_follower_and_stops_new_holds(services, clock):
    truck = await driver(services, 6, "127ABC02")
    other = await driver(services, 6, "128ABC02")
    await driver(services, 7, "127ABC02")  # a dispatcher who added the same truck follows it
    booked = await take(services, 6, truck.id)
    booking = (await services.booking.confirm(6, booked.hold.id)).booking
    held = await take(services, 6, other.id)
    banned = await services.operators.ban(1, 6, 90, "resold places")
    assert banned.until == clock.now() + timedelta(days=90)
    assert sorted(a.reservation_id for a in banned.annulled) == sorted([booking.id, held.hold.id])
    async with services.db.reading() as session:
        statuses = set(await session.scalars(select(Reservation.status)))
        taken = await session.scalar(select(func.sum(Slot.taken)))
        releases = await session.scalar(select(func.count()).select_from(Release))
        told = (await session.execute(select(Event.event_id, Event.type, OutboxRow.chat_id)
                                      .join(OutboxRow, OutboxRow.event_id == Event.id)
                                      .order_by(Event.id, OutboxRow.chat_id))).all()
        banned_told = (await session.execute(select(OutboxRow.kind, OutboxRow.chat_id, OutboxRow.payload)
                                             .where(OutboxRow.event_id.is_(None)))).all()
    assert statuses == {ReservationStatus.ANNULLED.value}
    assert taken == 2 and releases == 2, "the places come back through the release window, not at once"
    assert [(kind, account) for _, kind, account in told] == [
        ("booking_cancelled", 6), ("booking_cancelled", 7), ("booking_cancelled", 6)]
    assert [(kind, chat) for kind, chat, _ in banned_told] == [("account.banned", 6)], "told in the ban's transaction"
    assert "resold places" in banned_told[0][2]
    refused = await take(services, 6, truck.id)
    assert refused.outcome is TakeOutcome.BANNED and refused.until == banned.until
    late = await services.booking.confirm(6, held.hold.id)
    assert late.outcome is ConfirmOutcome.CANCELLED, "a Confirm on an annulled hold books nothing, and says so"
    async with services.db.reading() as session:
        traced = (await session.execute(select(AuditRecord.actor, AuditRecord.subject, AuditRecord.details)
                                        .where(AuditRecord.action == "account.ban"))).one()
    assert traced[:2] == ("operator:1", "account:6") and "resold places" in str(traced[2])
    assert (await services.operators.ban(1, 6, 1, "again")).annulled == [], "nothing left to annul"
    assert await services.operators.unban(1, 6) is True
    assert await services.operators.unban(1, 6) is False
    assert (await take(services, 6, truck.id)).outcome is TakeOutcome.HELD
    assert await services.operators.ban(1, 999, 1, "nobody") is None


async def test_an_operator_annuls_one_booking_by_its_reference(services, clock):
    truck = await driver(services, 8, "129ABC02")
    booking = (await services.booking.confirm(8, (await take(services, 8, truck.id)).hold.id)).booking
    result = await services.operators.annul(1, booking.ref.lower(), "sold on a forum")
    assert result.outcome is AnnulOutcome.ANNULLED and result.annulled.ref == booking.ref
    assert (await services.operators.annul(1, booking.ref, "twice")).outcome is AnnulOutcome.ENDED
    assert (await services.operators.annul(1, "ZZZZZZZ", "none")).outcome is AnnulOutcome.NOT_FOUND
    upcoming = await services.booking.upcoming(8)
    assert upcoming == []


async def test_abusers_lists_the_accounts_that_let_the_most_holds_lapse_first(services, clock):
    scalper = await driver(services, 10, "130ABC02")
    honest = await driver(services, 11, "131ABC02")
    for _ in range(3):
        await lapse(services, clock, 10, scalper.id)
    await services.booking.confirm(11, (await take(services, 11, honest.id)).hold.id)
    found = await services.operators.abusers(1, 24)
    assert [(a.account_id, a.taken, a.confirmed, a.expired) for a in found] == [(10, 3, 0, 3), (11, 1, 1, 0)]
    assert found[0].ratio == 0 and found[1].ratio == 1
    async with services.db.reading() as session:
        read = (await session.execute(select(AuditRecord.actor, AuditRecord.action, AuditRecord.details)
                                      .order_by(AuditRecord.id.desc()).limit(1))).one()
    assert read[:2] == ("operator:1", "report.abusers") and '"accounts":[10,11]' in read[2], "who read whom is traced"


async def test_stats_count_todays_places_holds_bookings_expiries_and_releases(services, clock):
    checkpoint = services.checkpoints["khorgos"]
    await services.calendar.ensure(checkpoint)
    trucks = [await driver(services, 20 + n, f"{300 + n}ABC02") for n in range(3)]
    booked = await take(services, 20, trucks[0].id)
    await services.booking.confirm(20, booked.hold.id)
    await take(services, 21, trucks[1].id)
    before = await services.operators.stats(1, checkpoint)
    assert (before.held, before.booked, before.expired, before.released) == (1, 1, 0, 0)
    assert before.taken == 2 and before.capacity >= 20


async def test_released_places_come_back_at_times_spread_over_the_window_not_in_cancel_order(db, clock):
    services = Services.build(db, [ROOMY.model_copy(update={"horizon_days": 3})],
                              RULES.model_copy(update={"rating_min_holds": 1000, "max_holds_per_hour": 1000}), clock)
    cancelled_at = []
    for n in range(60):
        truck = await driver(services, 100 + n, f"{400 + n}ABC02")
        offer = await services.calendar.first_free(services.checkpoints["khorgos"])
        held = await services.booking.take(100 + n, truck.id, offer.slot_id)
        await services.booking.cancel_hold(100 + n, held.hold.id)
        cancelled_at.append(clock.now())
        clock.advance(timedelta(seconds=1))
    async with services.db.reading() as session:
        rows = (await session.execute(select(Release.release_at, Slot.starts_at).join(Slot, Slot.id == Release.slot_id)
                                      .order_by(Release.reservation_id))).all()
    # Each place's time is drawn within its own window: up to 24 hours, and never past its slot's
    # start less the lead time. Where in that window, nobody can tell.
    shares = []
    for n, (release_at, starts_at) in enumerate(rows):
        latest = min(cancelled_at[n] + RULES.release_window, starts_at - ROOMY.lead)
        assert cancelled_at[n] <= release_at <= latest
        shares.append((release_at - cancelled_at[n]) / (latest - cancelled_at[n]))
    assert len(shares) == 60
    assert 0.2 < statistics.pstdev(shares) < 0.4, "not spread like a uniform draw"  # uniform: 0.29
    assert 0.3 < statistics.mean(shares) < 0.7
    assert abs(statistics.correlation(shares, list(range(len(shares))))) < 0.5, "release order follows cancel order"

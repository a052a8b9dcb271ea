"""Events that change a booking change it: `booking_moved` moves the booking (a place of the new time
taken, the old one released through the release window, the reminder armed again, the audit
recorded, the answer saying so) or is refused with a 4xx and nothing recorded; `booking_cancelled`
tells the drivers only of a booking it cancelled, whether it names the booking or only its plate."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from services.audit.trail import AuditRecord
from services.booking.outcomes import ConfirmOutcome
from services.booking.takes import TakeOutcome
from services.notices.tables import Event
from services.outbox.tables import OutboxRow
from services.storage.models import Release, Reservation, Slot
from tests.border import SECRET, event

PLATE = "123 ABC 02"


@pytest.fixture
def settings_overrides() -> dict:
    return {"api": {"secret": SECRET, "port": 0}}


async def booked(services, account: int = 7301, plate: str = PLATE, day_offset: int = 0):
    """A driver's booking at Khorgos: the first free time (08:00 on Monday), or that day's first."""
    await services.accounts.ensure(account, "Driver", "ru")
    truck = next((t for t in await services.trucks.list(account) if t.plate == plate.replace(" ", "")), None)
    if truck is None:
        await services.trucks.add(account, plate)
        truck = next(t for t in await services.trucks.list(account) if t.plate == plate.replace(" ", ""))
    khorgos = services.checkpoints["khorgos"]
    offer = (await services.calendar.day_slots(khorgos, services.calendar.horizon_days(khorgos)[day_offset]))[0]
    held = await services.booking.take(account, truck.id, offer.slot_id)
    assert held.outcome is TakeOutcome.HELD, held
    confirmed = await services.booking.confirm(account, held.hold.id)
    assert confirmed.outcome is ConfirmOutcome.BOOKED
    return confirmed.booking


def moved(event_id: str, ref: str | None, new_time: str, **fields) -> dict:
    return event(event_id, type="booking_moved", plate=fields.pop("plate", None), booking_ref=ref,
                 details={"new_time": new_time, **fields.pop("details", {})}, **fields)


async def scalar(db, query):
    async with db.reading() as session:
        return await session.scalar(query)


async def taken(db, slot_id: int) -> int:
    return await scalar(db, select(Slot.taken).where(Slot.id == slot_id))


async def stored(db) -> tuple[int, int]:
    """Events recorded, and notices queued."""
    return (await scalar(db, select(func.count()).select_from(Event)),
            await scalar(db, select(func.count()).select_from(OutboxRow).where(OutboxRow.event_id.is_not(None))))


async def test_a_move_moves_the_booking_and_says_what_it_did(nobat, border, clock):
    services = nobat.services
    booking = await booked(services)
    old_slot = booking.slot_id
    status, answer = await border.post_event(moved("kh-m1", booking.ref.lower(), "2026-11-24T10:30:00+05:00",
                                                   details={"reason": "snow"}))
    assert status == 202, answer
    assert (answer["booking_moved"], answer["booking_ref"], answer["outcome"], answer["deliveries"]) == (
        True, booking.ref, "queued", 1)
    assert (answer["new_time"], answer["previous_time"]) == ("2026-11-24T10:30:00+05:00",
                                                             "2026-11-23T08:00:00+05:00")
    [now] = await services.booking.upcoming(7301)
    assert now.id == booking.id and now.starts_at == datetime.fromisoformat("2026-11-24T05:30:00+00:00")
    assert now.slot_id != old_slot and await taken(nobat.db, now.slot_id) == 1
    # The old place comes back through the release window (rule 5), not at once.
    assert await taken(nobat.db, old_slot) == 1
    release_at = await scalar(nobat.db, select(Release.release_at).where(Release.slot_id == old_slot))
    assert clock.now() <= release_at <= booking.starts_at - services.checkpoints["khorgos"].lead
    clock.set(release_at + timedelta(seconds=1))
    assert await services.releases.release_due() == 1
    assert await taken(nobat.db, old_slot) == 0 and await taken(nobat.db, now.slot_id) == 1
    async with nobat.db.reading() as session:
        record = (await session.execute(select(AuditRecord.actor, AuditRecord.result, AuditRecord.details)
                                        .where(AuditRecord.action == "booking.move_by_operator"))).one()
        day = await session.scalar(select(Reservation.day).where(Reservation.id == booking.id))
    assert record[:2] == ("border", "moved") and "kh-m1" in record.details
    assert "2026-11-24T05:30:00.000000+00:00" in record.details
    assert day.isoformat() == "2026-11-24"


async def test_a_booking_moved_twice_then_cancelled_gives_every_place_back(nobat, border, clock):
    """Each move frees a place, and the cancellation the last one: none is lost, none given twice."""
    services = nobat.services
    booking = await booked(services)
    for n, when in enumerate(["2026-11-23T09:00:00+05:00", "2026-11-23T08:00:00+05:00"]):
        status, answer = await border.post_event(moved(f"kh-t{n}", booking.ref, when))
        assert (status, answer["booking_moved"]) == (202, True), answer
    status, answer = await border.post_event(event("kh-tc", type="booking_cancelled", plate=None,
                                                   booking_ref=booking.ref))
    assert (status, answer["booking_cancelled"]) == (202, True)
    assert await scalar(nobat.db, select(func.count()).select_from(Release)) == 3
    clock.advance(timedelta(days=2))
    assert await services.releases.release_due() == 3
    assert await scalar(nobat.db, select(func.sum(Slot.taken))) == 0


@pytest.mark.parametrize("new_time, code", [
    ("2026-11-24T21:00:00+05:00", "outside_schedule"),  # the post closes at 20:00
    ("2026-11-24T10:10:00+05:00", "outside_schedule"),  # not a slot start (every 30 minutes)
    ("2026-11-23T05:30:00+05:00", "outside_schedule"),  # past: it is 06:00
])
async def test_a_move_outside_the_schedule_is_422_and_changes_nothing(nobat, border, new_time, code):
    booking = await booked(nobat.services)
    status, answer = await border.post_event(moved("kh-o", booking.ref, new_time))
    assert (status, answer["error"]) == (422, code), answer
    assert "khorgos" in answer["message"]
    [still] = await nobat.services.booking.upcoming(7301)
    assert (still.slot_id, still.starts_at) == (booking.slot_id, booking.starts_at)
    assert await stored(nobat.db) == (0, 0), "no event, no notice"


async def test_a_move_to_a_full_time_is_409_the_border_cannot_overfill_a_time(nobat, border):
    services = nobat.services
    booking = await booked(services)
    target = datetime.fromisoformat("2026-11-23T09:00:00+05:00")
    async with nobat.db.transaction() as session:
        await session.execute(update(Slot).where(Slot.checkpoint == "khorgos", Slot.starts_at == target)
                              .values(capacity=3, taken=3))
    status, answer = await border.post_event(moved("kh-f", booking.ref, target.isoformat()))
    assert (status, answer["error"]) == (409, "slot_full"), answer
    assert await scalar(nobat.db, select(Slot.taken).where(Slot.checkpoint == "khorgos", Slot.starts_at == target)) == 3
    assert await taken(nobat.db, booking.slot_id) == 1
    assert await stored(nobat.db) == (0, 0)
    result = await scalar(nobat.db, select(AuditRecord.result).where(AuditRecord.action == "booking.move_by_operator"))
    assert result == "slot_full", "the refused move is in the audit trail too"


async def test_a_move_beyond_the_calendars_horizon_makes_its_slot(nobat, border):
    booking = await booked(nobat.services)
    status, answer = await border.post_event(moved("kh-h", booking.ref, "2026-12-20T12:00:00+05:00"))
    assert (status, answer["booking_moved"]) == (202, True), answer
    [now] = await nobat.services.booking.upcoming(7301)
    assert await scalar(nobat.db, select(Slot.capacity).where(Slot.id == now.slot_id)) == 20


async def test_a_move_refused_for_the_booking_it_names(nobat, border):
    services = nobat.services
    first = await booked(services)
    second = await booked(services, day_offset=1)  # the same truck, Tuesday
    # Tuesday has the truck's other booking: one a day per checkpoint (rule 4).
    status, answer = await border.post_event(moved("kh-b", first.ref, "2026-11-24T15:00:00+05:00"))
    assert (status, answer["error"]) == (409, "truck_busy"), answer
    # A plate alone names both: which one is not for the bot to guess.
    status, answer = await border.post_event(moved("kh-a", None, "2026-11-25T15:00:00+05:00", plate=PLATE))
    assert (status, answer["error"]) == (409, "ambiguous_booking"), answer
    await services.booking.cancel_booking(7301, second.id)
    status, answer = await border.post_event(moved("kh-e", second.ref, "2026-11-25T15:00:00+05:00"))
    assert (status, answer["error"]) == (409, "booking_ended"), answer
    assert await stored(nobat.db) == (0, 0)
    # With one booking left, the plate alone names it.
    status, answer = await border.post_event(moved("kh-p", None, "2026-11-25T15:00:00+05:00", plate=PLATE))
    assert (status, answer["booking_moved"], answer["booking_ref"]) == (202, True, first.ref), answer
    # Moved to the time it has now: nothing to do, nobody told again.
    status, answer = await border.post_event(moved("kh-s", first.ref, "2026-11-25T15:00:00+05:00"))
    assert (status, answer["booking_moved"], answer["outcome"], answer["deliveries"]) == (
        202, False, "unchanged", 0), answer
    assert await stored(nobat.db) == (2, 1)


async def test_a_move_of_a_plate_without_a_booking_is_404_and_one_without_a_time_422(nobat, border):
    await nobat.services.accounts.ensure(7302, "Driver", "ru")
    await nobat.services.trucks.add(7302, PLATE)
    status, answer = await border.post_event(moved("kh-n", None, "2026-11-24T10:30:00+05:00", plate=PLATE))
    assert (status, answer["error"]) == (404, "unknown_booking"), answer
    status, answer = await border.post_event(event("kh-nt", type="booking_moved", details={}))
    assert (status, answer["error"]) == (422, "invalid") and "new_time" in answer["message"], answer
    assert await stored(nobat.db) == (0, 0)


async def test_a_cancellation_naming_only_a_plate_cancels_its_booking_or_tells_nobody(nobat, border):
    services = nobat.services
    booking = await booked(services)
    cancelled = event("kh-c1", type="booking_cancelled", details={"reason": "The post is closed"})
    status, answer = await border.post_event(cancelled)
    assert status == 202, answer
    assert (answer["booking_cancelled"], answer["booking_ref"], answer["outcome"], answer["deliveries"]) == (
        True, booking.ref, "queued", 1)
    assert await services.booking.upcoming(7301) == []
    assert await scalar(nobat.db, select(Release.slot_id)) == booking.slot_id
    assert await scalar(nobat.db, select(Event.reservation_id)) == booking.id
    # Now the plate has no booking: the event is kept, and nobody is told of a cancellation.
    status, answer = await border.post_event({**cancelled, "event_id": "kh-c2"})
    assert (status, answer["booking_cancelled"], answer["outcome"], answer["deliveries"]) == (
        202, False, "unchanged", 0), answer
    # Nor of a booking, named by its reference, that had ended already.
    status, answer = await border.post_event(event("kh-c3", type="booking_cancelled", plate=None,
                                                   booking_ref=booking.ref))
    assert (status, answer["booking_cancelled"], answer["deliveries"]) == (202, False, 0), answer
    assert await stored(nobat.db) == (3, 1), "one notice: the cancellation that cancelled"


async def test_a_calls_deadline_is_taken_when_it_comes_after_the_call(nobat, border):
    await nobat.services.accounts.ensure(7303, "Driver", "ru")
    await nobat.services.trucks.add(7303, PLATE)
    status, answer = await border.post_event(event("kh-d1", details={"gate": "3",
                                                                     "deadline": "2026-11-23T06:25:00+05:00"}))
    assert status == 202, answer
    for n, (kind, deadline) in enumerate([("called", "2026-11-23T06:00:00+05:00"),
                                          ("arrived", "2026-11-23T06:25:00+05:00"),
                                          ("called", "06:25")]):
        status, answer = await border.post_event(event(f"kh-d{n + 2}", type=kind, details={"deadline": deadline}))
        assert (status, answer["error"]) == (422, "invalid") and "deadline" in answer["message"], answer
    assert await stored(nobat.db) == (1, 1)

"""The audit trail: every action leaves its record in its own transaction, the chain holds under
several processes, and `verify` finds a record changed, deleted or moved."""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

import services.audit.trail as audit
from services.audit.trail import GENESIS, AuditRecord, AuditTrail, Entry, Problem, chain_hash
from services.booking.outcomes import CancelOutcome, ConfirmOutcome
from services.booking.takes import TakeOutcome
from services.container import Services
from services.kernel.rules import BookingRules
from services.storage.database import Database
from services.storage.models import Reservation, Slot
from tests.integration.test_booking_engine import KHORGOS, driver
from tests.integration.test_processes import POST
from tests.integration.test_processes import _services as process_services
from tests.processes import ROOT, clean_env, nobat_command


@pytest.fixture
def services(db, clock):
    return Services.build(db, [KHORGOS], BookingRules(max_active_holds=2), clock, rng=random.Random(7))


async def trail(db, *, since: int = 0) -> list[tuple]:
    """(actor, action, subject, result) of each record after `since`, in chain order."""
    async with db.reading() as session:
        rows = (await session.execute(
            select(AuditRecord.actor, AuditRecord.action, AuditRecord.subject, AuditRecord.result)
            .where(AuditRecord.id > since).order_by(AuditRecord.id))).all()
    return [tuple(row) for row in rows]


async def head(db) -> int:
    async with db.reading() as session:
        return await session.scalar(select(func.coalesce(func.max(AuditRecord.id), 0)))


async def details(db, record_id: int) -> dict:
    async with db.reading() as session:
        return json.loads(await session.scalar(select(AuditRecord.details).where(AuditRecord.id == record_id)))


async def test_a_drivers_take_confirm_and_cancel_are_recorded_in_order(services, clock):
    truck = await driver(services, 1, "A123BC77")
    offer = await services.calendar.first_free(KHORGOS)
    hold = (await services.booking.take(1, truck.id, offer.slot_id, chat_id=1, message_id=9)).hold
    clock.advance(timedelta(minutes=3))
    booked = (await services.booking.confirm(1, hold.id)).booking
    assert (await services.booking.confirm(1, hold.id)).outcome is ConfirmOutcome.ALREADY_BOOKED
    assert (await services.booking.cancel_hold(1, hold.id)).outcome is CancelOutcome.ALREADY_ENDED
    assert (await services.booking.cancel_booking(1, hold.id)).outcome is CancelOutcome.CANCELLED

    me, it = "account:1", f"reservation:{hold.id}"
    assert await trail(services.db) == [
        (me, "account.create", me, "created"),
        (me, "truck.add", f"truck:{truck.id}", "added"),
        (me, "hold.take", it, "held"),
        (me, "booking.confirm", it, "booked"),
        (me, "booking.confirm", it, "already_booked"),
        (me, "hold.cancel", it, "already_ended"),
        (me, "booking.cancel", it, "cancelled"),
    ]
    took = await details(services.db, 3)
    assert took == {"truck_id": truck.id, "slot_id": offer.slot_id, "plate": "A123BC77",
                    "expires_at": (hold.expires_at).isoformat(timespec="microseconds")}
    assert await details(services.db, 4) == {"ref": booked.ref}
    cancelled = await details(services.db, 7)
    assert cancelled["was"] == "booked" and cancelled["ref"] == booked.ref
    async with services.db.reading() as session:
        rows = (await session.execute(select(AuditRecord.at, AuditRecord.account_id).order_by(AuditRecord.id))).all()
    assert [at for at, _ in rows] == [clock.now() - timedelta(minutes=3)] * 3 + [clock.now()] * 4
    assert {account_id for _, account_id in rows} == {1}
    assert (await services.audit.verify()).count == 7


async def test_refused_takes_are_recorded_with_their_reason(services):
    first, second, third = [await driver(services, a, f"{a:03d}AAA02") for a in (1, 2, 3)]
    spare = [await driver(services, 1, plate) for plate in ("B222BB77", "C333CC77")]
    offer = await services.calendar.first_free(KHORGOS)
    later = await services.calendar.first_free(KHORGOS, after=offer.starts_at)
    since = await head(services.db)
    outcomes = [
        (await services.booking.take(1, first.id, offer.slot_id)).outcome,
        (await services.booking.take(2, second.id, offer.slot_id)).outcome,
        (await services.booking.take(3, third.id, offer.slot_id)).outcome,  # the slot is full
        (await services.booking.take(1, first.id, later.slot_id)).outcome,  # the truck has a time that day
        (await services.booking.take(1, spare[0].id, later.slot_id)).outcome,
        (await services.booking.take(1, spare[1].id, later.slot_id)).outcome,  # two holds already
        (await services.booking.take(2, first.id, later.slot_id)).outcome,  # another account's truck
    ]
    assert outcomes == [TakeOutcome.HELD, TakeOutcome.HELD, TakeOutcome.SLOT_FULL, TakeOutcome.TRUCK_BUSY,
                        TakeOutcome.HELD, TakeOutcome.HOLD_LIMIT, TakeOutcome.NOT_YOURS]
    recorded = await trail(services.db, since=since)
    assert [(actor, action, result) for actor, action, _subject, result in recorded] == [
        ("account:1", "hold.take", "held"), ("account:2", "hold.take", "held"),
        ("account:3", "hold.refused", "slot_full"), ("account:1", "hold.refused", "truck_busy"),
        ("account:1", "hold.take", "held"), ("account:1", "hold.refused", "hold_limit"),
        ("account:2", "hold.refused", "not_yours"),
    ]
    assert recorded[2][2] == f"slot:{offer.slot_id}" and recorded[5][2] == f"slot:{later.slot_id}"
    assert (await details(services.db, since + 4))["busy_with"] == 1, "the truck's hold that refused it"


async def test_a_double_tap_in_one_batch_is_recorded_as_the_same_hold_again(services):
    truck = await driver(services, 1, "A123BC77")
    offer = await services.calendar.first_free(KHORGOS)
    later = await services.calendar.first_free(KHORGOS, after=offer.starts_at)
    since = await head(services.db)
    first, second, elsewhere = await asyncio.gather(services.booking.take(1, truck.id, offer.slot_id),
                                                    services.booking.take(1, truck.id, offer.slot_id),
                                                    services.booking.take(1, truck.id, later.slot_id))
    assert first.hold.id == second.hold.id and elsewhere.outcome is TakeOutcome.TRUCK_BUSY
    held = ("account:1", "hold.take", f"reservation:{first.hold.id}", "held")
    assert await trail(services.db, since=since) == [
        held, held, ("account:1", "hold.refused", f"slot:{later.slot_id}", "truck_busy")]
    assert "again" not in await details(services.db, since + 1)
    assert (await details(services.db, since + 2))["again"] is True
    assert (await details(services.db, since + 3))["busy_with"] == first.hold.id, "the hold the same batch took"


async def test_the_workers_expiry_and_release_are_recorded_as_theirs(services, clock):
    truck = await driver(services, 1, "A123BC77")
    offer = await services.calendar.first_free(KHORGOS)
    hold = (await services.booking.take(1, truck.id, offer.slot_id)).hold
    since = await head(services.db)
    clock.advance(timedelta(minutes=15))
    assert await services.releases.expire_due() == [hold.id]
    clock.advance(timedelta(hours=24))
    assert await services.releases.release_due() == 1

    assert await trail(services.db, since=since) == [
        ("worker:expiry", "hold.expire", f"reservation:{hold.id}", "expired"),
        ("worker:release", "release", f"slot:{offer.slot_id}", "released"),
    ]
    async with services.db.reading() as session:
        owners = (await session.scalars(select(AuditRecord.account_id).where(AuditRecord.id > since)
                                        .order_by(AuditRecord.id))).all()
    assert owners == [1, None], "the expired hold was account 1's; a released place is nobody's"
    assert datetime.fromisoformat((await details(services.db, since + 1))["release_at"]) <= offer.starts_at


async def test_a_confirm_too_late_records_the_expiry_it_finds(services, clock):
    truck = await driver(services, 1, "A123BC77")
    hold = (await services.booking.take(1, truck.id, (await services.calendar.first_free(KHORGOS)).slot_id)).hold
    since = await head(services.db)
    clock.advance(timedelta(minutes=16))
    assert (await services.booking.confirm(1, hold.id)).outcome is ConfirmOutcome.EXPIRED
    assert await trail(services.db, since=since) == [
        ("account:1", "booking.confirm", f"reservation:{hold.id}", "expired"),
        ("system:booking", "hold.expire", f"reservation:{hold.id}", "expired"),
    ]


async def test_an_action_whose_transaction_fails_leaves_no_record(services, monkeypatch):
    truck = await driver(services, 1, "A123BC77")
    offer = await services.calendar.first_free(KHORGOS)
    since = await head(services.db)
    append = AuditTrail.append

    async def appended_then_failed(self, session, entries):
        await append(self, session, entries)
        raise RuntimeError("the commit never came")

    monkeypatch.setattr(AuditTrail, "append", appended_then_failed)
    with pytest.raises(RuntimeError):
        await services.booking.take(1, truck.id, offer.slot_id)
    monkeypatch.undo()

    assert await head(services.db) == since, "no record without its action"
    async with services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Reservation)) == 0, "nor the action"
        assert await session.scalar(select(Slot.taken).where(Slot.id == offer.slot_id)) == 0
    held = await services.booking.take(1, truck.id, offer.slot_id)
    assert await trail(services.db, since=since) == [("account:1", "hold.take", f"reservation:{held.hold.id}", "held")]
    assert (await services.audit.verify()).intact


async def test_the_border_cancelling_a_booking_is_recorded_as_the_borders(services):
    truck = await driver(services, 1, "A123BC77")
    hold = (await services.booking.take(1, truck.id, (await services.calendar.first_free(KHORGOS)).slot_id)).hold
    since = await head(services.db)
    entries: list[Entry] = []
    now = services.clock.now()
    async with services.db.transaction() as session:
        assert await services.booking.cancel_by_operator(session, hold.id, now, entries=entries,
                                                         details={"event_id": "e-1"})
        assert not await services.booking.cancel_by_operator(session, hold.id, now, entries=entries)
        await services.audit.append(session, entries)
    assert await trail(services.db, since=since) == [
        ("border", "booking.cancel_by_operator", f"reservation:{hold.id}", "cancelled"),
        ("border", "booking.cancel_by_operator", f"reservation:{hold.id}", "already_ended"),
    ]
    assert (await details(services.db, since + 1))["event_id"] == "e-1"


async def test_truck_changes_and_follows_are_recorded(services):
    await services.accounts.ensure(1, "Ali", "ru")
    truck = (await services.trucks.add(1, "A123BC77")).truck
    assert (await services.trucks.add(1, "A123BC77")).truck == truck  # a duplicate
    await services.trucks.set_trailer(1, truck.id, "AB1234 77")
    await services.follows.set_following(1, "A123BC77", False)
    await services.follows.set_following(1, "777ZZ01", True)  # a plate of nobody's: refused
    await services.trucks.remove(1, truck.id)
    since = 1  # the account's creation
    assert await trail(services.db, since=since) == [
        ("account:1", "truck.add", f"truck:{truck.id}", "added"),
        ("account:1", "truck.add", f"truck:{truck.id}", "duplicate"),
        ("account:1", "truck.trailer", f"truck:{truck.id}", "added"),
        ("account:1", "follow.off", "plate:A123BC77", "done"),
        ("account:1", "follow.on", "plate:777ZZ01", "refused"),
        ("account:1", "truck.remove", f"truck:{truck.id}", "removed"),
    ]


async def test_warnings_reminders_registrations_phones_and_languages_are_recorded(services, clock):
    truck = await driver(services, 1, "A123BC77")
    await services.accounts.ensure(2, "Dispatcher", "ru")
    await services.accounts.set_language(1, "fa")
    await services.registry.register("A123BC77", ["+98 912 000 0000"], version=1)
    await services.follows.share_phone(2, "+98 912 000 0000")  # account 2 of the same phone
    offer = await services.calendar.first_free(KHORGOS)
    hold = (await services.booking.take(1, truck.id, offer.slot_id, chat_id=1, message_id=5)).hold
    clock.advance(timedelta(minutes=12, seconds=1))
    assert len(await services.booking.warnings()) == 1
    await services.booking.confirm(1, hold.id)
    clock.set(offer.starts_at - timedelta(minutes=30))
    assert len(await services.reminders.due(timedelta(hours=1))) == 1

    recorded = [(actor, action, result) for actor, action, _subject, result in await trail(services.db, since=3)]
    assert recorded == [
        ("account:1", "account.language", "set"),
        ("border", "truck.register", "registered"),
        ("account:2", "phone.share", "shared"),
        ("account:1", "hold.take", "held"),
        ("worker:countdown", "hold.warn", "warned"),
        ("account:1", "booking.confirm", "booked"),
        ("worker:reminders", "booking.remind", "reminded"),
    ]
    assert await details(services.db, 6) == {"followed": ["A123BC77"]}
    assert await details(services.db, 5) == {"phones": 1, "following": [], "version": 1}


async def test_each_booking_the_reminders_worker_claims_is_recorded_reminded_or_booked_within_the_window(
        services, clock):
    window = timedelta(minutes=90)  # from 06:30 for the 08:00 time

    async def book(account: int, plate: str) -> int:
        truck = await driver(services, account, plate)
        offer = await services.calendar.first_free(KHORGOS)
        hold = (await services.booking.take(account, truck.id, offer.slot_id)).hold
        return (await services.booking.confirm(account, hold.id)).booking.id

    early = await book(1, "A123BC77")  # at 06:00, before the window
    before = await head(services.db)
    assert await services.reminders.due(window) == [] and await head(services.db) == before, "not due yet"
    clock.advance(timedelta(minutes=40))
    late = await book(2, "B222BB77")  # at 06:40, inside the window
    booked = await head(services.db)
    clock.advance(timedelta(minutes=5))
    await services.reminders.due(window)
    assert await trail(services.db, since=booked) == [
        ("worker:reminders", "booking.remind", f"reservation:{early}", "reminded"),
        ("worker:reminders", "booking.remind", f"reservation:{late}", "booked_within_the_window"),
    ]


def _tap_in_rounds(url: str, slot_id: int, taps: list[tuple[int, int]], start_at: float) -> list[str]:
    """One bot process tapping Next in rounds of ten taps at once on its own slot: its batches
    lock no row another process's do, so nothing but the chain's own lock orders their appends."""

    async def main() -> list[str]:
        db = Database(url)
        services = process_services(db)
        outcomes = []
        try:
            async with db.reading() as session:
                await session.execute(select(1))
            await asyncio.sleep(max(0.0, start_at - time.time()))
            for first in range(0, len(taps), 10):
                round_ = taps[first:first + 10]
                results = await asyncio.gather(*(services.booking.take(a, t, slot_id) for a, t in round_))
                outcomes += [r.outcome.value for r in results]
        finally:
            await db.close()
        return outcomes

    return asyncio.run(main())


async def test_takes_from_three_processes_at_once_leave_one_unbroken_chain(db):
    services = process_services(db)
    taps = []
    for account in range(1, 151):
        await services.accounts.ensure(account, "", "ru")
        taps.append((account, (await services.trucks.add(account, f"{account:03d}KZ01")).truck.id))
    slots, after = [], None
    for _ in range(3):
        offer = await services.calendar.first_free(POST, after=after)
        slots.append(offer.slot_id)
        after = offer.starts_at
    since = await head(db)

    loop = asyncio.get_running_loop()
    start_at = time.time() + 4  # enough for every process to start and import
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = await asyncio.gather(*(loop.run_in_executor(pool, _tap_in_rounds, db.url, slot, taps[i::3], start_at)
                                       for i, slot in enumerate(slots)))

    verdict = await AuditTrail(db).verify()
    assert verdict.intact, verdict.why
    assert verdict.count == since + 150, "one record per tap, none lost, none twice"
    recorded = await trail(db, since=since)
    assert sorted(actor for actor, *_ in recorded) == sorted(f"account:{a}" for a, _ in taps)
    outcomes = [outcome for part in parts for outcome in part]
    assert [result for *_, result in recorded].count("held") == outcomes.count("held") == 60


# --- verify ----------------------------------------------------------------------------------

async def chain_of(db, count: int) -> AuditTrail:
    """`count` records, appended in three segments as three transactions would."""
    trail_ = AuditTrail(db)
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    entries = [Entry(start + timedelta(minutes=i), f"account:{i % 3 + 1}", "hold.take", f"reservation:{i}", "held",
                     i % 3 + 1, {"slot_id": i, "note": "Қорғас"}) for i in range(1, count + 1)]
    for part in (entries[:2], entries[2:5], entries[5:]):
        async with db.transaction() as session:
            await trail_.append(session, part)
    return trail_


async def tamper(db, *statements: str) -> None:
    async with db.transaction() as session:
        for statement in statements:
            await session.execute(text(statement))


async def test_an_intact_chain_verifies_across_pages(db, monkeypatch):
    trail_ = await chain_of(db, 8)
    monkeypatch.setattr(audit, "PAGE", 3)
    verdict = await trail_.verify()
    assert verdict.intact and verdict.count == 8 and verdict.head_id == 8
    async with db.reading() as session:
        first, last = await session.get(AuditRecord, 1), await session.get(AuditRecord, 8)
    assert first.prev_hash == GENESIS and verdict.head_hash == last.hash


@pytest.mark.parametrize("statements, broken, problem, intact_before", [
    (["UPDATE audit_records SET result = 'slot_full' WHERE id = 4"], 4, Problem.ALTERED, 3),
    (["UPDATE audit_records SET details = '{\"slot_id\": 40,\"note\":\"Қорғас\"}' WHERE id = 4"], 4,
     Problem.ALTERED, 3),
    (["UPDATE audit_records SET actor = 'account:9' WHERE id = 4"], 4, Problem.ALTERED, 3),
    (["UPDATE audit_records SET hash = '" + "f" * 64 + "' WHERE id = 4"], 4, Problem.ALTERED, 3),
    (["DELETE FROM audit_records WHERE id = 4"], 5, Problem.GAP, 3),
    (["DELETE FROM audit_records WHERE id = 1"], 2, Problem.START, 0),
    (["UPDATE audit_records SET id = -5 WHERE id = 5", "UPDATE audit_records SET id = 5 WHERE id = 4",
      "UPDATE audit_records SET id = 4 WHERE id = -5"], 4, Problem.UNLINKED, 3),
    (["UPDATE audit_records SET id = -3 WHERE id = 3", "UPDATE audit_records SET id = 3 WHERE id = 7",
      "UPDATE audit_records SET id = 7 WHERE id = -3"], 3, Problem.UNLINKED, 2),
], ids=["result", "details", "actor", "hash", "deleted", "first deleted", "swapped", "swapped far"])
async def test_verify_names_the_first_record_where_the_chain_breaks(db, monkeypatch, statements, broken, problem,
                                                                    intact_before):
    trail_ = await chain_of(db, 8)
    assert (await trail_.verify()).intact
    await tamper(db, *statements)
    monkeypatch.setattr(audit, "PAGE", 3)  # the break is found across pages too
    verdict = await trail_.verify()
    assert (verdict.broken_id, verdict.problem) == (broken, problem), verdict.why
    assert verdict.count == intact_before and not verdict.intact


async def test_a_record_rewritten_with_its_hash_recomputed_breaks_the_link_to_the_next(db):
    trail_ = await chain_of(db, 8)
    async with db.reading() as session:
        row = await session.get(AuditRecord, 4)
    forged = Entry(row.at, row.actor, row.action, row.subject, "slot_full", row.account_id, json.loads(row.details))
    await tamper(db, f"UPDATE audit_records SET result = 'slot_full', hash = '{chain_hash(row.prev_hash, 4, forged)}'"
                     " WHERE id = 4")
    verdict = await trail_.verify()
    assert (verdict.broken_id, verdict.problem) == (5, Problem.UNLINKED)


# --- export ----------------------------------------------------------------------------------

async def test_export_gives_a_time_range_and_an_accounts_records_each_with_hashes_anyone_can_check(db):
    trail_ = await chain_of(db, 8)  # record i at 01:00 + i minutes, about account i % 3 + 1
    start = datetime(2026, 11, 23, 1, 3, tzinfo=UTC)
    end = start + timedelta(minutes=4)

    lines = [json.loads(line) async for line in trail_.export(start, end)]
    assert [line["id"] for line in lines] == [3, 4, 5, 6], "from included, to excluded"
    mine = [json.loads(line) async for line in trail_.export(start, end, account_id=1)]
    assert [line["id"] for line in mine] == [3, 6]
    assert [json.loads(line)["id"] async for line in trail_.export(start, end, account_id=99)] == []

    for line in lines:  # rebuilt with any JSON library: sorted keys, no whitespace, text as itself
        fields = {k: v for k, v in line.items() if k not in ("prev_hash", "hash")}
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256((line["prev_hash"] + canonical).encode()).hexdigest() == line["hash"]
    assert [a["prev_hash"] for a in lines[1:]] == [a["hash"] for a in lines[:-1]]


# --- the command -----------------------------------------------------------------------------

async def nobat_audit(db, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *nobat_command(), "audit", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env=clean_env(NOBAT_CONFIG=str(ROOT / "config.yaml"), DATABASE_URL=db.url),
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode(), err.decode()


async def test_nobat_audit_verify_says_intact_or_names_the_first_broken_record(db):
    await chain_of(db, 8)
    async with db.reading() as session:
        head_hash = await session.scalar(select(AuditRecord.hash).where(AuditRecord.id == 8))

    status, out, err = await nobat_audit(db, "verify")
    assert status == 0, err
    assert out.splitlines() == [f"audit trail intact: 8 records, head 8 {head_hash}"]

    await tamper(db, "DELETE FROM audit_records WHERE id = 6")
    status, out, err = await nobat_audit(db, "verify")
    assert status == 1 and out == ""
    assert err.splitlines() == ["nobat audit verify: broken at record 7 (gap): records 6..6 are missing; "
                                "5 records before it are intact"]


async def test_nobat_audit_export_writes_the_range_of_one_account_as_json_lines(db):
    await chain_of(db, 8)  # record i at 01:00 + i minutes, about account i % 3 + 1
    status, out, err = await nobat_audit(db, "export", "--from", "2026-11-23T01:02", "--to",
                                         "2026-11-23T06:08+05:00", "--account", "2")
    assert status == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["id"], line["account_id"], line["at"]) for line in lines] == [
        (4, 2, "2026-11-23T01:04:00.000000+00:00"), (7, 2, "2026-11-23T01:07:00.000000+00:00")]
    assert lines[0]["details"] == {"slot_id": 4, "note": "Қорғас"}

    status, _out, err = await nobat_audit(db, "export", "--from", "yesterday", "--to", "2026-11-24")
    assert status == 2 and "not an ISO 8601 date or time: 'yesterday'" in err

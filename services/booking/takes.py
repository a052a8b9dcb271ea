"""Who gets a place when many drivers tap Next at once: the decision of a batch of takes.

Plain values in, plain values out, no database and no event loop: `services.booking` reads the rows
under its locks, asks `decide_takes` what to do, writes that, and after the commit asks
`assign_offers` what each refused driver is shown instead. The rules decided here (booking rules 2,
4 and 6 of docs/architecture.md): requests are served in arrival order; a slot gives no more places
than it has free; an account holds at most `max_active_holds` holds, counting those granted earlier
in the same batch; a truck has one active hold or booking per checkpoint per day, and so has its
plate, whichever account added it (a driver and a dispatcher may both follow one truck); a second
Next on the same slot answers with the hold the first one made; a truck that is not the tapping
account's takes nothing. And fair access (services.booking.fairness): an account banned by an operator, or
paused by its rating, takes nothing until then; nor one that took `max_holds_per_hour` holds within
the last hour.

The values made per tap (a request, the truck and the holds read, a decision) are slotted
dataclasses, not frozen ones: a rush makes tens of thousands of them, and a frozen dataclass costs
much more to make (docs/benchmarks.md). Nothing changes one once made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import TypeVar


class TakeOutcome(Enum):
    HELD = "held"
    SLOT_FULL = "slot_full"  # filled meanwhile: `offer` is the next first free slot, or None
    SLOT_GONE = "slot_gone"  # no longer bookable (past the lead time, or unknown)
    HOLD_LIMIT = "hold_limit"  # the account has max_active_holds holds already
    TRUCK_BUSY = "truck_busy"  # the truck has a hold or booking at this checkpoint that day
    PLATE_BUSY = "plate_busy"  # another account's truck with this plate has one there that day
    NOT_YOURS = "not_yours"  # the truck is not this account's (a forged button)
    BANNED = "banned"  # by an operator, `until` then
    RATING_BLOCKED = "rating_blocked"  # too many of its holds ended unconfirmed: paused `until` then
    HOURLY_LIMIT = "hourly_limit"  # max_holds_per_hour taken within the last hour: again from `until`


@dataclass(slots=True)
class TakeRequest:
    """One tap on Next, as it arrived."""

    account_id: int
    truck_id: int
    slot_id: int
    # The message the tap came from, which will show the hold: recorded with the hold itself, so no
    # hold is ever without the message its countdown and expiry edit.
    chat_id: int | None = None
    message_id: int | None = None


@dataclass(slots=True)
class TruckSeen:
    id: int
    account_id: int  # its owner
    plate: str
    trailer_plate: str | None = None


@dataclass(slots=True)
class SlotSeen:
    id: int
    checkpoint: str
    free: int  # capacity not taken yet
    day: date | None  # its local day, or None when it can no longer be booked (past the lead time)


@dataclass(slots=True)
class Hold:
    """A truck's place on a slot: an active hold, or once confirmed a booking (`booked`).
    A hold this batch creates has no id until it is inserted."""

    id: int | None
    account_id: int
    truck_id: int
    slot_id: int
    checkpoint: str
    day: date
    expires_at: datetime
    booked: bool = False
    ref: str | None = None
    chat_id: int | None = None  # where the hold is shown
    message_id: int | None = None
    plate: str | None = None  # the truck's canonical plate (None on rows older than the plate rule)

    @property
    def key(self) -> tuple[int, str, date]:
        """What the database keeps unique among active holds and bookings (rule 4)."""
        return self.truck_id, self.checkpoint, self.day

    @property
    def plate_key(self) -> tuple[str | None, str, date]:
        """... and this too: one truck, however many accounts follow its plate."""
        return self.plate, self.checkpoint, self.day


@dataclass(slots=True)
class Decision:
    outcome: TakeOutcome
    hold: Hold | None = None  # HELD: the new hold, or the one a double tap made; TRUCK_BUSY: the truck's
    offer_at: str | None = None  # SLOT_FULL / SLOT_GONE: the checkpoint whose next free place to show
    until: datetime | None = None  # BANNED, RATING_BLOCKED, HOURLY_LIMIT: when the account may take again


@dataclass(frozen=True, slots=True)
class BatchDecision:
    decisions: list[Decision]  # one per request, in arrival order
    new_holds: list[Hold]  # to insert, in arrival order
    granted: dict[int, int]  # slot id -> places the new holds take there
    to_offer: dict[str, int]  # checkpoint -> refused drivers to be shown a free place there


_NOT_YOURS = Decision(TakeOutcome.NOT_YOURS)
_HOLD_LIMIT = Decision(TakeOutcome.HOLD_LIMIT)
# Carries no hold: the other account's hold is none of this driver's business beyond its existence.
_PLATE_BUSY = Decision(TakeOutcome.PLATE_BUSY)
_GONE_UNKNOWN = Decision(TakeOutcome.SLOT_GONE)


@dataclass(frozen=True, slots=True)
class Paused:
    """An account that may take no hold until `until`: banned, or blocked by its rating."""

    outcome: TakeOutcome
    until: datetime


HOUR = timedelta(hours=1)


def decide_takes(requests: Sequence[TakeRequest], *, trucks: Mapping[int, TruckSeen],
                 slots: Mapping[int, SlotSeen], active: Iterable[Hold], max_active_holds: int,
                 hold_until: datetime, now: datetime | None = None, paused: Mapping[int, Paused] | None = None,
                 recent: Mapping[int, Sequence[datetime]] | None = None,
                 max_holds_per_hour: int | None = None) -> BatchDecision:
    """Decide every request of a batch in arrival order, against what was read under the locks:
    the trucks of the batch, its slots, and the active holds and bookings of its accounts and of
    its trucks' plates; the accounts that are paused; and when each account took its holds of the
    last hour (`recent`, oldest first)."""
    paused = paused or {}
    taken_at = {account_id: list(times) for account_id, times in (recent or {}).items()}
    free = {slot.id: slot.free for slot in slots.values()}
    held: dict[int, int] = {}
    by_truck_day: dict[tuple[int, str, date], Hold] = {}
    by_plate_day: dict[tuple[str | None, str, date], Hold] = {}
    for hold in active:
        by_truck_day[hold.key] = hold
        if hold.plate is not None:
            by_plate_day[hold.plate_key] = hold
        if not hold.booked:
            held[hold.account_id] = held.get(hold.account_id, 0) + 1
    # Refusals carry nothing of their request, so equal ones are shared: a rush refuses thousands.
    full: dict[str, Decision] = {}
    gone: dict[str, Decision] = {}
    decisions: list[Decision] = []
    new_holds: list[Hold] = []
    for request in requests:
        account_id = request.account_id
        truck = trucks.get(request.truck_id)
        if truck is None or truck.account_id != account_id:
            decisions.append(_NOT_YOURS)
            continue
        slot = slots.get(request.slot_id)
        if slot is None:
            decisions.append(_GONE_UNKNOWN)
            continue
        code = slot.checkpoint
        if slot.day is None:
            decisions.append(gone.get(code) or gone.setdefault(code, Decision(TakeOutcome.SLOT_GONE, offer_at=code)))
            continue
        existing = by_truck_day.get((truck.id, code, slot.day))
        if existing is not None:
            # A double tap on Next answers with the hold the first tap made (rule 6).
            same_tap = existing.slot_id == slot.id and not existing.booked
            decisions.append(Decision(TakeOutcome.HELD if same_tap else TakeOutcome.TRUCK_BUSY, existing))
            continue
        if (truck.plate, code, slot.day) in by_plate_day:
            decisions.append(_PLATE_BUSY)
            continue
        if account_id in paused:  # after the double tap: the hold it made before the pause is still its own
            decisions.append(Decision(paused[account_id].outcome, until=paused[account_id].until))
            continue
        if held.get(account_id, 0) >= max_active_holds:
            decisions.append(_HOLD_LIMIT)
            continue
        times = taken_at.get(account_id, ())  # no list made for each tap of a rush: most took nothing lately
        if max_holds_per_hour is not None and len(times) >= max_holds_per_hour:
            # Again once the oldest hold that counts is an hour old.
            decisions.append(Decision(TakeOutcome.HOURLY_LIMIT, until=times[len(times) - max_holds_per_hour] + HOUR))
            continue
        if free[slot.id] <= 0:
            decisions.append(full.get(code) or full.setdefault(code, Decision(TakeOutcome.SLOT_FULL, offer_at=code)))
            continue
        free[slot.id] -= 1
        held[account_id] = held.get(account_id, 0) + 1
        if now is not None:
            taken_at.setdefault(account_id, []).append(now)
        hold = Hold(None, account_id, truck.id, slot.id, code, slot.day, hold_until,
                    chat_id=request.chat_id, message_id=request.message_id, plate=truck.plate)
        by_truck_day[hold.key] = hold
        by_plate_day[hold.plate_key] = hold
        new_holds.append(hold)
        decisions.append(Decision(TakeOutcome.HELD, hold))
    granted = Counter(hold.slot_id for hold in new_holds)
    to_offer = Counter(decision.offer_at for decision in decisions if decision.offer_at is not None)
    return BatchDecision(decisions, new_holds, dict(granted), dict(to_offer))


Place = TypeVar("Place")


def assign_offers(decisions: Iterable[Decision], places: Mapping[str, Iterable[Place]]) -> list[Place | None]:
    """What each refused driver is shown instead, one per decision (None for the others): the next
    free places of the checkpoint handed out in arrival order, each to one driver while they last,
    so that drivers refused together are not all sent to the same few places."""
    left = {code: iter(offered) for code, offered in places.items()}
    return [
        None if decision.offer_at is None or decision.offer_at not in left else next(left[decision.offer_at], None)
        for decision in decisions
    ]

"""Button payloads are typed and bounded: a forged one does not unpack, so the feature's filter does
not match (calmly: no exception), no handler of the feature runs, and the fallback answers it."""

from __future__ import annotations

from datetime import date

import pytest
from aiogram.types import CallbackQuery, User

from handlers.booking.callbacks import DayCb, OfferAction, OfferCb, SlotCb, TruckPickCb
from handlers.bookings.callbacks import BookingCb, BookingsPageCb
from handlers.common.holds import HoldCb
from handlers.start.callbacks import LanguageCb
from handlers.trucks.callbacks import TruckCb
from services.storage.models import ROW_ID_MAX

TOO_BIG = ROW_ID_MAX + 1  # no row has it; PostgreSQL refuses to compare an integer column with it


def _tap(data: str) -> CallbackQuery:
    return CallbackQuery(id="1", from_user=User(id=5001, is_bot=False, first_name="Ali"), chat_instance="1",
                         data=data)


@pytest.mark.parametrize("payload, kind", [
    (f"of:n:khorgos:7:{TOO_BIG}", OfferCb),
    ("of:n:khorgos:7:-1", OfferCb),
    ("of:n:khorgos:-7:3", OfferCb),
    ("of:n:khorgos:7:99999999999999999999999", OfferCb),
    ("of:n:khorgos:7:three", OfferCb),
    ("of:z:khorgos:7:3", OfferCb),
    ("of:n:Khorgos:7:3", OfferCb),
    ("of:n:k:7:3", OfferCb),
    ("of:n:khorgos_and_a_long_tail:7:3", OfferCb),
    ("of:n:khorgos:7", OfferCb),
    ("of:n:khorgos:7:3:1", OfferCb),
    (f"tk:khorgos:{TOO_BIG}", TruckPickCb),
    ("dy:khorgos:7:2026-02-30", DayCb),
    ("dy:khorgos:7:24.11.2026", DayCb),
    ("dy:khorgos:7:1700000000", DayCb),
    ("dy:khorgos:7:9999-12-31", DayCb),
    ("dy:khorgos:7:", DayCb),
    (f"sl:khorgos:7:{TOO_BIG}", SlotCb),
    (f"hd:y:{TOO_BIG}", HoldCb),
    ("hd:y:0", HoldCb),
    (f"bk:c:{TOO_BIG}", BookingCb),
    ("bp:0", BookingsPageCb),
    ("bp:100000000", BookingsPageCb),
    ("lg:en", LanguageCb),
    ("lg:", LanguageCb),
    (f"tr:y:{TOO_BIG}", TruckCb),
    ("tr:y:-1", TruckCb),
])
async def test_a_forged_payload_does_not_match_its_feature(payload, kind):
    assert await kind.filter()(_tap(payload)) is False


@pytest.mark.parametrize("payload, expected", [
    (f"of:n:khorgos:{ROW_ID_MAX}:{ROW_ID_MAX}",
     OfferCb(action=OfferAction.NEXT, checkpoint="khorgos", truck_id=ROW_ID_MAX, slot_id=ROW_ID_MAX)),
    ("dy:bazargan:7:2026-11-24", DayCb(checkpoint="bazargan", truck_id=7, day=date(2026, 11, 24))),
    ("tr:a:0", TruckCb(action="a")),
    ("bp:2", BookingsPageCb(page=2)),
    ("lg:fa", LanguageCb(code="fa")),
])
async def test_a_genuine_payload_matches_with_its_typed_values(payload, expected):
    assert await type(expected).filter()(_tap(payload)) == {"callback_data": expected}
    assert expected.pack() == payload, "the wire format of the buttons already in drivers' chats is unchanged"

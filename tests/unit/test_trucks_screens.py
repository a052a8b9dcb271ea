"""The screens of /trucks, rendered without a bot: pages that stay far below Telegram's 100 buttons of
a keyboard for any fleet, payloads within 64 bytes, the page arrows in Persian, a truck's menu."""

from __future__ import annotations

import pytest

from handlers.common.screen import Screen
from handlers.trucks import following_screens as following
from handlers.trucks import screens as trucks
from handlers.trucks.callbacks import MenuAction, MenuCb
from services.accounts.follows import Followable
from services.accounts.trucks import MAX_TRUCKS_PER_ACCOUNT, TruckView
from services.storage.models import ROW_ID_MAX
from tests.story import t

LONGEST_PLATE = "新" * 16  # the longest plate a payload may carry, in the widest of its letters
TELEGRAMS_LIMIT = 100


def _payloads(screen: Screen) -> list[str]:
    return [button.callback_data for row in screen.reply_markup.inline_keyboard for button in row]


def _rows(screen: Screen) -> list[list[str]]:
    return [[button.text for button in row] for row in screen.reply_markup.inline_keyboard]


def _fleet(own: int, by_phone: int) -> tuple[list[TruckView], list[Followable]]:
    mine = [TruckView(ROW_ID_MAX - n, f"{100 + n}ABC02", "88TR02") for n in range(own)]
    followable = [Followable(truck.plate, True, n % 2 == 0) for n, truck in enumerate(mine)]
    followable += [Followable(LONGEST_PLATE[:-4] + f"{n:04d}", False, True) for n in range(by_phone)]
    return mine, followable


@pytest.mark.parametrize(("own", "by_phone"), [(0, 0), (1, 0), (8, 0), (9, 0), (MAX_TRUCKS_PER_ACCOUNT, 0),
                                               (MAX_TRUCKS_PER_ACCOUNT, 300), (0, 17)])
def test_every_page_of_any_fleet_is_far_below_telegrams_limit(speaking, own, by_phone):
    mine, followable = _fleet(own, by_phone)
    pages = max(1, -(-(own + by_phone) // trucks.TRUCKS_PER_PAGE))
    seen = set()
    with speaking("fa"):
        for page in range(1, pages + 2):  # and one past the end, which shows the last
            screen = trucks.trucks_list(mine, "fa", followable, page)
            assert len(_payloads(screen)) <= trucks.TRUCKS_PER_PAGE + 4 < TELEGRAMS_LIMIT
            assert all(len(data.encode()) <= 64 for data in _payloads(screen))
            seen.update(data for data in _payloads(screen) if not data.startswith(("tm:l", "tr:a", "ph")))
    assert len(seen) == own + by_phone, "every truck is reachable on some page"


def test_persian_pages_turn_right_to_left(speaking):
    mine, followable = _fleet(20, 0)
    with speaking("ru"):
        middle = trucks.trucks_list(mine, "ru", followable, 2)
    with speaking("fa"):
        middle_fa = trucks.trucks_list(mine, "fa", followable, 2)
        first_fa = trucks.trucks_list(mine, "fa", followable, 1)
        last_fa = trucks.trucks_list(mine, "fa", followable, 3)
    turns = [MenuCb.unpack(data).page for data in _payloads(middle) if data.startswith("tm:l")]
    assert _rows(middle)[-3] == ["◀", "▶"] and turns == [1, 3]
    turns_fa = [MenuCb.unpack(data).page for data in _payloads(middle_fa) if data.startswith("tm:l")]
    assert _rows(middle_fa)[-3] == ["◀", "▶"] and turns_fa == [3, 1], "the next page to the left, as Persian reads"
    assert _rows(first_fa)[-3] == ["◀"] and _rows(last_fa)[-3] == ["▶"]
    assert "صفحه ۲ از ۳" in middle_fa.text


def test_a_trucks_menu_offers_what_its_trailer_and_notices_allow(speaking):
    with speaking("ru"):
        bare = trucks.truck_menu(TruckView(ROW_ID_MAX, "123ABC02", None), Followable("123ABC02", True, True), "ru",
                                 10_000)
        towing = trucks.truck_menu(TruckView(7, "123ABC02", "88TR02"), Followable("123ABC02", True, False), "ru", 2)
    assert _rows(bare) == [[t("ru", "🔕 Mute {plate}").format(plate="123 ABC 02")], [t("ru", "🚛 Add trailer")],
                           [t("ru", "🗑 Remove truck")], [t("ru", "◀ Back")]]
    assert t("ru", "No trailer") in bare.text and t("ru", "🔔 Its status notices come to this chat.") in bare.text
    assert all(len(data.encode()) <= 64 for data in _payloads(bare))
    assert _rows(towing)[:3] == [[t("ru", "🔔 Notices for {plate}").format(plate="123 ABC 02")],
                                 [t("ru", "🚛 Change trailer")], [t("ru", "✖ Remove trailer")]]
    assert t("ru", "Trailer: {plate}").format(plate="88 TR 02") in towing.text
    assert [MenuCb.unpack(data) for data in _payloads(towing)][-1] == MenuCb(action=MenuAction.LIST, page=2)


def test_the_menu_of_a_truck_registered_with_the_phone_fits_the_longest_plate(speaking):
    with speaking("fa"):
        menu = following.phone_truck_menu(Followable(LONGEST_PLATE, False, True), "fa", 10_000)
    assert all(len(data.encode()) <= 64 for data in _payloads(menu))
    assert len(_payloads(menu)) == 2


def test_skip_turns_the_question_into_the_truck_added_without_a_trailer(speaking):
    with speaking("kk"):
        answer = trucks.truck_added(TruckView(1, "123ABC02", None), "kk", then_book=True, skipped=True)
    assert answer.text == t("kk", "Truck {plate} is added, without a trailer.").format(plate="123 ABC 02")
    assert answer.reply_markup is None

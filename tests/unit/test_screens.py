"""Screens render what the driver reads and the buttons they tap, without a bot."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from handlers.booking import screens as booking
from handlers.booking.callbacks import DayCb, OfferAction, OfferCb, SlotCb
from handlers.bookings import screens as bookings
from handlers.bookings.callbacks import BookingsPageCb, ListHoldCb
from handlers.common.holds import HoldAction, HoldCb
from handlers.common.screen import Screen
from handlers.start import screens as start
from handlers.trucks import screens as trucks
from services.accounts.trucks import TruckView
from services.booking.calendar import Offer
from services.booking.outcomes import DayShown, HoldView
from services.kernel.rules import Checkpoint
from services.storage.models import ACCOUNT_ID_MAX, ROW_ID_MAX, ReservationStatus
from tests.story import t, tn

MONDAY_8_ALMATY = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
NOW = MONDAY_8_ALMATY - timedelta(hours=2)
TRUCK = TruckView(id=7, plate="123ABC02", trailer_plate=None)
LARGEST_ID = ROW_ID_MAX  # the largest database key a button can name


def _rows(screen: Screen) -> list[list[str]]:
    return [[button.text for button in row] for row in screen.reply_markup.inline_keyboard]


def _payloads(screen: Screen) -> list[str]:
    return [button.callback_data for row in screen.reply_markup.inline_keyboard for button in row]


def _hold(hold_id: int = 41, *, ref: str | None = None, starts_at: datetime = MONDAY_8_ALMATY,
          expires_at: datetime = NOW + timedelta(minutes=15)) -> HoldView:
    status = ReservationStatus.BOOKED if ref else ReservationStatus.HELD
    return HoldView(id=hold_id, account_id=5001, truck_id=TRUCK.id, plate=TRUCK.plate, checkpoint="khorgos",
                    slot_id=3, starts_at=starts_at, status=status, expires_at=expires_at, ref=ref)


def test_the_offer_shows_the_local_time_and_next_other_time_cancel(speaking, khorgos):
    with speaking("ru"):
        screen = booking.offer(khorgos, Offer(3, "khorgos", MONDAY_8_ALMATY, 20), TRUCK, 15, "ru")
    assert "понедельник, 23 ноября, 08:00" in screen.text and "123 ABC 02" in screen.text
    assert tn("ru", "{count} place free", "{count} places free", 20).format(count=20) in screen.text
    assert _rows(screen) == [[t("ru", "Next ▶")], [t("ru", "Other time")], [t("ru", "◀ Back"), t("ru", "Cancel")]]
    assert OfferCb.unpack(_payloads(screen)[0]) == OfferCb(action=OfferAction.NEXT, checkpoint="khorgos",
                                                           truck_id=7, slot_id=3)


def test_an_offer_shown_instead_of_a_taken_time_says_so_first(speaking, khorgos):
    with speaking("kk"):
        screen = booking.offer(khorgos, Offer(4, "khorgos", MONDAY_8_ALMATY, 1), TRUCK, 15, "kk", instead_of="taken")
    assert screen.text.startswith(t("kk", "That time was just taken. The next free time:"))


def test_the_persian_hold_says_until_when_in_persian_digits_and_isolates_the_plate(speaking, khorgos):
    with speaking("fa"):
        screen = booking.hold(khorgos, _hold(), NOW, "fa")
        later = booking.hold(khorgos, _hold(), NOW + timedelta(minutes=11), "fa")
    until = t("fa", "Confirm by {time} ({minutes} min left)")
    assert until.format(time="۰۶:۱۵", minutes="۱۵") in screen.text.split("\n")
    assert "\u2068123 ABC 02\u2069" in screen.text and "۰۸:۰۰ (آلماتی)" in screen.text
    assert until.format(time="۰۶:۱۵", minutes="۴") in later.text.split("\n"), "the minutes left when it was taken"
    assert _rows(screen) == [[t("fa", "✅ Confirm")], [t("fa", "Cancel")]]
    assert [HoldCb.unpack(p).action for p in _payloads(screen)] == [HoldAction.CONFIRM, HoldAction.CANCEL]


def test_days_without_free_places_are_not_offered(speaking, khorgos):
    days = [DayShown(date(2026, 11, 23), 0), DayShown(date(2026, 11, 24), 480), DayShown(date(2026, 11, 25), 3)]
    with speaking("ru"):
        screen = booking.choose_day(khorgos, TRUCK.id, days, "ru")
        all_full = booking.choose_day(khorgos, TRUCK.id, [DayShown(date(2026, 11, 23), 0)], "ru")
    assert _rows(screen) == [["24 нояб., вт · 480"], ["25 нояб., ср · 3"], [t("ru", "◀ Back"), t("ru", "Cancel")]]
    assert _payloads(screen)[0].endswith(":2026-11-24")
    assert DayCb.unpack(_payloads(screen)[0]).day == date(2026, 11, 24)
    assert _rows(all_full) == [[t("ru", "◀ Back")]] and "Хоргос" in all_full.text, "back to the checkpoints"


def test_times_come_three_to_a_row_with_back_and_cancel_below(speaking, khorgos):
    slots = [Offer(10 + i, "khorgos", MONDAY_8_ALMATY + timedelta(minutes=30 * i), 20 - i) for i in range(5)]
    with speaking("fa"):
        screen = booking.choose_slot(khorgos, TRUCK.id, date(2026, 11, 23), slots, "fa")
    assert "دوشنبه ۲ آذر (آلماتی)" in screen.text, "the buttons' times are the checkpoint's"
    assert _rows(screen) == [
        ["۰۸:۰۰ · ۲۰", "۰۸:۳۰ · ۱۹", "۰۹:۰۰ · ۱۸"], ["۰۹:۳۰ · ۱۷", "۱۰:۰۰ · ۱۶"],
        [t("fa", "◀ Days"), t("fa", "Cancel")],
    ]
    assert SlotCb.unpack(_payloads(screen)[4]).slot_id == 14


def test_my_bookings_come_in_pages_of_eight_and_a_page_past_the_end_shows_the_last(speaking, khorgos):
    listed = [(khorgos, _hold(100 + i, ref=f"REF{i:04d}", starts_at=MONDAY_8_ALMATY + timedelta(hours=i)))
              for i in range(17)]
    with speaking("ru"):
        first = bookings.my_bookings(listed, "ru", NOW)
        last = bookings.my_bookings(listed, "ru", NOW, page=99)
    assert sum(f"REF{i:04d}" in first.text for i in range(17)) == 8
    assert _rows(first)[-1] == ["▶"] and len(_rows(first)) == 17  # each booking: Other time, Cancel
    assert "REF0016" in last.text and sum(f"REF{i:04d}" in last.text for i in range(17)) == 1
    assert _rows(last)[-1] == ["◀"] and BookingsPageCb.unpack(_payloads(last)[-1]).page == 2


def test_my_bookings_lists_running_holds_first_with_minutes_left_confirm_and_cancel(speaking, khorgos):
    listed = [(khorgos, _hold(7, expires_at=NOW + timedelta(minutes=11, seconds=30))),
              (khorgos, _hold(8, ref="ACD3467", starts_at=MONDAY_8_ALMATY + timedelta(days=1)))]
    with speaking("ru"):
        screen = bookings.my_bookings(listed, "ru", NOW)
    held, booked = screen.text.split("\n\n")[1:]
    assert "⏳" in held and "08:00 (Алматы)" in held and "123 ABC 02" in held
    assert tn("ru", "Held: confirm within {minutes} minute", "Held: confirm within {minutes} minutes",
              12).format(minutes=12) in held
    assert "ACD3467" in booked and "вторник, 24 ноября, 08:00 (Алматы)" in booked
    label = "08:00 · 123 ABC 02"
    assert _rows(screen) == [[t("ru", "✅ Confirm {time}").format(time=label)],
                             [t("ru", "Cancel hold {time}").format(time=label)],
                             [t("ru", "🔁 Other time {ref}").format(ref="ACD3467")],
                             [t("ru", "Cancel {ref}").format(ref="ACD3467")]]
    # The list's own payload for a hold, with its page: the answer is the page again (handlers.bookings).
    assert [ListHoldCb.unpack(p) for p in _payloads(screen)[:2]] == [
        ListHoldCb(action=HoldAction.CONFIRM, hold_id=7, page=1),
        ListHoldCb(action=HoldAction.CANCEL, hold_id=7, page=1)]


def test_a_time_picked_under_other_time_is_labelled_as_chosen(speaking, khorgos):
    with speaking("fa"):
        screen = booking.offer(khorgos, Offer(3, "khorgos", MONDAY_8_ALMATY, 20), TRUCK, 15, "fa", picked=True)
    assert t("fa", "Chosen time: <b>{when}</b>").split("<b>")[0] in screen.text
    assert t("fa", "First free time: <b>{when}</b>").split("<b>")[0] not in screen.text
    assert "۰۸:۰۰ (آلماتی)" in screen.text


def test_names_and_plates_with_markup_characters_are_escaped(speaking):
    with speaking("ru"):
        assert "&lt;Ali &amp; Sons&gt;" in start.welcome("<Ali & Sons>").text
        listing = trucks.trucks_list([TruckView(1, "<b>", None)], "ru")
    assert "&lt;b&gt;" in listing.text


def test_every_payload_fits_telegrams_64_bytes_even_with_the_largest_ids(speaking):
    longest = Checkpoint(code="a" * 16, names={"kk": "K", "ru": "R", "fa": "F"}, timezone="Asia/Almaty")
    truck = TruckView(id=LARGEST_ID, plate="1234567890", trailer_plate="1234567890")
    held = HoldView(id=LARGEST_ID, account_id=ACCOUNT_ID_MAX, truck_id=LARGEST_ID, plate=truck.plate,
                    checkpoint=longest.code, slot_id=LARGEST_ID, starts_at=MONDAY_8_ALMATY,
                    status=ReservationStatus.BOOKED, expires_at=MONDAY_8_ALMATY, ref="ACDEFGH")
    offer = Offer(LARGEST_ID, longest.code, MONDAY_8_ALMATY, 20)
    with speaking("fa"):
        screens = [
            start.choose_language(), trucks.trucks_list([truck], "fa"), trucks.ask_trailer(truck, "fa"),
            trucks.ask_remove_truck(truck, "fa"), booking.choose_checkpoint([longest], "fa"),
            booking.choose_truck(longest, [truck], "fa"), booking.offer(longest, offer, truck, 15, "fa"),
            booking.choose_day(longest, truck.id, [DayShown(date(2026, 11, 23), 9999),
                                                   DayShown(date(2026, 11, 24), 0, held)], "fa"),
            booking.choose_slot(longest, truck.id, date(2026, 11, 23), [offer], "fa"),
            booking.hold(longest, held, NOW, "fa"), booking.hold_expired(longest, truck.id),
            bookings.my_bookings([(longest, replace(held, status=ReservationStatus.HELD))] * 3 + [(longest, held)] * 20,
                                 "fa", NOW, page=2),
            bookings.my_bookings([(longest, replace(held, status=ReservationStatus.HELD))], "fa", NOW),
            bookings.ask_cancel_booking(longest, held, "fa"),
        ]
    payloads = [p for screen in screens for p in _payloads(screen)]
    assert len(payloads) > 20
    assert max(len(p.encode()) for p in payloads) <= 64


def test_a_plate_held_from_another_account_is_refused_by_plate_without_saying_when(speaking, khorgos):
    iranian = TruckView(id=9, plate="12ع34567", trailer_plate=None)
    for language, plate in (("ru", "123 ABC 02"), ("kk", "123 ABC 02"), ("fa", "\u2068123 ABC 02\u2069")):
        with speaking(language):
            text = booking.plate_busy(khorgos, TRUCK, language)
        assert text == t(language, "Truck {plate} already has a time at {checkpoint} that day, held or booked from "
                                   "another Telegram account.").format(plate=plate, checkpoint=khorgos.name(language))
    with speaking("fa"):
        assert "\u2068۱۲ ع ۳۴۵ ایران ۶۷\u2069" in booking.plate_busy(khorgos, iranian, "fa")


def test_an_invalid_plate_shows_one_plate_of_each_country_as_it_is_written(speaking):
    with speaking("ru"):
        text = trucks.invalid_plate("ru").text
    for shown in ("123 ABC 02", "А 123 ВС 77", "01 KG 123 ABC", "01 A 123 BC", "新A·12345", "34 ABC 123"):
        assert f"<code>{shown}</code>" in text
    with speaking("fa"):
        assert "<code>\u2068۱۲ ع ۳۴۵ ایران ۶۷\u2069</code>" in trucks.invalid_plate("fa").text


@pytest.mark.parametrize("language", ["kk", "ru", "fa"])
def test_start_says_what_the_bot_does_and_start_and_help_list_every_command_of_the_menu(speaking, language):
    with speaking(language):
        menu = [command for command, _description in start.command_menu()]
        welcome, help_text = start.welcome("Aigerim").text, start.help_text(15, language).text
    assert {"book", "mybookings", "trucks", "myrating", "support", "language", "help", "cancel"} <= set(menu)
    for command in menu:
        assert f"/{command} — " in welcome and f"/{command} — " in help_text, command
    assert "Nobat" in welcome and "نوبت»" not in welcome, "the bot's name, in Latin in every language"
    notices = {"kk": "хабарламалар", "ru": "уведомления", "fa": "اعلان"}[language]
    assert notices in welcome, "status notices come to this chat"

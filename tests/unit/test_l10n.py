"""Dates, times, digits and plates as each driver reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from handlers.common.l10n import digits, latin, local_date, local_datetime, plate_text, short_date, where_and_when
from services.accounts.trucks import TruckView


@pytest.mark.parametrize("day, shown", [
    (date(2026, 11, 23), "دوشنبه ۲ آذر"),
    # Weekday names joined by the zero-width non-joiner, as Persian writes them.
    (date(2026, 11, 24), "سه\u200cشنبه ۳ آذر"),
    (date(2026, 11, 26), "پنج\u200cشنبه ۵ آذر"),
    (date(2026, 11, 29), "یک\u200cشنبه ۸ آذر"),
    # The last day of the Solar Hijri year 1405 and Nowruz, the first of 1406.
    (date(2027, 3, 20), "شنبه ۲۹ اسفند"),
    (date(2027, 3, 21), "یک\u200cشنبه ۱ فروردین"),
])
def test_persian_dates_are_solar_hijri_in_persian_digits(day, shown):
    assert local_date(day, "fa") == shown


def test_kazakh_and_russian_dates_follow_their_cldr_formats():
    assert local_date(date(2026, 11, 26), "ru") == "четверг, 26 ноября"
    assert local_date(date(2026, 11, 26), "kk") == "26 қараша, бейсенбі"
    assert short_date(date(2026, 11, 26), "ru") == "26 нояб., чт"
    assert short_date(date(2026, 11, 26), "fa") == "پنج\u200cشنبه ۵ آذر", "a day button says its weekday"


def test_one_moment_is_shown_in_each_checkpoints_own_time_zone(khorgos, bazargan):
    moment = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    # Each says whose clock it is: a driver's phone may be on the other side's time.
    assert where_and_when(khorgos, moment, "ru") == "Хоргос, понедельник, 23 ноября, 08:00 (Алматы)"  # UTC+5
    assert where_and_when(bazargan, moment, "fa") == "بازرگان، دوشنبه ۲ آذر، ۰۶:۳۰ (تهران)"  # UTC+3:30
    assert where_and_when(khorgos, moment, "kk") == "Қорғас, 23 қараша, дүйсенбі, 08:00 (Алматы)"
    # Late evening UTC is already the next day in Almaty.
    assert local_datetime(datetime(2026, 11, 23, 20, 0, tzinfo=UTC), khorgos.tz, "ru") == \
        "вторник, 24 ноября, 01:00 (Алматы)"


def test_only_persian_gets_persian_digits_and_isolated_latin_codes():
    assert digits("08:30", "fa") == "۰۸:۳۰" and digits("08:30", "kk") == "08:30"
    assert latin("A3HU3MA", "fa") == "\u2068A3HU3MA\u2069" and latin("A3HU3MA", "ru") == "A3HU3MA"


def test_a_plate_with_its_trailer_is_escaped_and_kept_left_to_right_in_persian():
    truck = TruckView(id=1, plate="12IR345", trailer_plate="88TR02")
    assert plate_text(truck, "fa") == "\u206812 IR 345 / 88 TR 02\u2069"
    assert plate_text("<A&B>", "ru") == "&lt;A&amp;B&gt;"


def test_each_plate_is_shown_as_its_country_writes_it_and_an_iranian_one_in_persian_digits_in_persian():
    assert plate_text("A123BC77", "ru") == "А 123 ВС 77"
    assert plate_text("新A1234挂", "kk") == "新A·1234挂"
    assert plate_text("12ع34567", "fa") == "\u2068۱۲ ع ۳۴۵ ایران ۶۷\u2069"
    # In left-to-right text the Persian letter does not drag the digits after it out of order.
    assert plate_text("12ع34567", "ru") == "\u206612 \u2068ع\u2069 345-67\u2069"
    # A plate stored before these formats is shown as stored.
    assert plate_text(TruckView(id=1, plate="55XYZ01", trailer_plate=None), "ru") == "55XYZ01"

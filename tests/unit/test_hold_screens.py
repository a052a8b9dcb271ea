"""The hold's screens and the days of "Other time", rendered without a bot: the crossing time says
today or tomorrow at the checkpoint, the time to confirm by has its own line, and the day the truck
has its time already is shown, not bookable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from handlers.booking import screens as booking
from handlers.booking.callbacks import DayCb
from handlers.common.l10n import where_and_when
from services.accounts.trucks import TruckView
from services.booking.calendar import Offer
from services.booking.outcomes import DayShown, HoldView
from services.storage.models import ReservationStatus
from tests.story import t

MONDAY_8_ALMATY = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
NOW = MONDAY_8_ALMATY - timedelta(hours=2)  # Monday 06:00 in Almaty
TRUCK = TruckView(id=7, plate="123ABC02", trailer_plate=None)


def _hold(starts_at: datetime = MONDAY_8_ALMATY, *, ref: str | None = None) -> HoldView:
    return HoldView(id=41, account_id=5001, truck_id=TRUCK.id, plate=TRUCK.plate, checkpoint="khorgos", slot_id=3,
                    starts_at=starts_at, status=ReservationStatus.BOOKED if ref else ReservationStatus.HELD,
                    expires_at=NOW + timedelta(minutes=15), ref=ref)


def _lines(screen) -> list[str]:
    return screen.text.split("\n")


def test_the_hold_says_today_and_confirm_by_on_a_line_of_its_own(speaking, khorgos):
    with speaking("ru"):
        screen = booking.hold(khorgos, _hold(), NOW, "ru")
    assert _lines(screen)[1] == "Хоргос, сегодня, 23 ноября, 08:00 (Алматы)"
    assert "Подтвердите до 06:15 (осталось 15 мин)" in _lines(screen)
    assert t("ru", "Otherwise the time goes back to the queue.") in _lines(screen)
    assert [button.text for row in screen.reply_markup.inline_keyboard for button in row] == [
        t("ru", "✅ Confirm"), t("ru", "Cancel")]


def test_the_hold_says_tomorrow_in_kazakh_and_persian(speaking, khorgos):
    tuesday = MONDAY_8_ALMATY + timedelta(days=1, hours=2)
    with speaking("kk"):
        kazakh = booking.hold(khorgos, _hold(tuesday), NOW, "kk")
    with speaking("fa"):
        persian = booking.hold(khorgos, _hold(tuesday), NOW + timedelta(minutes=3), "fa")
    assert _lines(kazakh)[1] == "Қорғас, ертең, 24 қараша, 10:00 (Алматы)"
    assert "Растау мерзімі: 06:15 (15 мин қалды)" in _lines(kazakh)
    assert _lines(persian)[1] == "خورگوس، فردا، ۳ آذر، ۱۰:۰۰ (آلماتی)"
    assert "تا ۰۶:۱۵ تأیید کنید (۱۲ دقیقه مانده)" in _lines(persian)


def test_a_time_after_tomorrow_keeps_its_weekday(speaking, khorgos):
    with speaking("ru"):
        screen = booking.hold(khorgos, _hold(MONDAY_8_ALMATY + timedelta(days=2)), NOW, "ru")
        undated = where_and_when(khorgos, MONDAY_8_ALMATY, "ru")
    assert _lines(screen)[1] == "Хоргос, среда, 25 ноября, 08:00 (Алматы)"
    assert undated == "Хоргос, понедельник, 23 ноября, 08:00 (Алматы)", "without `now`, as before"


def test_today_and_tomorrow_are_the_checkpoints_not_utcs(speaking, khorgos, bazargan):
    """23:30 on Monday in Almaty is 18:30 UTC: a crossing at 00:30 there is tomorrow, though the same
    day in UTC; and in Tehran (UTC+3:30) that moment is still Monday."""
    late_monday = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
    with speaking("ru"):
        almaty = where_and_when(khorgos, datetime(2026, 11, 23, 19, 30, tzinfo=UTC), "ru", late_monday)
        tehran = where_and_when(bazargan, datetime(2026, 11, 24, 4, 0, tzinfo=UTC), "ru", late_monday)
    assert almaty == "Хоргос, завтра, 24 ноября, 00:30 (Алматы)"
    assert tehran == "Базарган, завтра, 24 ноября, 07:30 (Тегеран)"


def test_the_offer_and_the_booking_say_today_too(speaking, khorgos):
    with speaking("ru"):
        offer = booking.offer(khorgos, Offer(3, "khorgos", MONDAY_8_ALMATY, 20), TRUCK, 15, "ru", now=NOW)
        booked = booking.booked(khorgos, _hold(ref="ACD3467"), "ru", NOW)
    assert "сегодня, 23 ноября, 08:00 (Алматы)" in offer.text
    assert "Хоргос, сегодня, 23 ноября, 08:00 (Алматы)" in _lines(booked)


def test_the_day_the_truck_has_its_time_is_shown_not_bookable(speaking, khorgos):
    days = [DayShown(date(2026, 11, 23), 0, _hold(ref="ACD3467")), DayShown(date(2026, 11, 24), 480),
            DayShown(date(2026, 11, 25), 0),
            DayShown(date(2026, 11, 26), 3, _hold(MONDAY_8_ALMATY + timedelta(days=3)))]
    with speaking("ru"):
        screen = booking.choose_day(khorgos, TRUCK.id, days, "ru")
    rows = [[button.text for button in row] for row in screen.reply_markup.inline_keyboard]
    assert rows == [["23 нояб., пн · бронь на 08:00"], ["24 нояб., вт · 480"], ["26 нояб., чт · закреплено на 08:00"],
                    [t("ru", "◀ Back"), t("ru", "Cancel")]]
    # Its button names the day, which the booking answers with the alert naming the truck's time.
    assert DayCb.unpack(screen.reply_markup.inline_keyboard[0][0].callback_data).day == date(2026, 11, 23)


def test_a_stale_confirm_is_answered_by_an_alert_that_says_what_became_of_the_hold(speaking):
    with speaking("kk"):
        expired, cancelled = booking.hold_expired_alert(), booking.hold_cancelled_alert()
    assert expired == t("kk", "⌛ Your hold has expired, nothing was booked. The time went back to the queue.")
    assert cancelled == t("kk", "Hold cancelled, nothing was booked. /book — start again")
    assert len(expired) <= 200 and len(cancelled) <= 200, "Telegram's alerts hold 200 characters"

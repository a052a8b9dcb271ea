"""What agents read of a ticket: its topic's name and the context card, escaped, without a bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.support import screens
from services.accounts.trucks import TruckView
from services.booking.fairness import Rating
from services.booking.outcomes import HoldView
from services.storage.models import ReservationStatus
from services.support.tables import TicketStatus
from services.support.views import TicketView

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
TICKET = TicketView(7, 5001, TicketStatus.OPEN, None, None, None, None, NOW, None, None)
TRUCK = TruckView(id=1, plate="123ABC02", trailer_plate=None)


def test_a_topic_is_named_by_flag_name_plate_and_number_within_telegrams_limit():
    assert screens.topic_name(TICKET, "Иван", "ru", [TRUCK]) == "🇷🇺 Иван · 123 ABC 02 · #7"
    assert screens.topic_name(TICKET, "Ali", "fa", []) == "🇮🇷 Ali · #7"
    assert screens.topic_name(TICKET, "Асқар", "kk", [TRUCK]).startswith("🇰🇿 Асқар")
    long = screens.topic_name(TICKET, "x" * 300, "kk", [TRUCK])
    assert len(long) == 128 and long.endswith(" · #7")


def test_the_context_card_shows_the_drivers_situation_escaped(speaking, khorgos):
    checkpoint = khorgos
    hold = HoldView(id=3, account_id=5001, truck_id=1, plate="123ABC02", checkpoint=checkpoint.code, slot_id=1,
                    starts_at=NOW + timedelta(hours=3), status=ReservationStatus.BOOKED,
                    expires_at=NOW + timedelta(minutes=15), ref="K7<Q>")
    rating = Rating(taken=4, decided=4, confirmed=1, blocked_until=None, banned_until=NOW + timedelta(days=1),
                    ban_reason="<resale>")
    with speaking("ru"):
        card = screens.context_card(TICKET, 5001, "<Иван>", "fa", [TRUCK], [hold], {checkpoint.code: checkpoint},
                                    rating, NOW, "ru")
    assert "&lt;Иван&gt;" in card.text and "K7&lt;Q&gt;" in card.text and "&lt;resale&gt;" in card.text
    assert "فارسی" in card.text and "123 ABC 02" in card.text and "<b>Обращение №7</b>" in card.text
    assert "подтверждено 1 из 4" in card.text


def test_the_context_card_shows_the_shared_phone_and_the_last_status_notice(speaking, khorgos):
    from services.notices.cards import NoticeEvent

    rating = Rating(taken=0, decided=0, confirmed=0, blocked_until=None, banned_until=None, ban_reason=None)
    notice = NoticeEvent(1, "documents_required", "khorgos", NOW - timedelta(hours=1), "123ABC02", None,
                         {"documents": ["<CMR>"]})
    with speaking("ru"):
        card = screens.context_card(TICKET, 5001, "Иван", "ru", [TRUCK], [], {"khorgos": khorgos}, rating, NOW,
                                    "ru", phone="77011234567", last_notice=notice)
        bare = screens.context_card(TICKET, 5001, "Иван", "ru", [TRUCK], [], {"khorgos": khorgos}, rating, NOW, "ru")
    assert "Телефон: +77011234567" in card.text
    assert "Последнее уведомление о статусе: Нужны документы (123 ABC 02, " in card.text and "05:00" in card.text
    assert "Телефон: —" in bare.text and "Последнее уведомление" not in bare.text


def test_closing_offers_five_ratings_in_the_drivers_language_and_a_stale_rating_is_refused_in_it(speaking):
    closed = TicketView(7, 5001, TicketStatus.CLOSED, 900, None, None, None, NOW, None, NOW)
    with speaking("fa"):
        screen = screens.closed_rate_it(closed, "fa")
        thanks = screens.thanks_for_rating(TicketView(7, 5001, TicketStatus.CLOSED, 900, None, None, 4, NOW, None,
                                                      NOW), "fa")
        refused = screens.cannot_rate()
    buttons = [b for row in screen.reply_markup.inline_keyboard for b in row]
    assert [b.text for b in buttons] == ["۱ ⭐", "۲ ⭐", "۳ ⭐", "۴ ⭐", "۵ ⭐"]
    assert [b.callback_data for b in buttons] == [f"sr:7:{n}" for n in range(1, 6)]
    assert "درخواست شماره ۷" in screen.text and "۱ (بد) تا ۵ (عالی)" in screen.text
    assert "۴ از ۵" in thanks.text and thanks.reply_markup is None
    assert refused == "فقط به درخواست بسته\u200cشدهٔ خودتان می\u200cتوان امتیاز داد."
    with speaking("ru"):
        assert screens.delivered(7).reply_markup.inline_keyboard[0][0].text == "✖ Закрыть обращение"
        assert screens.delivered().reply_markup is None


def test_the_list_of_open_tickets_stays_within_telegrams_limit_however_many_there_are(speaking):
    def ticket(number: int, name: str, assignee: str | None) -> TicketView:
        return TicketView(number, 5000 + number, TicketStatus.OPEN, 100 + number, 1 if assignee else None,
                          assignee, None, NOW - timedelta(minutes=number), None, None, name)

    with speaking("ru"):
        few = screens.open_tickets([ticket(3, "<Иван>", "Aigerim"), ticket(1, "Ali", None)],
                                   NOW + timedelta(hours=26), -100777, "ru")
        many = screens.open_tickets([ticket(n, "И" * 300, "A" * 300) for n in range(1, 400)], NOW, -100777, "ru")
        none = screens.open_tickets([], NOW, -100777, "ru")
    assert few.text.split("\n")[1] == ('<a href="https://t.me/c/777/103">#3</a> · &lt;Иван&gt; · 1 д 2 ч · '
                                       'Aigerim')
    assert few.text.split("\n")[2].endswith(" · Ali · 1 д 2 ч · никто")
    assert len(many.text) <= 4096
    shown = many.text.count("t.me/c/777/")
    assert many.text.endswith(f"… и ещё {399 - shown}") and shown > 10
    assert none.text == "Открытых обращений нет."


def test_a_canned_answer_reads_in_each_language_with_the_configured_minutes(speaking):
    from handlers.support.canned import CANNED, find
    from services.kernel.rules import BookingRules

    rules = BookingRules(hold_minutes=20)
    assert set(CANNED) == {"book", "cancel", "docs", "hold", "paused", "notices"}
    assert find(" HOLD ") is CANNED["hold"] and find("nope") is None
    with speaking("fa"):
        persian = CANNED["hold"].text(rules, "fa")
        docs = CANNED["docs"].text(rules, "fa")
    with speaking("kk"):
        kazakh = CANNED["book"].text(rules, "kk")
    assert persian.startswith("<b>نوبت نگه\u200cداشته چیست</b>\n") and "۲۰ دقیقه" in persian
    assert "\u2068CMR\u2069" in docs
    assert "20 минутқа" in kazakh and "«Әрі қарай»" in kazakh


def test_a_fleets_context_card_shows_what_fits_telegrams_length_and_counts_the_rest(speaking, khorgos):
    """A dispatcher with 60 trucks, each booked: every line of them would pass 4,096 characters."""
    from handlers.common.screen import shown_length
    from local_bot_api import format_text

    trucks = [TruckView(id=n, plate=f"{100 + n}ABC02", trailer_plate=None) for n in range(60)]
    booked = [HoldView(id=n, account_id=5001, truck_id=n, plate=f"{100 + n}ABC02", checkpoint="khorgos", slot_id=n,
                       starts_at=NOW + timedelta(hours=3 + n), status=ReservationStatus.BOOKED,
                       expires_at=NOW, ref=f"K{n:04d}") for n in range(60)]
    rating = Rating(taken=60, decided=60, confirmed=60, blocked_until=None, banned_until=None, ban_reason=None)
    with speaking("ru"):
        whole = screens.context_card(TICKET, 5001, "Иван", "ru", trucks, booked, {"khorgos": khorgos}, rating, NOW,
                                     "ru", limit=10**6).text
        card = screens.context_card(TICKET, 5001, "Иван", "ru", trucks, booked, {"khorgos": khorgos}, rating, NOW,
                                    "ru").text
    assert shown_length(whole) > 4096
    shown = format_text(card, "HTML", None).text  # Telegram takes it
    assert 3500 < len(shown) <= 4096
    listed = [n for n in range(60) if f"K{n:04d}" in shown]
    assert listed == list(range(len(listed))) and 10 < len(listed) < 60, "the soonest bookings, in order"
    assert f"… и ещё {60 - len(listed)}" in shown, "the rest counted"
    assert "100 ABC 02" in shown and "подтверждено 60 из 60" in shown, "the trucks and the rating still there"

"""What agents read of a ticket: its topic's name and the context card, escaped, without a bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.support import screens
from services.fairness import Rating
from services.outcomes import HoldView
from services.storage import ReservationStatus
from services.support import TicketStatus, TicketView
from services.trucks import TruckView

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

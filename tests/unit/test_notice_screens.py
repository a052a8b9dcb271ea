"""The status card and the ringing notices, in each language, for every event type."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from handlers.notices import screens
from local_bot_api import format_text
from services.notices.cards import Card, NoticeEvent, card_key
from services.notices.types import REMINDER, EventType, rings

AT = datetime(2026, 11, 23, 4, 5, tzinfo=UTC)  # 09:05 in Almaty, 07:35 in Tehran
DETAILS = {
    EventType.QUEUE_POSITION: {"queue_position": 12},
    EventType.CALLED: {"gate": "3", "lane": "2"},
    EventType.DOCUMENTS_REQUIRED: {"documents": ["CMR", "TIR carnet <original>"]},
    EventType.BOOKING_MOVED: {"new_time": "2026-11-24T05:30:00+00:00"},
    EventType.BOOKING_CANCELLED: {"reason": "Road closed & snow"},
    REMINDER: {"starts_at": "2026-11-23T08:00:00+00:00"},
}
TYPES = [*EventType, REMINDER]
LANGUAGES = ["kk", "ru", "fa"]


def event(kind: str, event_id: int = 1, at: datetime = AT, **extra) -> NoticeEvent:
    return NoticeEvent(event_id, kind, "khorgos", at, plate="123ABC02", booking_ref=extra.get("ref", "K7Q2M"),
                       details=DETAILS.get(kind, {}))


def shown(text: str) -> str:
    """The text as the driver sees it; also proves the HTML is one Telegram accepts."""
    return format_text(text, "HTML", None).text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", TYPES)
def test_every_event_renders_on_the_card_and_as_a_ringing_notice(kind, language, speaking, khorgos):
    card = Card("ref:K7Q2M", "123ABC02", "K7Q2M", "khorgos", ()).with_event(event(kind))
    with speaking(language):
        text = shown(screens.card(card, khorgos, language).text)
        ringing = shown(screens.action(event(kind), khorgos, language).text)
        now = screens.status(kind, DETAILS.get(kind, {}), language)
    with speaking("ru"):
        russian = screens.status(kind, DETAILS.get(kind, {}), "ru")
    assert khorgos.name(language) in text and "K7Q2M" in text and "123 ABC 02" in text
    assert ("۰۹:۰۵" if language == "fa" else "09:05") in text
    assert shown(now) in text and "Status" not in text and (language == "ru" or now != russian)
    if rings(kind):
        assert ringing != text and khorgos.name(language) in ringing


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_card_shows_the_time_line_in_the_checkpoints_time_and_the_gate(language, speaking, khorgos):
    card = Card("ref:K7Q2M", "123ABC02", "K7Q2M", "khorgos", ())
    for i, kind in enumerate([EventType.BOOKING_CONFIRMED, EventType.QUEUE_POSITION, EventType.CALLED]):
        card = card.with_event(event(kind, i + 1, AT + timedelta(minutes=10 * i)))
    with speaking(language):
        text = shown(screens.card(card, khorgos, language).text)
    times = ["09:05", "09:15", "09:25"]
    if language == "fa":
        times = [t.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) for t in times]
    assert [text.index(t) for t in times] == sorted(text.index(t) for t in times)
    assert ("۳" if language == "fa" else "3") in text.split("\n")[2]  # the gate, under the status


def test_the_ringing_messages_say_what_to_do(speaking, khorgos):
    with speaking("ru"):
        called = shown(screens.action(event(EventType.CALLED), khorgos, "ru").text)
        documents = shown(screens.action(event(EventType.DOCUMENTS_REQUIRED), khorgos, "ru").text)
        moved = shown(screens.action(event(EventType.BOOKING_MOVED), khorgos, "ru").text)
        cancelled = shown(screens.action(event(EventType.BOOKING_CANCELLED), khorgos, "ru").text)
        released = shown(screens.action(event(EventType.RELEASED), khorgos, "ru").text)
    assert "Ворота 3, полоса 2" in called
    assert "• CMR" in documents and "• TIR carnet <original>" in documents  # escaped, shown as sent
    assert "10:30" in moved  # 05:30 UTC in Almaty
    assert "Road closed & snow" in cancelled and "/book" in cancelled
    assert "проезжайте" in released


def test_persian_keeps_plates_and_references_isolated(speaking, bazargan):
    with speaking("fa"):
        text = screens.action(NoticeEvent(1, EventType.CALLED, "bazargan", AT, "123ABC02", "K7Q2M",
                                          {"gate": "A3"}), bazargan, "fa").text
    assert "\u2068" in text and "K7Q2M" in text and "۰۷:۳۵" not in text
    assert "دروازهٔ" in text


def test_a_card_is_one_per_booking_or_per_plate_checkpoint_and_local_day(khorgos):
    assert card_key(event(EventType.CALLED), khorgos) == "ref:K7Q2M"
    night = NoticeEvent(1, EventType.ARRIVED, "khorgos", datetime(2026, 11, 23, 20, 0, tzinfo=UTC), "123ABC02")
    assert card_key(night, khorgos) == "plate:123ABC02:khorgos:2026-11-24"  # 01:00 the next day in Almaty


def test_an_event_shown_already_changes_nothing_and_late_ones_go_in_their_place():
    card = Card("k", "123ABC02", None, "khorgos", ()).with_event(event(EventType.ARRIVED, 2, AT))
    assert card.with_event(event(EventType.ARRIVED, 2, AT)) is card
    earlier = card.with_event(event(EventType.CALLED, 3, AT - timedelta(minutes=5)))
    assert [e.type for e in earlier.timeline] == [EventType.CALLED, EventType.ARRIVED]
    assert earlier.current.type == EventType.ARRIVED


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_long_day_of_statuses_keeps_the_latest_that_fit_telegrams_length_and_counts_the_rest(
        language, speaking, khorgos):
    """One status every 5 minutes from 05:00 to 23:55 and on past midnight: over 200 lines, far past
    4,096 characters. The card keeps the latest, each day under its date, and counts the earlier."""
    from handlers.common.screen import shown_length
    from local_bot_api import utf16_len

    start = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 05:00 in Almaty
    kinds = [EventType.QUEUE_POSITION, EventType.ARRIVED, EventType.INSPECTION_STARTED]
    card = Card("ref:K7Q2M", "123ABC02", "K7Q2M", "khorgos", ())
    for n in range(230):
        card = card.with_event(event(kinds[n % 3], n + 1, start + timedelta(minutes=5 * n)))
    with speaking(language):
        text = shown(screens.card(card, khorgos, language).text)
        whole = screens.card(card, khorgos, language, limit=10**6).text  # past what Telegram takes
        everything = html.unescape(re.sub(r"<[^>]*>", "", whole))
        last_day, first_day = (screens.local_date(d, language) for d in (datetime(2026, 11, 24).date(),
                                                                       datetime(2026, 11, 23).date()))
    assert shown_length(whole) > 4096, "the day's statuses would not fit"
    assert 4096 - 60 < utf16_len(text) <= 4096, "as much as fits, and no more"
    kept = sum(1 for line in text.splitlines() if " — " in line)
    earlier = 230 - kept
    lines = text.splitlines()
    counted = lines[lines.index("") + 1]
    assert earlier > 0 and screens.digits(earlier, language) in counted and " — " not in counted
    assert lines[-1] == everything.splitlines()[-1], "the latest status is the last line"
    # The statuses after midnight under their own date, the ones before under theirs.
    assert lines[lines.index("") + 2] == first_day and lines[-3] == last_day
    # Every status line kept is one of the latest, in order, with nothing skipped.
    assert [line for line in lines if " — " in line] == [line for line in everything.splitlines()
                                                          if " — " in line][-kept:]

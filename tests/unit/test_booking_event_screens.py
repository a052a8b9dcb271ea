"""The card and the call, as the border's statuses change what applies: a gate no longer applies once
the truck left or the booking moved; 'arrived' is the waiting area; a call says how long to the gate.
And the event model takes a move only with its new time, a deadline only on a call, after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from handlers.notices import screens
from local_bot_api import format_text
from services.notices.cards import Card, NoticeEvent
from services.notices.events import event_model
from services.notices.types import EventType
from tests.border import event

AT = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)  # 06:05 in Almaty
LANGUAGES = ["kk", "ru", "fa"]
WORDS = {  # the call's deadline, in the reader's words: 20 minutes, by 06:25
    "kk": "Қақпаға 20 минут ішінде жетіңіз. Соңғы мерзім: 06:25 (Алматы).",
    "ru": "До ворот нужно доехать за 20 минут, до 06:25 (Алматы).",
    "fa": "ظرف ۲۰ دقیقه، تا ۰۶:۲۵ (آلماتی)، خود را به دروازه برسانید.",
}


def shown(text: str) -> str:
    return format_text(text, "HTML", None).text


def notice(kind: str, n: int, minutes: int = 0, **details) -> NoticeEvent:
    return NoticeEvent(n, kind, "khorgos", AT + timedelta(minutes=minutes), "123ABC02", "K7Q2M", details)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("after", [EventType.BOOKING_MOVED, EventType.EXITED])
def test_the_gate_leaves_the_card_once_the_booking_moved_or_the_truck_left(language, after, speaking, khorgos):
    card = Card("ref:K7Q2M", "123ABC02", "K7Q2M", "khorgos", ()).with_event(notice(EventType.CALLED, 1, gate="3"))
    with speaking(language):
        gate = screens._place({"gate": "3"}, language)
        assert gate in screens.card(card, khorgos, language).text.split("\n")[2]
        later = card.with_event(notice(after, 2, 10, new_time="2026-11-24T05:30:00+00:00"))
        assert gate not in screens.card(later, khorgos, language).text
        # A status after the move that names no gate does not bring the old one back.
        still = later.with_event(notice(EventType.QUEUE_POSITION, 3, 20, queue_position=4))
        assert gate not in screens.card(still, khorgos, language).text
        # A new call names the gate again.
        called = still.with_event(notice(EventType.CALLED, 4, 30, gate="5"))
        assert screens._place({"gate": "5"}, language) in screens.card(called, khorgos, language).text


@pytest.mark.parametrize("language", LANGUAGES)
def test_arrived_is_the_waiting_area_not_the_checkpoint_it_is_then_called_to(language, speaking, khorgos):
    with speaking(language):
        arrived = screens.status(EventType.ARRIVED, {}, language)
        called = screens.status(EventType.CALLED, {}, language)
    assert arrived != called
    assert {"kk": "Күту аймағына", "ru": "в зону ожидания", "fa": "محوطهٔ انتظار"}[language] in arrived


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_call_says_how_long_the_driver_has_to_reach_the_gate(language, speaking, khorgos):
    with speaking(language):
        timed = shown(screens.action(notice(EventType.CALLED, 1, gate="3", deadline="2026-11-23T06:25:00+05:00"),
                                     khorgos, language).text)
        plain = shown(screens.action(notice(EventType.CALLED, 1, gate="3"), khorgos, language).text)
    assert WORDS[language] in timed and WORDS[language] not in plain
    assert timed.startswith(plain)


def test_a_move_needs_its_new_time_and_a_deadline_belongs_to_a_call_after_it():
    model = event_model(["khorgos"])
    model.model_validate(event("e-1", type="booking_moved", details={"new_time": "2026-11-24T10:00:00+05:00"}))
    model.model_validate(event("e-2", details={"deadline": "2026-11-23T06:25:00+05:00"}))
    for wrong in (event("e-3", type="booking_moved", details={}),
                  event("e-4", details={"deadline": "2026-11-23T06:05:00+05:00"}),  # not after occurred_at
                  event("e-5", type="arrived", details={"deadline": "2026-11-23T06:25:00+05:00"}),
                  event("e-6", details={"deadline": "2026-11-23T06:25:00"})):  # no zone
        with pytest.raises(ValidationError):
            model.model_validate(wrong)

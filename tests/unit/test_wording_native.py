"""Wording as a native reader expects it: Persian arrows, plates, list commas and one word for the
checkpoint; Kazakh terms and no case ending hung on a time the code fills in; Russian labels that
tell two figures apart and the name of Telegram's own Start button."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from handlers.bookings import screens as bookings
from handlers.common.l10n import comma
from handlers.fairness import screens as fairness
from handlers.operators import screens as operators
from handlers.trucks import following_screens
from handlers.trucks import screens as trucks
from services.accounts.follows import PhoneShared
from services.accounts.plates import Country, parse_plate
from services.booking.fairness import Rating
from services.booking.outcomes import HoldView
from services.kernel.rules import BookingRules
from services.storage.models import ReservationStatus
from tests.catalogs import LANGUAGES, all_text, one

MONDAY_8_ALMATY = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
WEDNESDAY_8_ALMATY = MONDAY_8_ALMATY + timedelta(days=2)
DESCRIPTION = ("Nobat is the electronic queue for trucks at the border crossings of Khorgos, Dostyk and Bazargan. "
               "Book a time to cross in this chat: I show the first free time, and nothing is reserved until you "
               "tap Next. Tap Start.")
HELLO = "Hello, {name}! I am Nobat, the electronic queue for trucks at border crossings."
PLATE_EXAMPLE_TEXTS = [
    "Send the truck's plate number, for example <code>123ABC02</code>.",
    "This does not look like a plate number. Send only letters and digits, for example <code>123ABC02</code>. "
    "/cancel — stop",
]


def _names_a_checkpoint(msgid: str) -> bool:
    """The English text says "checkpoint" in words (not in a {checkpoint} placeholder nor in a command's
    [checkpoint] argument)."""
    return "checkpoint" in re.sub(r"\{\w+\}|\[\w+\]|/\w+", "", msgid).lower()


def _booking(hold_id: int) -> HoldView:
    return HoldView(id=hold_id, account_id=5001, truck_id=7, plate="123ABC02", checkpoint="khorgos", slot_id=3,
                    starts_at=MONDAY_8_ALMATY + timedelta(hours=hold_id), status=ReservationStatus.BOOKED,
                    expires_at=MONDAY_8_ALMATY, ref=f"REF{hold_id:04d}")


# ---- Persian --------------------------------------------------------------------------------------

def test_persian_buttons_point_their_arrows_the_way_persian_reads():
    """"Next ▶" reads "ادامه ◀": forward is to the left in right-to-left text, back to the right."""
    for source, text in all_text("fa"):
        if source.endswith("▶"):
            assert text.endswith("◀") and "▶" not in text, (source, text)
        if source.startswith("◀"):
            assert text.startswith("▶") and "◀" not in text, (source, text)
    assert one("fa", "Next ▶") == "ادامه ◀"
    assert one("fa", "◀ Days") == "▶ روزها"


def test_persian_pages_of_my_bookings_turn_right_to_left(speaking, khorgos):
    listed = [(khorgos, _booking(i)) for i in range(20)]
    with speaking("fa"):
        middle = bookings.my_bookings(listed, "fa", MONDAY_8_ALMATY - timedelta(hours=2), page=2)
    with speaking("ru"):
        middle_ru = bookings.my_bookings(listed, "ru", MONDAY_8_ALMATY - timedelta(hours=2), page=2)
    turns = middle.reply_markup.inline_keyboard[-1]
    assert [(b.text, b.callback_data.rsplit(":", 1)[-1]) for b in turns] == [("◀", "3"), ("▶", "1")], \
        "the next page to the left, the one before to the right"
    turns_ru = middle_ru.reply_markup.inline_keyboard[-1]
    assert [(b.text, b.callback_data.rsplit(":", 1)[-1]) for b in turns_ru] == [("◀", "1"), ("▶", "3")]


@pytest.mark.parametrize("msgid", PLATE_EXAMPLE_TEXTS)
def test_persian_example_plate_is_an_iranian_plate_as_iranians_write_it(msgid):
    example = re.search(r"<code>(.*?)</code>", one("fa", msgid)).group(1)
    plate = parse_plate(example)
    assert plate is not None and plate.country is Country.IRAN, example
    assert example == plate.shown("fa"), "Persian digits and letters, the region after «ایران»"
    assert not re.search(r"[0-9A-Za-z]", example), example


def test_persian_lists_are_separated_with_the_persian_comma(speaking):
    with speaking("fa"):
        linked = following_screens.phone_linked(PhoneShared("77011234567", ("123ABC02", "12ع34567")), "fa").text
        examples = trucks.invalid_plate("fa").text.split("\n")[-1]
        codes = operators.unknown_checkpoint("xyz", ["khorgos", "dostyk"], "fa").text
    for text in (linked, examples, codes):
        assert "، " in text and ", " not in text, text
    with speaking("ru"):
        assert ", " in following_screens.phone_linked(PhoneShared("77011234567", ("123ABC02", "12ع34567")), "ru").text
    assert comma("fa") == "،"


# A checkpoint is a «گذرگاه» («گذرگاه مرزی»); «مرز» is the border itself: crossing it, the border service.
FA_BORDER_ITSELF = ("مرزبانی", "گذرگاه مرزی", "گذرگاه‌های مرزی", "از مرز")


def test_persian_one_word_for_the_checkpoint():
    for source, text in all_text("fa"):
        if _names_a_checkpoint(source):
            assert "گذرگاه" in text, (source, text)
        rest = text
        for phrase in FA_BORDER_ITSELF:
            rest = rest.replace(phrase, "")
        assert "مرز" not in rest, f"the checkpoint is «گذرگاه»: {text!r}"


def test_persian_calls_the_bot_nobat_in_latin_letters():
    """«نوبت» is the Persian word for a time in the queue: as the bot's name it reads "a slot"."""
    for source, text in all_text("fa"):
        assert "«نوبت»" not in text, text
    for msgid in (DESCRIPTION, HELLO):
        text = one("fa", msgid)
        assert "Nobat" in text, text
        first_letter = re.search(r"[^\W\d_]", text).group(0)
        assert "\u0600" <= first_letter <= "\u06ff", "a Persian word first, so the paragraph runs right to left"


# ---- Kazakh ---------------------------------------------------------------------------------------

def test_kazakh_one_term_for_the_checkpoint():
    """«өткізу пункті», never «өткізу бекеті» or «өткел»."""
    for source, text in all_text("kk"):
        assert "бекет" not in text.lower() and "өткел" not in text.lower(), text
        if _names_a_checkpoint(source):
            assert "өткізу пункт" in text.lower(), (source, text)


def test_kazakh_hangs_no_case_ending_on_a_time_filled_in():
    """«{time} дейін» needs the dative of whatever the time reads («14:30-ға», «сәрсенбіге»): the time
    follows a colon instead."""
    for source, text in all_text("kk"):
        assert not re.search(r"\{(?:time|until|when|date)\}\)?\s*(?:дейін|бастап)", text), text
    assert one("kk", "Confirm by {time} ({minutes} min left)").startswith("Растау мерзімі: {time}")


def test_kazakh_customs_release_is_shygardy():
    assert "шығарды" in one("kk", "Released by customs")
    assert "шығарды" in one("kk", "Released by customs: drive on.")
    for source, text in all_text("kk"):
        assert "жіберді" not in text, f"customs «шығарды» the truck: {text!r}"


def test_kazakh_a_button_is_tuime():
    for source, text in all_text("kk"):
        assert "батырма" not in text.lower(), text


def test_kazakh_a_cancelled_booking_status_reads_as_cancelled():
    assert one("kk", "Booking cancelled") == "Брондаудың күші жойылды"
    assert "брондауыңыздың күшін жойды" in one("kk", "Your booking was cancelled by the checkpoint.")


# ---- every language: /myrating -------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_myrating_gives_each_figure_its_own_label(language, speaking, khorgos):
    shown = Rating(taken=10, decided=8, confirmed=6, blocked_until=None, banned_until=None, ban_reason=None)
    with speaking(language):
        lines = fairness.rating(shown, BookingRules(), khorgos, language).text.split("\n")
    counts, share = lines[1], lines[2]
    labels = [part.split(":")[0].strip().lower() for part in counts.split(comma(language))]
    assert len(labels) == 3 and len(set(labels)) == 3, counts
    assert share.split(":")[0].strip().lower() not in labels, (counts, share)


# ---- Russian --------------------------------------------------------------------------------------

def test_russian_description_names_the_start_button_of_russian_telegram_apps():
    """Telegram's button under the description is «Запустить» in Russian apps."""
    text = one("ru", DESCRIPTION)
    assert text.endswith("Нажмите «Запустить».") and "«Начать»" not in text


def test_russian_a_name_or_a_date_filled_in_follows_no_preposition():
    """«в Хоргос», «на среда, 25 ноября», «до среда»: a name or a date filled in does not decline."""
    for source, text in all_text("ru"):
        assert not re.search(r"(?:^|\s)(?:в|во|на|до|с|со) \{(?:when|checkpoint)\}", text, re.I), text


def test_russian_a_ban_until_a_weekday_reads_right(speaking, khorgos):
    shown = Rating(taken=10, decided=8, confirmed=2, blocked_until=None, banned_until=WEDNESDAY_8_ALMATY,
                   ban_reason="перепродажа")
    with speaking("ru"):
        text = fairness.rating(shown, BookingRules(), khorgos, "ru").text
    assert "среда, 25 ноября, 08:00 (Алматы)" in text
    assert not re.search(r"\b(?:до|на|с) (?:понедельник|вторник|среда|четверг|пятница|суббота|воскресенье)", text)

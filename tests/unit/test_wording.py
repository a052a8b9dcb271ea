"""The wording decisions a driver would notice: one term for each thing (a hold, a booking, its
reference), a cancelled booking that reads as cancelled, buttons named in the text exactly as the
buttons say, and typography that reads right in each language."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.catalogs import LANGUAGES, all_text, entries, one

PLACEHOLDER = re.compile(r"\{\w+\}")
TAG = re.compile(r"</?\w+>")
ZWNJ = "\u200c"


def _label(language: str, msgid: str) -> str:
    """A button's words without its icon: "✅ Confirm" → "Confirm", "Next ▶" → "Next"."""
    return re.sub(r"^[^\w]+|[^\w]+$", "", one(language, msgid))


# ---- every language -------------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_and_tags_are_the_msgids_own_each_as_often(language):
    for source, text in all_text(language):
        assert Counter(PLACEHOLDER.findall(text)) == Counter(PLACEHOLDER.findall(source)), (source, text)
        assert Counter(TAG.findall(text)) == Counter(TAG.findall(source)), (source, text)
        assert text.count("\n") == source.count("\n"), (source, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_stray_spaces_or_straight_quotes(language):
    for source, text in all_text(language):
        for line in text.split("\n"):
            assert "  " not in line, (source, text)
            assert line == line.strip(), (source, text)
        assert '"' not in text, f"quote with «…»: {text!r}"
        assert " ." not in text and " ," not in text and " :" not in text, (source, text)


# Texts that name a button, and the button they name: the driver looks for exactly those words.
NAMED_BUTTONS = [
    ("Truck {plate} added. Send the trailer's plate number, or tap Skip.", "Skip"),
    ("Nothing is reserved yet. Tap Next to hold this time for {minutes} min.", "Next ▶"),
    ("Nobat is the electronic queue for trucks at the border crossings of Khorgos, Dostyk and Bazargan. "
     "Book a time to cross in this chat: I show the first free time, and nothing is reserved until you tap Next. "
     "Tap Start.", "Next ▶"),
]
HELP = ("<b>How to book</b>\n1. /book and choose the checkpoint.\n"
        "2. I show the first free time. Tap Next to hold it, or Other time.\n"
        "3. A hold lasts {minutes} min. Tap Confirm to get your booking reference.")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("msgid", "button"), NAMED_BUTTONS + [(HELP, "Next ▶"), (HELP, "Other time"),
                                                               (HELP, "✅ Confirm")])
def test_a_text_that_names_a_button_quotes_its_label(language, msgid, button):
    assert f"«{_label(language, button)}»" in one(language, msgid)


SKIP = {"kk": "Тіркемесіз", "ru": "Без прицепа", "fa": "بدون تریلر"}


@pytest.mark.parametrize("language", SKIP)
def test_the_skip_button_says_what_it_skips(language):
    """Skip is the answer to "the trailer's plate number?": it reads as "no trailer"."""
    assert one(language, "Skip") == SKIP[language]


# ---- Kazakh ---------------------------------------------------------------------------------------

KK_HOLD_TEXTS = [
    "<b>Your holds and bookings</b>",
    "Nothing is reserved yet. Tap Next to hold this time for {minutes} min.",
    "Held: confirm within {minutes} minute",
    "Hold cancelled, nothing was booked. /book — start again",
    "This truck has an upcoming booking or hold. Cancel it in /mybookings first.",
    "You already hold {count} time. Confirm or cancel it in /mybookings first.",
    "You have no holds or upcoming bookings. /book — book a crossing time",
    "⌛ Your hold has expired, nothing was booked. The time went back to the queue.",
    "⏳ <b>This time is held for you</b>",
    HELP,
]


def test_kazakh_a_cancelled_booking_reads_as_cancelled():
    assert one("kk", "Booking {ref} is cancelled.") == "{ref} нөмірлі брондаудың күші жойылды."
    assert "күшін жоясыз ба?" in one("kk", "Cancel booking {ref} ({checkpoint}, {when})?")
    assert one("kk", "Yes, cancel") == "Иә, күшін жою"
    assert one("kk", "Cancel {ref}") == "Күшін жою: {ref}"
    assert one("kk", "Booking {ref} is kept.") == "{ref} нөмірлі брондау күшінде қалды."
    for source, text in all_text("kk"):
        assert "болдыр" not in text.lower(), f"«болдырылмады» reads as 'did not happen': {text!r}"


def test_kazakh_one_term_for_a_hold():
    """A hold is «уақытша брондау» (a temporary booking), never «сақталған уақыт» / «ұстап тұру»:
    «сақталды» is kept for a saved truck."""
    for msgid in KK_HOLD_TEXTS:
        for text in entries("kk")[msgid]:
            assert "уақытша" in text.lower() and "бронда" in text.lower(), (msgid, text)
    for source, text in all_text("kk"):
        lowered = text.lower()
        for rejected in ("сақтап қою", "сақталған уақыт", "ұстап тұр", "сақтау мерзімі", "сақталмай",
                         "сақталмады", "расталмаған"):
            assert rejected not in lowered, (rejected, text)
        if "сақта" in lowered:
            assert source == "Truck {plate} is saved.", text


def test_kazakh_one_term_for_the_reference():
    """The reference is «брондау нөмірі» everywhere, not «код»."""
    assert one("kk", "Reference: <code>{ref}</code>") == "Брондау нөмірі: <code>{ref}</code>"
    assert "брондау нөмірін" in one("kk", "Show the reference at the checkpoint. /mybookings — your bookings")
    assert "брондау нөмірін" in one("kk", HELP).lower()
    for source, text in all_text("kk"):
        assert "код" not in text.lower(), text
        if "{ref}" in source and source.startswith(("Booking", "Cancel booking")):
            assert "{ref} нөмірлі брондау" in text, text


def test_kazakh_booking_is_brondau():
    for msgid in ("/book — book a crossing time", "My bookings", "✅ <b>Booked</b>",
                  "Show the reference at the checkpoint. /mybookings — your bookings"):
        assert "бронда" in one("kk", msgid).lower(), msgid


# ---- Russian --------------------------------------------------------------------------------------

RU_HOLD_TEXTS = [
    "<b>Your holds and bookings</b>",
    "Nothing is reserved yet. Tap Next to hold this time for {minutes} min.",
    "Held: confirm within {minutes} minute",
    "This truck has an upcoming booking or hold. Cancel it in /mybookings first.",
    "You already hold {count} time. Confirm or cancel it in /mybookings first.",
    "You have no holds or upcoming bookings. /book — book a crossing time",
    "⌛ Your hold has expired, nothing was booked. The time went back to the queue.",
    "⏳ <b>This time is held for you</b>",
    HELP,
]


def test_russian_a_hold_is_time_held_a_booking_is_a_bron():
    """A hold is «закреплённое время» («закрепить»); «бронь» is only what Confirm makes, so a hold is
    never an «неподтверждённая бронь» nor an «удержание»; the reference is «номер брони»."""
    for msgid in RU_HOLD_TEXTS:
        for text in entries("ru")[msgid]:
            assert "закреп" in text.lower(), (msgid, text)
    for source, text in all_text("ru"):
        for rejected in ("удерж", "неподтвержд", "код брони"):
            assert rejected not in text.lower(), (rejected, text)
    assert one("ru", "Booking {ref} is cancelled.") == "Бронь {ref} отменена."
    assert one("ru", "Reference: <code>{ref}</code>") == "Номер брони: <code>{ref}</code>"
    assert "номер брони" in one("ru", HELP)


def test_russian_a_phone_number_is_said_so_a_plate_is_a_number_too():
    for source, text in all_text("ru"):
        for said in re.finditer(r"по номеру(?! телефона)", text):
            raise AssertionError(f"{source!r}: «{text[max(0, said.start() - 20):said.end() + 20]}» (по номеру телефона)")


def test_russian_counted_holds_agree_with_the_number():
    forms = entries("ru")["You already hold {count} time. Confirm or cancel it in /mybookings first."]
    assert ["{count} место." in forms[0], "{count} места." in forms[1], "{count} мест." in forms[2]] == [True] * 3
    assert "его" in forms[0] and "их" in forms[1] and "их" in forms[2]


# ---- Persian --------------------------------------------------------------------------------------

def _fa_prose(text: str) -> str:
    """The Persian words of a text, without its tags, code examples, placeholders and /commands."""
    return re.sub(r"<code>.*?</code>|<[^>]+>|\{\w+\}|/\w+", "", text)


def test_persian_letters_and_punctuation_are_persian():
    for source, text in all_text("fa"):
        assert not re.search("[\u064a\u0643\u0649]", text), f"Arabic ي/ك/ى instead of Persian ی/ک: {text!r}"
        prose = _fa_prose(text)
        assert not re.search(r"[,;?]", prose), f"Latin punctuation, use ، ؛ ؟: {text!r}"
        assert not re.search(r"[0-9]", prose), f"Latin digits: {text!r}"


def test_persian_zero_width_non_joiner_where_the_spelling_needs_it():
    for source, text in all_text("fa"):
        assert "آنها" not in text and "آن ها" not in text, text
        assert "نگه داشت" not in text and "نگهداشت" not in text, f"«نگه{ZWNJ}داشته»: {text!r}"
        for joined in ("میشود", "می شود", "میدهم", "نمیشود", "میکند"):
            assert joined not in text, (joined, text)
    assert f"آن{ZWNJ}ها" in one("fa", "You already hold {count} time. Confirm or cancel it in /mybookings first.")


def test_persian_one_term_each_for_hold_booking_and_reference():
    """A hold is a «نوبت نگه‌داشته», a booking a «رزرو», its reference the «کد رزرو»."""
    held = f"نگه{ZWNJ}داشته"
    for msgid in ("<b>Your holds and bookings</b>", "Held: confirm within {minutes} minute",
                  "This truck has an upcoming booking or hold. Cancel it in /mybookings first.",
                  "You already hold {count} time. Confirm or cancel it in /mybookings first.",
                  "You have no holds or upcoming bookings. /book — book a crossing time",
                  "⏳ <b>This time is held for you</b>", HELP):
        assert held in one("fa", msgid), msgid
    for source, text in all_text("fa"):
        assert "تأییدنشده" not in text and "تایید" not in text, text
    assert one("fa", "Reference: <code>{ref}</code>") == "کد رزرو: <code>{ref}</code>"
    assert "کد رزرو" in one("fa", "Show the reference at the checkpoint. /mybookings — your bookings")
    assert one("fa", "Booking {ref} is cancelled.") == "رزرو {ref} لغو شد."

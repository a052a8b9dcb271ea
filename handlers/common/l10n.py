"""Localized rendering of dates, times, numbers, plates and codes.

Kazakh and Russian show Gregorian dates in their CLDR formats; Persian shows Solar Hijri dates, with
jdatetime's own Persian month and weekday names, in Persian digits, and wraps Latin plates and codes
in Unicode isolates so the right-to-left text around them stays in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from html import escape
from zoneinfo import ZoneInfo

import jdatetime
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date, get_timezone_location

from services.accounts.plates import stored_plate
from services.accounts.trucks import TruckView
from services.kernel.rules import Checkpoint

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
FSI, PDI = "\u2068", "\u2069"
_DATE_PATTERNS = {"ru": "EEEE, d MMMM", "kk": "d MMMM, EEEE"}


def digits(text: str | int, language: str) -> str:
    """Digits as the reader writes them: Persian digits in Persian."""
    text = str(text)
    return text.translate(PERSIAN_DIGITS) if language == "fa" else text


def percent(share: float, language: str) -> str:
    """A share as a whole percentage: "50%", in Persian "۵۰٪"."""
    return f"{digits(round(share * 100), language)}{'٪' if language == 'fa' else '%'}"


def latin(text: str, language: str) -> str:
    """A plate or a code, kept readable (and left-to-right) inside right-to-left text."""
    return f"{FSI}{text}{PDI}" if language == "fa" else text


def local_time(moment: datetime, tz: ZoneInfo, language: str) -> str:
    return digits(moment.astimezone(tz).strftime("%H:%M"), language)


def _solar(day: date) -> jdatetime.date:
    return jdatetime.date.fromgregorian(date=day, locale="fa_IR")


@lru_cache(maxsize=4096)  # a calendar or a status card shows the same few days again and again
def local_date(day: date, language: str) -> str:
    if language == "fa":
        solar = _solar(day)
        # "%A %B" in jdatetime's Persian locale: "پنج‌شنبه", "آذر" (with the zero-width non-joiner).
        return digits(f"{solar.strftime('%A')} {solar.day} {solar.strftime('%B')}", language)
    return format_date(day, _DATE_PATTERNS.get(language, "EEEE, d MMMM"), locale=language)


def short_date(day: date, language: str) -> str:
    """For day buttons: "24 нояб., вт" or "سه‌شنبه ۳ آذر" (Persian has no short weekday names, and a
    driver choosing a day wants to see which weekday it is)."""
    if language == "fa":
        return local_date(day, language)
    return format_date(day, "d MMM, EEE", locale=language)


def comma(language: str) -> str:
    return "،" if language == "fa" else ","


def listing(items: Iterable[str], language: str) -> str:
    """Items one after another, as the reader separates them: "A, B, C", in Persian "A، B، C"."""
    return f"{comma(language)} ".join(items)


def page_turns(page: int, pages: int, language: str) -> list[tuple[str, int]]:
    """The arrows to the pages before and after, each with its page, in the row's left-to-right
    order. Persian reads right to left: the earlier page is to the right, under "▶", and the later
    one to the left, under "◀"."""
    back, forth = ("▶", "◀") if language == "fa" else ("◀", "▶")
    turns = [(arrow, to) for arrow, to, shown in ((back, page - 1, page > 1), (forth, page + 1, page < pages)) if shown]
    return turns[::-1] if language == "fa" else turns


@cache
def zone_city(zone: str, language: str) -> str:
    """The city that names a time zone in CLDR, in the reader's language: "Алматы", "تهران"."""
    return get_timezone_location(ZoneInfo(zone), locale=language, return_city=True)


def local_time_zoned(moment: datetime, tz: ZoneInfo, language: str) -> str:
    """A time at the checkpoint, with its zone: "14:23 (Алматы)"."""
    return f"{local_time(moment, tz, language)} ({zone_city(tz.key, language)})"


def day_month(day: date, language: str) -> str:
    """A date without its weekday: "23 ноября", "۲ آذر"."""
    if language == "fa":
        solar = _solar(day)
        return digits(f"{solar.day} {solar.strftime('%B')}", language)
    return format_date(day, "d MMMM", locale=language)


def near_date(day: date, tz: ZoneInfo, language: str, now: datetime | None = None) -> str:
    """A date at the checkpoint; one today or tomorrow there (with `now`) says so instead of its
    weekday: "сегодня, 23 ноября", "завтра, 24 ноября", else "среда, 25 ноября"."""
    if now is not None:
        today = now.astimezone(tz).date()
        if day == today:
            return _("today, {date}").format(date=day_month(day, language))
        if day == today + timedelta(days=1):
            return _("tomorrow, {date}").format(date=day_month(day, language))
    return local_date(day, language)


def local_datetime(moment: datetime, tz: ZoneInfo, language: str, now: datetime | None = None) -> str:
    """Date and time at the checkpoint, with its zone: drivers cross between zones, and their
    phones may show another one. "понедельник, 23 ноября, 08:00 (Алматы)"; with `now`, a time
    today or tomorrow at the checkpoint says so: "сегодня, 23 ноября, 08:00 (Алматы)"."""
    day = near_date(moment.astimezone(tz).date(), tz, language, now)
    return f"{day}{comma(language)} {local_time_zoned(moment, tz, language)}"


def shown_plate(canonical: str, language: str) -> str:
    """A stored plate as its country writes it: "123 ABC 02", "А 123 ВС 77", "新A·12345", and an
    Iranian one in Persian digits in Persian. One stored before these formats stays as stored."""
    plate = stored_plate(canonical)
    return canonical if plate is None else plate.shown(language)


def plate_label(truck: TruckView | str, language: str) -> str:
    """A truck's plate for a button or an alert (plain text), isolated in Persian."""
    return latin(shown_plate(truck if isinstance(truck, str) else truck.plate, language), language)


def plate_text(truck: TruckView | str, language: str) -> str:
    """A truck's plate (and its trailer's), escaped for HTML and isolated in Persian."""
    plate = truck if isinstance(truck, str) else truck.plate
    shown = escape(shown_plate(plate, language))
    if not isinstance(truck, str) and truck.trailer_plate:
        shown = f"{shown} / {escape(shown_plate(truck.trailer_plate, language))}"
    return latin(shown, language)


def where_and_when(checkpoint: Checkpoint, starts_at: datetime, language: str, now: datetime | None = None) -> str:
    """"Khorgos, Monday, 23 November, 08:00" in the checkpoint's own time zone; with `now`, "Khorgos,
    today, 23 November, 08:00" for a time today or tomorrow there."""
    when = local_datetime(starts_at, checkpoint.tz, language, now)
    return f"{escape(checkpoint.name(language))}{comma(language)} {when}"

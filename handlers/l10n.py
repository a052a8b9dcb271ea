"""Localized rendering of dates, times, numbers and Latin codes.

Kazakh and Russian show Gregorian dates in their CLDR formats; Persian shows Solar Hijri dates with
Persian digits, and wraps Latin plates and codes in Unicode isolates so right-to-left text around
them stays in order.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import jdatetime
from babel.dates import format_date

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
FSI, PDI = "\u2068", "\u2069"
_PERSIAN_WEEKDAYS = ("دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه")
_PERSIAN_MONTHS = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
                   "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")
_DATE_PATTERNS = {"ru": "EEEE, d MMMM", "kk": "d MMMM, EEEE"}


def digits(text: str | int, language: str) -> str:
    """Digits as the reader writes them: Persian digits in Persian."""
    text = str(text)
    return text.translate(PERSIAN_DIGITS) if language == "fa" else text


def latin(text: str, language: str) -> str:
    """A plate or a code, kept readable (and left-to-right) inside right-to-left text."""
    return f"{FSI}{text}{PDI}" if language == "fa" else text


def local_time(moment: datetime, tz: ZoneInfo, language: str) -> str:
    return digits(moment.astimezone(tz).strftime("%H:%M"), language)


def local_date(day: date, language: str) -> str:
    if language == "fa":
        solar = jdatetime.date.fromgregorian(date=day)
        text = f"{_PERSIAN_WEEKDAYS[day.weekday()]} {solar.day} {_PERSIAN_MONTHS[solar.month - 1]}"
        return digits(text, language)
    return format_date(day, _DATE_PATTERNS.get(language, "EEEE, d MMMM"), locale=language)


def short_date(day: date, language: str) -> str:
    """For buttons, where space is short: "24.11, вт" or "۳ آذر"."""
    if language == "fa":
        solar = jdatetime.date.fromgregorian(date=day)
        return digits(f"{solar.day} {_PERSIAN_MONTHS[solar.month - 1]}", language)
    return format_date(day, "d MMM, EEE", locale=language)


def comma(language: str) -> str:
    return "،" if language == "fa" else ","


def local_datetime(moment: datetime, tz: ZoneInfo, language: str) -> str:
    return f"{local_date(moment.astimezone(tz).date(), language)}{comma(language)} {local_time(moment, tz, language)}"

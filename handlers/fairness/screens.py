"""/myrating: the figures the fair-access rules go by (services.booking.fairness), as the driver sees them."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from handlers.common.l10n import digits, local_datetime, local_time_zoned, percent
from handlers.common.screen import Screen
from services.booking.fairness import Rating
from services.kernel.rules import BookingRules, Checkpoint


def rating(shown: Rating, rules: BookingRules, checkpoint: Checkpoint, language: str) -> Screen:
    lines = [_("<b>Your holds in the last {days} days</b>").format(days=digits(f"{rules.rating_window_days:g}",
                                                                                  language)),
             _("Taken: {taken}, booked: {confirmed}, ended without a booking: {lapsed}").format(
                 taken=digits(shown.taken, language), confirmed=digits(shown.confirmed, language),
                 lapsed=digits(shown.decided - shown.confirmed, language))]
    if shown.ratio is not None:
        lines.append(_("Booked: {percent}").format(percent=percent(shown.ratio, language)))
    lines.append(_("Book at least {percent} of the times you hold: from {holds} holds on, each one that ends "
                   "without a booking below that pauses new holds for {minutes} minutes.").format(
        percent=percent(rules.min_confirm_ratio, language), holds=digits(rules.rating_min_holds, language),
        minutes=digits(rules.rating_block_minutes, language)))
    if shown.banned_until is not None:
        lines.append(_("⛔ Booking is closed for this account until {time}. Reason: {reason}").format(
            time=local_datetime(shown.banned_until, checkpoint.tz, language), reason=escape(shown.ban_reason or "—")))
    elif shown.blocked_until is not None:
        lines.append(_("⏸ New holds are paused until {time}.").format(
            time=local_time_zoned(shown.blocked_until, checkpoint.tz, language)))
    return Screen("\n".join(lines))

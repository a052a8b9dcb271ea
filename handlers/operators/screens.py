"""What the operators' commands answer, in the operator's language; and what a banned account is told."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.common.l10n import digits, latin, listing, local_datetime, percent
from handlers.common.screen import Screen
from services.kernel.rules import Checkpoint
from services.operators.abuse import Abuser, AnnulOutcome, AnnulResult, Banned, DayStats


def usage() -> Screen:
    return Screen(_("Operator commands:\n"
                    "/abusers [hours] — who takes holds and lets them lapse (24 hours if not said)\n"
                    "/ban ACCOUNT DAYS REASON — no holds for that long; its holds and bookings are annulled\n"
                    "/unban ACCOUNT\n"
                    "/annul REFERENCE REASON — one booking\n"
                    "/stats [checkpoint] — today's figures"))


def abusers(found: list[Abuser], hours: float, language: str) -> Screen:
    if not found:
        return Screen(_("No holds in the last {hours} hours.").format(hours=digits(f"{hours:g}", language)))
    lines = [_("<b>Holds in the last {hours} hours</b>, most left unconfirmed first:").format(
        hours=digits(f"{hours:g}", language))]
    for n, abuser in enumerate(found, 1):
        line = _("{n}. {name} ({account}): taken {taken}, booked {confirmed} ({percent}), cancelled {cancelled}, "
                 "expired {expired}").format(
            n=digits(n, language), name=escape(abuser.first_name or "—"), account=latin(f"<code>{abuser.account_id}</code>", language),
            taken=digits(abuser.taken, language), confirmed=digits(abuser.confirmed, language),
            percent=percent(abuser.ratio, language), cancelled=digits(abuser.cancelled, language),
            expired=digits(abuser.expired, language))
        lines.append(line + (" ⛔" if abuser.banned else ""))
    return Screen("\n".join(lines))


def banned(result: Banned, checkpoint: Checkpoint, language: str) -> Screen:
    return Screen(ngettext(
        "Account {account} may not book until {time}. {count} hold or booking annulled: its place returns "
        "through the release window, and the chats that follow the truck are told.",
        "Account {account} may not book until {time}. {count} holds and bookings annulled: their places return "
        "through the release window, and the chats that follow the trucks are told.",
        len(result.annulled)).format(account=latin(f"<code>{result.account_id}</code>", language),
                                     time=local_datetime(result.until, checkpoint.tz, language),
                                     count=digits(len(result.annulled), language)))


def you_are_banned(result: Banned, reason: str, checkpoint: Checkpoint, language: str) -> Screen:
    """To the banned account itself, in its own language."""
    return Screen(_("⛔ This account may not book until {time}. Reason: {reason}\n"
                    "Its holds and bookings still to come are annulled.").format(
        time=local_datetime(result.until, checkpoint.tz, language), reason=escape(reason)))


def no_account(account_id: int, language: str) -> Screen:
    return Screen(_("No account {account}: it has never written to the bot.").format(
        account=latin(f"<code>{account_id}</code>", language)))


def unbanned(account_id: int, was_banned: bool, language: str) -> Screen:
    account = latin(f"<code>{account_id}</code>", language)
    if was_banned:
        return Screen(_("Account {account} may book again.").format(account=account))
    return Screen(_("Account {account} is not banned.").format(account=account))


def annulled(ref: str, result: AnnulResult, language: str) -> Screen:
    shown = latin(f"<code>{escape(ref)}</code>", language)
    if result.outcome is AnnulOutcome.ANNULLED:
        return Screen(_("Booking {ref} annulled: its place returns through the release window, and the chats "
                        "that follow the truck are told.").format(ref=shown))
    if result.outcome is AnnulOutcome.ENDED:
        return Screen(_("Booking {ref} has ended already (cancelled, annulled or past).").format(ref=shown))
    return Screen(_("No booking {ref}.").format(ref=shown))


def stats(found: list[tuple[Checkpoint, DayStats]], language: str) -> Screen:
    lines = []
    for checkpoint, day in found:
        lines.append(_("<b>{checkpoint}, today</b>: {capacity} places, {taken} taken; holds now {held}, "
                       "bookings {booked}, expired {expired}, released {released}").format(
            checkpoint=escape(checkpoint.name(language)), capacity=digits(day.capacity, language),
            taken=digits(day.taken, language), held=digits(day.held, language), booked=digits(day.booked, language),
            expired=digits(day.expired, language), released=digits(day.released, language)))
    return Screen("\n".join(lines))


def unknown_checkpoint(code: str, codes: list[str], language: str) -> Screen:
    return Screen(_("No checkpoint {code}. The codes: {codes}").format(
        code=latin(escape(code), language), codes=listing((latin(c, language) for c in codes), language)))

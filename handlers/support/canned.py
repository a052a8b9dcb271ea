"""The canned answers an agent sends with `/faq NAME`: the same text in every language, so that an
agent who does not read Persian can answer a Persian driver in Persian. Each renders in the current
locale (the driver's, when it is sent; the agents', when the topic is shown what was sent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiogram.utils.i18n import gettext as _

from handlers.common.l10n import digits, percent
from services.kernel.rules import BookingRules


@dataclass(frozen=True)
class Canned:
    name: str  # what the agent types after /faq: Latin, one word
    title: Callable[[], str]
    body: Callable[[BookingRules, str], str]

    def text(self, rules: BookingRules, language: str) -> str:
        return f"<b>{self.title()}</b>\n{self.body(rules, language)}"


def _book(rules: BookingRules, language: str) -> str:
    return _("1. Send /book and choose the checkpoint (and the truck, if you have several).\n"
             "2. I show the first free time. Tap «Next» to hold it for {minutes} min, or «Other time» to choose "
             "another day and time.\n"
             "3. Tap «Confirm» before the hold ends: you get the booking reference. Show it at the checkpoint."
             ).format(minutes=digits(rules.hold_minutes, language))


def _cancel(rules: BookingRules, language: str) -> str:
    return _("Send /mybookings: each hold and booking has its cancel button; a booking asks once more before it "
             "is cancelled. If you cannot come at your time, please cancel: the place goes back to the queue for "
             "other drivers. A hold that ends without a booking counts in your rating (/myrating).")


def _documents(rules: BookingRules, language: str) -> str:
    return _("Have them ready before your time: passport, driving licence, registration certificates of the truck "
             "and the trailer, the CMR consignment note, the TIR carnet or transit declaration, the invoice and "
             "the packing list, and the booking reference from this chat. If the border service needs more, a "
             "notice in this chat names the documents.")


def _hold(rules: BookingRules, language: str) -> str:
    return _("«Next» holds the time shown for you for {minutes} min: nobody else can take it, but it is not booked "
             "yet. Tap «Confirm» before the end to book it; {warning} min before the end I remind you. A hold that "
             "is not confirmed expires and the time goes back to the queue. Holds at once: at most {holds}."
             ).format(minutes=digits(rules.hold_minutes, language),
                      warning=digits(rules.hold_warning_minutes, language),
                      holds=digits(rules.max_active_holds, language))


def _paused(rules: BookingRules, language: str) -> str:
    return _("When fewer than {percent} of your recent holds became bookings, each further hold that ends without "
             "a booking pauses new holds for {pause} min. Your bookings stay. /myrating shows your figures and "
             "until when the pause lasts. Hold only the times you will confirm, and cancel early what you do not "
             "need.").format(percent=percent(rules.min_confirm_ratio, language),
                             pause=digits(rules.rating_block_minutes, language))


def _notices(rules: BookingRules, language: str) -> str:
    return _("The border service reports your truck's status in this chat: in the queue, called to the "
             "checkpoint, documents required, released. One card per crossing is updated quietly; when you must "
             "act, a new message rings. /trucks shows which trucks send notices here: tap a truck to mute or "
             "unmute its notices; «Link trucks by my phone» adds the trucks registered with your number.")


CANNED: dict[str, Canned] = {c.name: c for c in (
    Canned("book", lambda: _("How to book a crossing time"), _book),
    Canned("cancel", lambda: _("How to cancel"), _cancel),
    Canned("docs", lambda: _("Documents at the checkpoint"), _documents),
    Canned("hold", lambda: _("What a hold is"), _hold),
    Canned("paused", lambda: _("New holds paused by the rating"), _paused),
    Canned("notices", lambda: _("Status notices"), _notices),
)}


def find(name: str) -> Canned | None:
    return CANNED.get(name.strip().lower())

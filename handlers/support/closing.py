"""The driver's side of a ticket's end: "Close ticket" (under /support and each "Delivered to
support"), and the rating buttons 1–5 sent when a ticket is closed, by an agent or by the driver.

A button names a ticket; the service checks that it is the tapping driver's and in the state the
button expects, so a forged or stale one changes nothing and gets a short alert.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.common.replies import alert
from handlers.support import screens
from handlers.support.callbacks import CloseTicketCb, RateTicketCb
from services.support.tickets import SupportService

log = logging.getLogger(__name__)


def router() -> Router:
    r = Router(name="support_closing")
    r.callback_query.register(close_ticket, CloseTicketCb.filter())
    r.callback_query.register(rate_ticket, RateTicketCb.filter())
    return r


async def close_ticket(query: CallbackQuery, callback_data: CloseTicketCb, callback_answer: CallbackAnswer,
                       bot: Bot, support: SupportService, language: str) -> None:
    closed = await support.close_own(query.from_user.id, callback_data.ticket_id)
    if closed is None:
        alert(callback_answer, screens.closed_already())
        return
    if isinstance(query.message, Message):
        try:  # the button has done its work
            await query.message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest as exc:
            log.info("support: could not remove the close button: %s", exc.message)
    # The topic hears of it through the outbox, queued with the closing itself.
    await bot.send_message(query.from_user.id, **screens.closed_rate_it(closed, language).as_kwargs())


async def rate_ticket(query: CallbackQuery, callback_data: RateTicketCb, callback_answer: CallbackAnswer,
                      bot: Bot, support: SupportService, language: str) -> None:
    rated = await support.rate_once(query.from_user.id, callback_data.ticket_id, callback_data.stars)
    if rated is None:
        alert(callback_answer, screens.cannot_rate())
        return
    if not rated.first:
        alert(callback_answer, screens.rated_already(rated.ticket, language))
        return
    thanks = screens.thanks_for_rating(rated.ticket, language)
    if isinstance(query.message, Message):
        await query.message.edit_text(**thanks.as_kwargs())
    else:  # a tap on a message the bot can no longer see
        await bot.send_message(query.from_user.id, **thanks.as_kwargs())

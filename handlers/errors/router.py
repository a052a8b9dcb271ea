"""The last line: a fault in any handler is logged with its update's ids and kinds (never its
names, texts or phones: see bot/faults.py) and answered calmly.

Two failures are conditions rather than faults, and get one warning line instead of a traceback:
the database not answering in time (the driver is asked to try again in a few seconds), and
Telegram still answering 429 after the retries (the reply is lost; sending another would only
meet the same limit). A third, the conversation state out of reach while Redis is away, is asked
to try again the same way, with one info line (Redis's going was the warning).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n

from handlers.common.chats import in_private_chat
from handlers.common.conversation import StateUnavailable
from handlers.common.faults import code_trace, update_context, what_failed
from handlers.common.screen import database_busy, server_error
from handlers.common.taps import answered_early
from services.accounts.accounts import AccountService, language_from_client
from services.storage.unavailable import DatabaseUnavailable

log = logging.getLogger("nobat.errors")


def router() -> Router:
    r = Router(name="errors")
    r.error.register(on_error)
    return r


async def on_error(event: ErrorEvent, i18n: I18n, accounts: AccountService, language: str | None = None) -> None:
    """`language` is there when the fault came after the locale middleware chose it."""
    update, error = event.update, event.exception
    busy = isinstance(error, (DatabaseUnavailable, StateUnavailable))
    if isinstance(error, StateUnavailable):
        log.info("update %s: %s; the user is asked to try again", update.update_id, error)
    elif busy:
        log.warning("update %s: the database is unavailable (%s); the user is asked to try again", update.update_id,
                    error)
    elif isinstance(error, TelegramRetryAfter):
        log.warning("update %s: Telegram still asks to retry after %s s; a reply is lost", update.update_id,
                    error.retry_after)
    else:
        log.error("update %s (%s) failed:\n%s", update.update_id, update_context(update), code_trace(error))
    user = (update.callback_query or update.message).from_user if (update.callback_query or update.message) else None
    if user is None:
        return
    if language is None and not busy:
        try:
            language = await accounts.language_of(user.id)
        except Exception:
            language = None
    language = language or language_from_client(user.language_code) or i18n.default_locale
    try:
        with i18n.context(), i18n.use_locale(language):
            screen = database_busy() if busy else server_error()
            if update.callback_query is not None and not answered_early(update.callback_query.id):
                # Taps whose handler failed are left unanswered by the answering middleware, for this.
                await update.callback_query.answer(screen.text, show_alert=True)
            elif update.callback_query is not None:
                # Its answer went before its screen, and Telegram takes one: the failure is said in the chat.
                await update.callback_query.bot.send_message(user.id, **screen.as_kwargs())
            elif in_private_chat(update.message.chat) and not isinstance(error, TelegramRetryAfter):
                await update.message.answer(**screen.as_kwargs())
    except Exception as failure:  # the chat itself may be what failed; the log above has the story
        log.warning("could not tell the user about the failure of update %s: %s", update.update_id,
                    what_failed(failure))

"""The last line: a fault in any handler is logged with its update and answered calmly."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n

from handlers.common.screen import server_error
from services.accounts import AccountService, language_from_client

log = logging.getLogger("nobat.errors")


def router() -> Router:
    r = Router(name="errors")
    r.error.register(on_error)
    return r


async def on_error(event: ErrorEvent, i18n: I18n, accounts: AccountService) -> None:
    update = event.update
    log.error("update %s failed: %r; update: %s", update.update_id, event.exception,
              update.model_dump_json(exclude_none=True)[:2000], exc_info=event.exception)
    user = (update.callback_query or update.message).from_user if (update.callback_query or update.message) else None
    if user is None:
        return
    try:
        # Error handlers run outside the locale middleware, so the language is looked up here.
        language = await accounts.language_of(user.id)
    except Exception:
        language = None
    language = language or language_from_client(user.language_code) or i18n.default_locale
    try:
        with i18n.context(), i18n.use_locale(language):
            if update.callback_query is not None:
                # Taps whose handler failed are left unanswered by the answering middleware, for this.
                await update.callback_query.answer(server_error().text, show_alert=True)
            elif update.message.chat.type == "private":
                await update.message.answer(**server_error().as_kwargs())
    except Exception:  # the chat itself may be what failed; the log above has the story
        log.exception("could not tell the user about the failure of update %s", update.update_id)

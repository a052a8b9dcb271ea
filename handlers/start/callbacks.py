"""Button payloads of the start feature."""

from aiogram.filters.callback_data import CallbackData

from handlers.common.payloads import Language


class LanguageCb(CallbackData, prefix="lg"):
    code: Language

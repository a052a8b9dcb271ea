"""Pure tests: rendering in a language of the catalogs, without a bot, a server or a database."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import time
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

import locales
from services.kernel.rules import Checkpoint


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return I18n(path=Path(locales.__file__).parent, default_locale="ru", domain="messages")


@pytest.fixture
def speaking(i18n):
    """`with speaking("fa"):` renders screens as the locale middleware would for a Persian driver."""

    @contextmanager
    def use(language: str):
        with i18n.context(), i18n.use_locale(language):
            yield

    return use


@pytest.fixture
def khorgos() -> Checkpoint:
    return Checkpoint(code="khorgos", names={"kk": "Қорғас", "ru": "Хоргос", "fa": "خورگوس"},
                      timezone="Asia/Almaty", slot_minutes=30, trucks_per_slot=20,
                      opens=time(8), closes=time(20), horizon_days=7, lead_minutes=60)


@pytest.fixture
def bazargan() -> Checkpoint:
    return Checkpoint(code="bazargan", names={"kk": "Базарган", "ru": "Базарган", "fa": "بازرگان"},
                      timezone="Asia/Tehran", slot_minutes=30, trucks_per_slot=15,
                      opens=time(7), closes=time(22), horizon_days=7, lead_minutes=60)

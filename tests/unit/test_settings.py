"""What an operator writes in config.yaml and the environment, and what the bot makes of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_configuration_has_the_three_checkpoints_in_every_language(monkeypatch):
    monkeypatch.setenv("NOBAT_CONFIG", str(ROOT / "config.yaml"))
    settings = load_settings()
    assert [c.code for c in settings.checkpoints] == ["khorgos", "dostyk", "bazargan"]
    assert settings.booking.hold_minutes == 15
    assert all(set(c.names) >= {"kk", "ru", "fa"} for c in settings.checkpoints)


def test_the_environment_overrides_the_file(monkeypatch):
    monkeypatch.setenv("NOBAT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("BOT_TOKEN", "42:secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobat@db/nobat")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/1")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081")
    monkeypatch.setenv("NOBAT_BOOKING__HOLD_MINUTES", "10")
    settings = load_settings()
    assert (settings.bot_token, settings.database_url, settings.redis_url, settings.telegram_api_url) == (
        "42:secret", "postgresql://nobat@db/nobat", "redis://cache:6379/1", "http://127.0.0.1:8081")
    assert settings.booking.hold_minutes == 10
    assert settings.booking.max_active_holds == 2, "the rest of the section still comes from the file"


def test_database_timeouts_and_the_flood_limit_come_from_the_file_and_the_environment(monkeypatch):
    monkeypatch.setenv("NOBAT_CONFIG", str(ROOT / "config.yaml"))
    shipped = load_settings()
    assert (shipped.database.connect_timeout_seconds, shipped.database.statement_timeout_seconds) == (5, 5)
    assert (shipped.flood.updates, shipped.flood.per_seconds) == (20, 10)
    monkeypatch.setenv("NOBAT_FLOOD__UPDATES", "30")
    assert load_settings().flood.updates == 30
    monkeypatch.setenv("NOBAT_DATABASE__STATEMENT_TIMEOUT_SECONDS", "2.5")
    assert load_settings().database.statement_timeout_seconds == 2.5
    monkeypatch.setenv("NOBAT_DATABASE__STATEMENT_TIMEOUT_SECONDS", "0")
    with pytest.raises(ValidationError, match="statement_timeout_seconds"):
        load_settings()


@pytest.mark.parametrize("mistake, message", [
    ("timezone: Asia/Almaty", "timezone: Asia/Almatyy"),
    ('fa: "خورگوس"', 'fa: ""'),
])
def test_a_mistake_in_the_file_stops_the_start_with_a_clear_error(tmp_path, monkeypatch, mistake, message):
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace(mistake, message, 1)
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("NOBAT_CONFIG", str(tmp_path / "config.yaml"))
    with pytest.raises(ValidationError) as error:
        load_settings()
    assert "checkpoints" in str(error.value)


def test_webhook_mode_is_configured_from_the_environment(monkeypatch):
    monkeypatch.setenv("NOBAT_CONFIG", str(ROOT / "config.yaml"))
    assert load_settings().webhook.url == "", "polling unless a webhook is given"
    monkeypatch.setenv("NOBAT_WEBHOOK__URL", "https://bot.example.kz/telegram")
    monkeypatch.setenv("NOBAT_WEBHOOK__SECRET_TOKEN", "shared-by-every_process-42")
    monkeypatch.setenv("NOBAT_WEB__PORT", "9000")
    settings = load_settings()
    assert (settings.webhook.url, settings.webhook.secret_token) == (
        "https://bot.example.kz/telegram", "shared-by-every_process-42")
    assert (settings.web.host, settings.web.port, settings.webhook.max_connections) == ("127.0.0.1", 9000, 40)


@pytest.mark.parametrize("variable, value", [
    ("NOBAT_WEBHOOK__URL", "bot.example.kz/telegram"),  # no scheme
    ("NOBAT_WEBHOOK__SECRET_TOKEN", "not secret!"),  # Telegram takes A-Z, a-z, 0-9, _ and - only
    ("NOBAT_WEBHOOK__MAX_CONNECTIONS", "500"),
])
def test_a_webhook_telegram_would_refuse_stops_the_start(monkeypatch, variable, value):
    monkeypatch.setenv("NOBAT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as error:
        load_settings()
    assert "webhook" in str(error.value)

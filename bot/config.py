"""Settings: `config.yaml` for what an operator tunes, the environment for secrets and addresses.

Found in this order: the file named by NOBAT_CONFIG, `config.yaml` in the working directory, and the
copy packaged with the bot (so a non-editable install still starts).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, YamlConfigSettingsSource

from border_api.settings import ApiSettings
from services.kernel.rules import LANGUAGES, BookingRules, Checkpoint
from services.limits.flood import FloodLimit
from services.storage.database import DEFAULT_URL, DatabaseTimeouts

PACKAGED_CONFIG = Path(__file__).with_name("config.yaml")
SOURCE_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


def config_path() -> Path:
    if os.environ.get("NOBAT_CONFIG"):
        return Path(os.environ["NOBAT_CONFIG"])
    for candidate in (Path.cwd() / "config.yaml", SOURCE_CONFIG, PACKAGED_CONFIG):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("config.yaml not found: set NOBAT_CONFIG to its path")


class WebhookSettings(BaseModel):
    """Telegram posts updates to `url` instead of the bot polling for them (docs/operations.md)."""

    url: str = ""  # empty: polling
    # Sent by Telegram with every update and checked on every request. Processes serving one URL
    # must share it; when unset, each start makes a new one (fine for a single process).
    secret_token: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    max_connections: int = Field(40, ge=1, le=100)  # updates Telegram posts at once (its default)

    @field_validator("url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        # Telegram itself refuses anything but HTTPS; a self-hosted Bot API server may take http://.
        if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
            raise ValueError("webhook url must be an absolute https:// URL")
        return value


class WebSettings(BaseModel):
    """Where the bot's own web server listens: the webhook (behind an HTTPS proxy)."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)


class OutgoingLimits(BaseModel):
    """What Telegram lets one bot send (its documented limits; a paid broadcast tier is higher).
    Every process sending as the bot shares the one budget, through Redis when it is configured."""

    messages_per_second: float = Field(30, gt=0, le=10_000)
    per_chat_per_second: float = Field(1, gt=0, le=100)
    per_group_per_minute: float = Field(20, gt=0, le=10_000)
    # While Redis is away, each process keeps to this share of the limits on its own: several may
    # be falling back at once, so 1/N for N processes sending as the bot.
    share_without_redis: float = Field(0.5, gt=0, le=1)


class NoticeSettings(BaseModel):
    reminder_hours: float = Field(3, gt=0, le=72)  # a booked driver is reminded this long before the time


class OutboxSettings(BaseModel):
    """The one sender of everything the bot says on its own (`bot.outbox`)."""

    retry_limit: int = Field(8, ge=1, le=100)  # attempts at a message on 5xx or timeouts, with backoff
    longest_retry_seconds: float = Field(600, ge=1, le=3600)  # the backoff doubles from 2 s up to this
    poll_seconds: float = Field(1.0, gt=0, le=60)  # how often an idle sender looks for due messages
    # How long a claimed message is a sender's own: a sender that died leaves it for this long.
    lease_seconds: float = Field(120, ge=1, le=3600)


class SupportSettings(BaseModel):
    """Support agents answer drivers from a Telegram supergroup with topics, one topic per ticket."""

    # The agents' forum supergroup (a negative id such as -1001234567890); the bot must be an
    # administrator there, allowed to manage topics. None: /support says support is not available.
    group_id: int | None = None
    # A driver's message this long after their ticket was closed opens it again; later, a new
    # ticket that names the old one. Either way the driver is told which.
    reopen_hours: float = Field(24, ge=0, le=24 * 30)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOBAT_", env_nested_delimiter="__", extra="ignore")

    bot_token: str | None = Field(None, validation_alias="BOT_TOKEN")
    database_url: str = Field(DEFAULT_URL, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    telegram_api_url: str | None = Field(None, validation_alias="TELEGRAM_API_URL")
    redis_prefix: str = "nobat"  # keys in Redis start with this, so several deployments can share one

    default_language: str = "ru"
    worker_interval_seconds: float = Field(5.0, gt=0)
    database: DatabaseTimeouts = DatabaseTimeouts()
    flood: FloodLimit = FloodLimit()
    booking: BookingRules = BookingRules()
    webhook: WebhookSettings = WebhookSettings()
    web: WebSettings = WebSettings()
    api: ApiSettings = ApiSettings()
    telegram_limits: OutgoingLimits = OutgoingLimits()
    notices: NoticeSettings = NoticeSettings()
    outbox: OutboxSettings = OutboxSettings()
    support: SupportSettings = SupportSettings()
    # Telegram user ids of the queue's operators: /abusers, /ban, /unban, /annul, /stats.
    operators: list[int] = Field(default_factory=list)
    checkpoints: list[Checkpoint]

    @field_validator("telegram_api_url")
    @classmethod
    def _bot_api_server(cls, value: str | None) -> str | None:
        # aiogram puts the token into every request's path below this URL: one it cannot use
        # would fail the first request, with the token in the error.
        if value is not None and not _absolute_http(value):
            raise ValueError("must be the absolute http:// or https:// address of a Bot API server, "
                             "e.g. https://api.telegram.org or http://127.0.0.1:8081")
        return value

    @field_validator("default_language")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"default_language must be one of {LANGUAGES}")
        return value

    @field_validator("checkpoints")
    @classmethod
    def _unique_codes(cls, value: list[Checkpoint]) -> list[Checkpoint]:
        codes = [c.code for c in value]
        if not codes or len(set(codes)) != len(codes):
            raise ValueError("checkpoints must be a non-empty list with unique codes")
        return value

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, YamlConfigSettingsSource(settings_cls, yaml_file=config_path())


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


def _absolute_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is none
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def what_is_wrong(error: ValidationError) -> str:
    """Each wrong setting with the environment variable that sets it and what is wrong, on one line,
    never the value given: it may be a secret (NOBAT_API__SECRET, NOBAT_WEBHOOK__SECRET_TOKEN), and
    an error printed on the console ends up in logs."""
    return "; ".join(f"{_setting(problem['loc'])}: {problem['msg'].removeprefix('Value error, ')}"
                     for problem in error.errors(include_url=False, include_input=False, include_context=False))


def _setting(location: tuple[int | str, ...]) -> str:
    """`api.secret (NOBAT_API__SECRET)`; a setting read under its own name (BOT_TOKEN) is just that;
    an item of a list (checkpoints.0.timezone) is set in config.yaml only."""
    dotted = ".".join(str(part) for part in location)
    if not location or not all(isinstance(part, str) for part in location) or str(location[0]).isupper():
        return dotted
    return f"{dotted} (NOBAT_{'__'.join(str(part).upper() for part in location)})"

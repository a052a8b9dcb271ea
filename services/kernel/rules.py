"""The booking rules an operator configures: checkpoints and the limits of holds.

Plain pydantic models so that `config.yaml` validates into them directly, while the domain stays
free of any bot or Telegram type.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

LANGUAGES = ("kk", "ru", "fa")
CHECKPOINT_CODE = r"^[a-z][a-z0-9_]{1,15}$"  # short: it travels in button payloads of at most 64 bytes


class BookingRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    hold_minutes: int = Field(15, ge=1, le=120)
    # A new message, which rings, tells the driver this many minutes before the hold ends.
    hold_warning_minutes: int = Field(3, ge=1, le=60)
    max_active_holds: int = Field(2, ge=1, le=50)
    # Holds one account may take within any hour, those that are bookings now aside.
    max_holds_per_hour: int = Field(6, ge=1, le=1000)
    release_window_hours: float = Field(24, ge=0)
    # The rating (services.booking.fairness): over the last `rating_window_days`, the share of an account's
    # holds it confirmed; under `min_confirm_ratio`, once it has had `rating_min_holds`, a hold that
    # ends unconfirmed pauses its new holds for `rating_block_minutes`.
    rating_window_days: float = Field(7, gt=0, le=90)
    min_confirm_ratio: float = Field(0.5, ge=0, le=1)
    rating_min_holds: int = Field(4, ge=1, le=1000)
    rating_block_minutes: int = Field(60, ge=1, le=7 * 24 * 60)

    @property
    def hold(self) -> timedelta:
        return timedelta(minutes=self.hold_minutes)

    @property
    def release_window(self) -> timedelta:
        return timedelta(hours=self.release_window_hours)

    @property
    def rating_window(self) -> timedelta:
        return timedelta(days=self.rating_window_days)

    @property
    def rating_block(self) -> timedelta:
        return timedelta(minutes=self.rating_block_minutes)


class Checkpoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=CHECKPOINT_CODE)
    names: dict[str, str]
    timezone: str
    slot_minutes: int = Field(30, ge=5, le=24 * 60)
    trucks_per_slot: int = Field(10, ge=1, le=10_000)
    opens: time = time(8, 0)
    closes: time = time(20, 0)
    horizon_days: int = Field(7, ge=1, le=60)
    lead_minutes: int = Field(60, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)  # a typo fails at start, not at 3 a.m.
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("names")
    @classmethod
    def _all_languages(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [lang for lang in LANGUAGES if not value.get(lang)]
        if missing:
            raise ValueError(f"checkpoint name missing for {', '.join(missing)}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def lead(self) -> timedelta:
        return timedelta(minutes=self.lead_minutes)

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["ru"]

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """When a local day starts, and when the next one does: its slots start between the two."""
        start = datetime.combine(day, time(0), self.tz)
        return start, start + timedelta(days=1)

    def slot_starts(self, day: date) -> list[datetime]:
        """UTC start times of the slots of one local day, from opening to closing."""
        tz = self.tz
        start = datetime.combine(day, self.opens, tz)
        end = datetime.combine(day, self.closes, tz)
        step = timedelta(minutes=self.slot_minutes)
        starts = []
        while start + step <= end:
            starts.append(start.astimezone(ZoneInfo("UTC")))
            start += step
        return starts

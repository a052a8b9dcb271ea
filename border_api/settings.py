"""The API's settings: where it listens and the secret its requests are signed with (config.yaml's
`api:` section, the secret from the environment)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ApiSettings(BaseModel):
    """The border system's HTTP API (`POST /v1/events`...): its own port, its shared secret."""

    host: str = "127.0.0.1"
    port: int = Field(8090, ge=0, le=65535)  # 0: any free port (tests), logged at start
    # The key of the HMAC-SHA256 signatures, shared with the border system; from the environment
    # (NOBAT_API__SECRET). Unset, the API refuses every request.
    secret: str | None = Field(None, min_length=16)
    max_clock_skew_seconds: int = Field(300, ge=1, le=3600)  # how old a signed timestamp may be

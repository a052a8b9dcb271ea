"""The two ways a call fails: an error answer of the Bot API, and HTML that Telegram cannot parse."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: raised anywhere inside a method, rendered as Telegram renders it."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """Telegram's most common answer: 400 "Bad Request: <reason>"."""
    return ApiError(400, f"Bad Request: {reason}")


class EntityParseError(ValueError):
    """HTML that Telegram refuses; the answer becomes "Bad Request: can't parse entities: <reason>"."""

"""The border system as the tests play it: signed HTTP calls to the bot's API."""

from __future__ import annotations

import json
import time

import aiohttp
from sqlalchemy import func, select
from yarl import URL

from border_api.endpoints import signature
from border_api.routes import SIGNATURE_HEADER, TIMESTAMP_HEADER

SECRET = "a-shared-secret-of-the-border-system"


class Border:
    def __init__(self, base_url: str, secret: str = SECRET) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret

    async def call(self, method: str, path: str, body: dict | list | bytes | None = None, *, signed: bool = True,
                   secret: str | None = None, skew: int = 0, headers: dict | None = None,
                   sent_body: bytes | None = None, sent_method: str | None = None,
                   sent_path: str | None = None) -> tuple[int, dict]:
        """(status, JSON answer). `path` is sent as written (percent-encoded by the caller), as it is
        signed; `skew` moves the signed timestamp that many seconds; `sent_body`, `sent_method` and
        `sent_path` replace what was signed on the wire (a change on the way)."""
        raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json"}
        if signed:
            stamp = str(int(time.time()) + skew)
            sent[TIMESTAMP_HEADER] = stamp
            sent[SIGNATURE_HEADER] = signature(secret or self.secret, stamp, method, path, raw)
        sent.update(headers or {})
        async with aiohttp.ClientSession() as http, http.request(
                sent_method or method, URL(self.base_url + (sent_path or path), encoded=True),
                data=raw if sent_body is None else sent_body, headers=sent) as answer:
            assert answer.content_type == "application/json", await answer.text()
            return answer.status, await answer.json()

    async def post_event(self, event: dict, **options) -> tuple[int, dict]:
        return await self.call("POST", "/v1/events", event, **options)


def event(event_id: str, *, type: str = "called", plate: str | None = "123 ABC 02", **fields) -> dict:
    """An event as the border system writes one: called to the Khorgos checkpoint, gate 3."""
    found = {"event_id": event_id, "type": type, "checkpoint": "khorgos", "occurred_at": "2026-11-23T06:05:00+05:00",
             "details": {"gate": "3", "lane": "B"}}
    if plate is not None:
        found["plate"] = plate
    found.update(fields)
    return found


async def count(db, model, *where) -> int:
    """How many rows of `model` (with `where`) the database holds."""
    async with db.reading() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))

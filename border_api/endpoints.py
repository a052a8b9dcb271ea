"""The border system's HTTP API: `/v1/events`, `/v1/deliveries`, `/v1/trucks/{plate}`, `/v1/openapi.json`.

Every request but the document is signed: `X-Nobat-Timestamp` (unix seconds) and `X-Nobat-Signature:
sha256=<hex>`, the HMAC-SHA256, keyed with the shared secret, of four lines: the timestamp, the METHOD,
the path?query as sent, and the hex SHA-256 of the body (see `signature`). The body is in the
signature, so nobody on the way can change an event; the timestamp is too, and one older or newer
than `api.max_clock_skew_seconds` is refused, so a recorded request cannot be replayed later. Within
the window, what changes state names itself: a replayed event is a repeated event_id, answered and
not sent again; a truck's registration carries its `version`, and one not newer than the version
applied is refused (409), so a replay cannot set back the truck's phones.

`POST /v1/events` takes one event, or a batch: an array of up to MAX_EVENTS_PER_REQUEST, recorded in one
transaction and answered 200 with each event's own result (`EventResults`); a batch with any
element that is no valid event is refused whole.

A body is read as JSON only when it is JSON of the expected shape: anything else (not UTF-8, nested
past the parser's depth, not an object, text with NUL or a lone surrogate, a time UTC cannot hold)
is a 400 or a 422 that says what is wrong, never a 500.

Each answer is JSON, each error `{"error": code, "message": text}` with its 4xx status. The routes
are a table (`border_api.routes`) that `border_api.openapi` documents too, so the document names
exactly what the server does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, ValidationError

from border_api.openapi import openapi_document
from border_api.routes import (
    MAX_BATCH_BODY_BYTES,
    MAX_BODY_BYTES,
    MAX_DELIVERIES,
    MAX_EVENTS_PER_REQUEST,
    PREFIX,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ApiError,
    Deliveries,
    EventAccepted,
    EventRefused,
    EventResults,
    Route,
    routes,
)
from border_api.settings import ApiSettings
from services.accounts.plates import parse_plate
from services.accounts.registry import InvalidRegistration, Superseded, TruckPhones
from services.container import Services
from services.kernel.faults import code_trace
from services.notices.events import Recorded, Refusal
from services.storage.unavailable import DatabaseUnavailable

log = logging.getLogger(__name__)

# Why an event was refused, as the status that says so: what it names does not exist (404), it
# contradicts itself or the schedule (422), or the state of the booking or the slot forbids it (409).
REFUSAL_STATUS = {
    Refusal.UNKNOWN_TRUCK: 404, Refusal.UNKNOWN_BOOKING: 404,
    Refusal.MISMATCH: 422, Refusal.OUTSIDE_SCHEDULE: 422,
    Refusal.AMBIGUOUS_BOOKING: 409, Refusal.BOOKING_ENDED: 409, Refusal.SLOT_FULL: 409, Refusal.TRUCK_BUSY: 409,
}


class Failure(Exception):
    """An answer with an error status, raised anywhere in a handler and written by the middleware."""

    def __init__(self, status: int, code: str, message: str, details: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def signature(secret: str, timestamp: str, method: str, path_qs: str, body: bytes) -> str:
    r"""The value of X-Nobat-Signature for a request: what the border system computes, and we check.

    The signed text is `timestamp\nMETHOD\npath?query\nhex(sha256(body))`. Each field is on its own
    line, and no field can hold a newline (HTTP allows none in a method or a request-target), nor
    can the digest, of fixed length, run into another: so one signature fits one request only. Parts
    joined by a mere "." could be cut apart elsewhere (`?event_id=kh.2026.7` and no body signed what
    `?event_id=kh` with the body `2026.7.` did)."""
    signed = "\n".join((timestamp, method.upper(), path_qs, hashlib.sha256(body).hexdigest()))
    # surrogateescape: a request-target of bytes that are not UTF-8 is signed as the bytes it was.
    signed_bytes = signed.encode("utf-8", "surrogateescape")
    return "sha256=" + hmac.new(secret.encode(), signed_bytes, hashlib.sha256).hexdigest()


class BorderApi:
    """The handlers, over the domain services; `now` is the real time the signatures count in."""

    def __init__(self, services: Services, settings: ApiSettings, now: Callable[[], float] = time.time) -> None:
        self.services = services
        self.settings = settings
        self.now = now
        self._document: dict | None = None

    def routes(self) -> list[Route]:
        return routes(self.event_model())

    def event_model(self) -> type[BaseModel]:
        return self.services.events.model

    def add_to(self, app: web.Application) -> None:
        app.middlewares.append(self._errors_as_json)
        for route in self.routes():
            app.router.add_route(route.method, route.path, self._guarded(route))
        self._unsigned = {route.path for route in self.routes() if not route.signed}

    # --- what every request goes through ------------------------------------------------------

    @web.middleware
    async def _errors_as_json(self, request: web.Request, handler) -> web.StreamResponse:
        """Under /v1, every answer is JSON: the server's own 404 and 405 too, and a fault is a 500
        with a log line that says which request, never a traceback in the answer."""
        if not request.path.startswith(PREFIX + "/"):
            return await handler(request)
        try:
            if request.match_info.http_exception is not None and request.path not in self._unsigned:
                # No route: a signed request whose method or path was changed on the way is refused
                # for its signature, not answered 405 or 404 (nor is a stranger told which routes
                # there are). A routed request's handler checks it.
                await self._signed_body(request)
            return await handler(request)
        except Failure as failure:
            return _error(failure.status, failure.code, failure.message, failure.details)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "http_error")
            return _error(exc.status, code, exc.reason)
        except DatabaseUnavailable as exc:
            log.warning("%s %s: the database is unavailable: %s", request.method, request.path_qs, exc)
            return _error(503, "unavailable", "the database is unavailable; try again shortly")
        except Exception as exc:
            # The trace without messages: a request's phones could be in one.
            log.error("%s %s failed:\n%s", request.method, request.path_qs, code_trace(exc))
            return _error(500, "internal", "the request failed; it was logged")

    def _guarded(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        handler = getattr(self, route.handler)

        async def handle(request: web.Request) -> web.StreamResponse:
            if not route.signed:
                return await handler(request, b"")
            body = await self._signed_body(request, batch=bool(route.batch))
            return await handler(request, body)

        return handle

    async def _signed_body(self, request: web.Request, *, batch: bool = False) -> bytes:
        secret = self.settings.secret
        if not secret:
            raise Failure(503, "not_configured", "the API is not configured: set NOBAT_API__SECRET")
        body = await _read_bounded(request, batch=batch)
        stamp, given = request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER)
        if not stamp or not given:
            raise Failure(401, "unsigned", f"sign the request: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers")
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise Failure(401, "unsigned", f"{TIMESTAMP_HEADER} must be unix seconds")
        if abs(self.now() - int(stamp)) > self.settings.max_clock_skew_seconds:
            raise Failure(401, "stale_timestamp", f"{TIMESTAMP_HEADER} is more than "
                                                  f"{self.settings.max_clock_skew_seconds} s from the server's time")
        expected = signature(secret, stamp, request.method, request.raw_path, body)
        # A header of bytes that are not UTF-8 arrives as surrogates: compared as the bytes it was.
        if not hmac.compare_digest(expected.encode(), given.strip().encode("utf-8", "surrogateescape")):
            log.warning("%s %s: bad signature from %s", request.method, request.path, request.remote)
            raise Failure(401, "bad_signature", "the signature does not match the request and the shared secret")
        return body

    # --- the endpoints --------------------------------------------------------------------------

    async def post_event(self, request: web.Request, body: bytes) -> web.Response:
        value = _json_value(body, arrays=True)
        if isinstance(value, list):
            return await self._post_events(value)
        event = _validated(self.event_model(), value)
        recorded = await self.services.events.record(event)
        if recorded.refusal is not None:
            raise Failure(REFUSAL_STATUS[recorded.refusal], recorded.refusal.value, recorded.message)
        return _json(200 if recorded.repeated else 202, recorded.answer)

    async def _post_events(self, values: list) -> web.Response:
        """A batch: every event valid or none recorded (the error names the first bad one's index),
        then all recorded in one transaction and each answered as it would have been alone."""
        if not 1 <= len(values) <= MAX_EVENTS_PER_REQUEST:
            problem = f"a batch holds 1 to {MAX_EVENTS_PER_REQUEST} events; this one holds {len(values)}"
            raise Failure(422, "invalid", problem, [{"field": "body", "problem": problem}])
        for index, value in enumerate(values):  # malformed (400) before invalid (422), as a single body is
            if not isinstance(value, dict):
                raise Failure(400, "malformed_json", f"event {index} of the batch is not a JSON object",
                              [{"index": index, "problem": "not a JSON object"}])
        events = []
        for index, value in enumerate(values):
            try:
                events.append(_validated(self.event_model(), value))
            except Failure as failure:
                raise Failure(failure.status, failure.code, f"event {index} of the batch: {failure.message}",
                              [{"index": index, **detail} for detail in failure.details or []]) from None
        recorded = await self.services.events.record_many(events)
        return _json(200, EventResults(results=[_result(one) for one in recorded]))

    async def get_deliveries(self, request: web.Request, body: bytes) -> web.Response:
        event_id, plate = request.query.get("event_id"), request.query.get("plate")
        if (event_id is None) == (plate is None):
            raise Failure(422, "invalid", "give either event_id or plate")
        for name, value in (("event_id", event_id), ("plate", plate)):
            if value is not None and (problem := _text_problem(value)):
                raise Failure(422, "invalid", f"{name} {problem}")
        if plate is not None:
            parsed = parse_plate(plate)
            if parsed is None:
                raise Failure(422, "invalid", f"{plate!r} is not a plate of any country the queue knows")
            plate = parsed.canonical
        found = await self.services.events.deliveries(event_id=event_id, plate=plate, limit=MAX_DELIVERIES)
        if found is None:
            raise Failure(404, "unknown_event", f"no event {event_id!r}")
        return _json(200, Deliveries(deliveries=found))

    async def put_truck(self, request: web.Request, body: bytes) -> web.Response:
        value = _json_object(body)
        if "version" not in value:
            # The phones replace the whole list: without a version, a replay or a late request
            # would set back a newer list (428: a request that must be conditional, to lose no update).
            raise Failure(428, "version_required", "give \"version\": the version of the truck's record, greater "
                                                   "with each change; a registration without one is not applied")
        truck = _validated(TruckPhones, value)
        try:
            registered = await self.services.registry.register(request.match_info["plate"], truck.phones,
                                                               truck.version)
        except InvalidRegistration as exc:
            raise Failure(422, "invalid", str(exc)) from None
        if isinstance(registered, Superseded):
            log.warning("truck %s: registration version %d refused, version %d applied already",
                        registered.plate, registered.version, registered.applied)
            raise Failure(409, "stale_version", f"version {registered.version} of {registered.plate} is not newer "
                                                f"than version {registered.applied}, applied already: nothing changed",
                          [{"field": "version", "problem": "not newer than the version applied",
                            "applied": registered.applied}])
        log.info("truck %s registered with %d phones (version %d); %d accounts follow it by phone",
                 registered.plate, len(registered.phones), registered.version, len(registered.following))
        return _json(200, registered)

    async def get_openapi(self, request: web.Request, body: bytes) -> web.Response:
        if self._document is None:
            self._document = openapi_document(self.routes(), self.settings.max_clock_skew_seconds)
        return web.json_response(self._document)


def _result(recorded: Recorded) -> EventAccepted | EventRefused:
    """One event of a batch, answered as `post_event` would have answered it alone."""
    if recorded.refusal is not None:
        return EventRefused(status=REFUSAL_STATUS[recorded.refusal], error=recorded.refusal.value,
                            message=recorded.message)
    return EventAccepted(status=200 if recorded.repeated else 202, **recorded.answer.model_dump())


async def _read_bounded(request: web.Request, *, batch: bool = False) -> bytes:
    """The body, read no further than MAX_BODY_BYTES: a huge post is refused before it fills memory.
    Where a batch is taken, a body that is an array (its first non-blank byte a "[") may run on to
    MAX_BATCH_BODY_BYTES; one event stays within MAX_BODY_BYTES, as it always was."""
    most = MAX_BATCH_BODY_BYTES if batch else MAX_BODY_BYTES
    if request.content_length is not None and request.content_length > most:
        raise Failure(413, "too_large", f"the body is over {most} bytes")
    chunks, size, first = [], 0, b""
    while chunk := await request.content.read(16 * 1024):
        size += len(chunk)
        chunks.append(chunk)
        first = first or chunk.lstrip(b" \t\r\n")[:1]
        if size > MAX_BODY_BYTES and first != b"[":
            raise Failure(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
        if size > most:
            raise Failure(413, "too_large", f"the body is over {most} bytes")
    return b"".join(chunks)


def _json_object(body: bytes) -> dict:
    return _json_value(body)


def _json_value(body: bytes, *, arrays: bool = False) -> dict | list:
    """The body as a JSON object, or (`arrays`) as an array; its elements are checked by the caller."""
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Failure(400, "malformed_json", f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise Failure(400, "malformed_json", "the body is nested too deeply to be what any request takes") from None
    if arrays and isinstance(value, list):
        pass
    elif not isinstance(value, dict):
        raise Failure(400, "malformed_json", "the body must be a JSON object"
                      + (f", or an array of 1 to {MAX_EVENTS_PER_REQUEST} of them" if arrays else ""))
    if isinstance(value, dict):
        if problem := _strings_problem(value):
            raise Failure(400, "malformed_json", f"a string of the body {problem}")
        return value
    for index, item in enumerate(value):
        if problem := _strings_problem(item):
            raise Failure(400, "malformed_json", f"a string of event {index} of the batch {problem}",
                          [{"index": index, "problem": f"a string {problem}"}])
    return value


def _strings_problem(value) -> str | None:
    """What makes a string within `value` no text: no field takes it, and a database cannot store it
    (PostgreSQL refuses NUL in text)."""
    pending: list = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += item.keys()
            pending += item.values()
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str) and (problem := _text_problem(item)):
            return problem
    return None


def _text_problem(text: str) -> str | None:
    """What makes `text` no text a field takes: a NUL, or half of a surrogate pair (not Unicode)."""
    if "\x00" in text:
        return "holds a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate (\\ud800 to \\udfff), which is no Unicode character"
    return None


def _validated(model: type[BaseModel], value: dict):
    try:
        valid = model.model_validate(value)
    except ValidationError as exc:
        details = [{"field": ".".join(str(part) for part in error["loc"]), "problem": error["msg"]}
                   for error in exc.errors(include_url=False, include_input=False)]
        raise Failure(422, "invalid", "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details),
                      details) from None
    if fields := _times_beyond_utc(valid):
        problem = "a time that is not in the years 1 to 9999 once in UTC"
        raise Failure(422, "invalid", "; ".join(f"{field}: {problem}" for field in fields),
                      [{"field": field, "problem": problem} for field in fields])
    return valid


def _times_beyond_utc(value, path: tuple[str, ...] = ()) -> list[str]:
    """The fields of times that are stored in UTC and that UTC cannot hold (9999-12-31T23:00-05:00)."""
    if isinstance(value, BaseModel):
        return [field for name in type(value).model_fields
                for field in _times_beyond_utc(getattr(value, name), (*path, name))]
    if isinstance(value, list):
        return [field for i, item in enumerate(value) for field in _times_beyond_utc(item, (*path, str(i)))]
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            return [".".join(path)]
    return []


def _json(status: int, model: BaseModel, **dump) -> web.Response:
    return web.Response(status=status, text=model.model_dump_json(**dump), content_type="application/json")


def _error(status: int, code: str, message: str, details: list[dict] | None = None) -> web.Response:
    return _json(status, ApiError(error=code, message=message, details=details), exclude_none=True)

"""The border system's API as a table of routes: each endpoint's method, path, handler, what it takes
and what it answers. The server routes by it (`border_api.endpoints`) and the OpenAPI document is
built from it (`border_api.openapi`), so the document names exactly what the server does.

Every request but the document is signed with the two headers below (see `border_api.endpoints`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from services.accounts.registry import Registered, TruckPhones
from services.notices.events import DeliveryView, EventAnswer

PREFIX = "/v1"
MAX_BODY_BYTES = 64 * 1024
# A border system reporting thousands of trucks posts its events in batches: one signed request,
# one transaction. 500 keeps a batch's transaction short (well under a second on SQLite) and its
# answer small; a batch's body may be larger than one event's, enough for 500 events of any size.
MAX_EVENTS_PER_REQUEST = 500
MAX_BATCH_BODY_BYTES = 2 * 1024 * 1024
MAX_DELIVERIES = 500  # rows of one GET /v1/deliveries?plate=..., the newest events first
TIMESTAMP_HEADER = "X-Nobat-Timestamp"
SIGNATURE_HEADER = "X-Nobat-Signature"


class ApiError(BaseModel):
    """Every error the API answers."""

    error: str = Field(description="A stable code, e.g. bad_signature, unknown_truck, invalid")
    message: str = Field(description="What is wrong, for a person reading the log")
    details: list[dict] | None = Field(None, description="For invalid: each field that failed, and why; for "
                                                         "stale_version: the version applied (applied)")


class EventAccepted(EventAnswer):
    """One event of a batch, recorded now (status 202) or a repeat (200): its answer had it come alone."""

    status: Literal[200, 202] = Field(description="The status the event would have had alone")


class EventRefused(BaseModel):
    """One event of a batch, refused and not stored: the error it would have had alone."""

    status: int = Field(description="The status the event would have had alone: 404, 409 or 422")
    error: str = Field(description="unknown_truck, unknown_booking, mismatch, outside_schedule, ambiguous_booking, "
                                   "booking_ended, slot_full or truck_busy")
    message: str


class EventResults(BaseModel):
    """What `POST /v1/events` answers to a batch: each event's result, in the order they were sent."""

    results: list[EventAccepted | EventRefused]


class Deliveries(BaseModel):
    deliveries: list[DeliveryView]


@dataclass(frozen=True)
class Route:
    """One endpoint, as the server routes it and as the OpenAPI document describes it."""

    method: str
    path: str
    handler: str  # the BorderApi method's name
    summary: str
    # A status's description and the model of its body; a tuple of models: one of them.
    responses: dict[int, tuple[str, type[BaseModel] | tuple[type[BaseModel], ...] | None]]
    signed: bool = True
    body: type[BaseModel] | None = None
    batch: int = 0  # >0: the body may also be an array of 1 to `batch` bodies, up to MAX_BATCH_BODY_BYTES
    query: list[tuple[str, str]] = field(default_factory=list)  # name, description (all optional strings)
    path_params: list[tuple[str, str]] = field(default_factory=list)


_SIGNED_ERRORS = {
    401: ("Unsigned, a bad signature, or a timestamp out of the allowed skew (unsigned, bad_signature, "
          "stale_timestamp)", ApiError),
    503: ("The API has no secret configured (not_configured), or the database is unavailable (unavailable)",
          ApiError),
}
_BODY_ERRORS = {
    400: ("The body is not a JSON object: not UTF-8 JSON, nested too deeply, not an object, or a string with NUL or "
          "a lone surrogate (malformed_json)", ApiError),
    413: (f"The body is over {MAX_BODY_BYTES} bytes (too_large)", ApiError),
    422: ("A field is missing or wrong (invalid)", ApiError),
}


def routes(event_model: type[BaseModel]) -> list[Route]:
    """Every endpoint; `event_model` is the event as this server's configured checkpoints allow it."""
    return [_event_route(event_model), *_OTHER_ROUTES]


def _event_route(event_model: type[BaseModel]) -> Route:
    return Route("POST", "/v1/events", "post_event", f"Record one status of a truck, or a batch of up to "
                 f"{MAX_EVENTS_PER_REQUEST} in one transaction; their followers will be told", {
        202: ("Recorded: deliveries queued (outcome queued), or nobody follows the truck (no_recipient)", EventAnswer),
        200: ("A repeated event_id: the first answer, nothing recorded again. A batch (an array): {\"results\": "
              "[...]}, each event's own answer and the status it would have had alone, in the order sent; an "
              "event_id repeated within the batch is answered as a repeat", (EventAnswer, EventResults)),
        404: ("No such truck (unknown_truck) or booking (unknown_booking; for booking_moved naming a plate alone: "
              "the plate has no booking at the checkpoint)", ApiError),
        409: ("The booking cannot be changed so, nothing recorded: a plate alone naming several bookings "
              "(ambiguous_booking); booking_moved of a booking no longer booked (booking_ended), to a full time "
              "(slot_full: a move never overfills a time), or to a day the truck has another booking "
              "(truck_busy)", ApiError),
        **_BODY_ERRORS, **_SIGNED_ERRORS,
        400: ("The body is not a JSON object nor an array of them: not UTF-8 JSON, nested too deeply, or a string "
              "with NUL or a lone surrogate (malformed_json); for a batch, details name the element (index). "
              "Nothing recorded", ApiError),
        413: (f"The body is over {MAX_BODY_BYTES} bytes, or a batch's over {MAX_BATCH_BODY_BYTES} (too_large)",
              ApiError),
        422: ("A field is missing or wrong, an unknown type or checkpoint (invalid); a booking of another plate or "
              "checkpoint than the event names (mismatch); booking_moved to a time that is no slot start of the "
              f"checkpoint, or past (outside_schedule). A batch that is empty, has over {MAX_EVENTS_PER_REQUEST} "
              "events, or an event that is invalid (details name its index) is refused whole (invalid), nothing "
              "recorded", ApiError),
    }, body=event_model, batch=MAX_EVENTS_PER_REQUEST)


_OTHER_ROUTES = [
    Route("GET", "/v1/deliveries", "get_deliveries", "Who was told of an event, or of a truck's events", {
        200: (f"Each chat's delivery (for a plate: of its newest events, at most {MAX_DELIVERIES})", Deliveries),
        404: ("No event of that event_id (unknown_event)", ApiError),
        422: ("Neither or both of event_id and plate, or not a plate (invalid)", ApiError),
        **_SIGNED_ERRORS,
    }, query=[("event_id", "An event's event_id"), ("plate", "A truck's plate, in any spelling")]),
    Route("PUT", "/v1/trucks/{plate}", "put_truck", "Set the phones registered for a truck", {
        200: ("Registered; accounts that shared one of the phones follow the truck", Registered),
        409: ("Not newer than the version applied: the same registration again, or one overtaken by a later one; "
              "nothing changed (stale_version)", ApiError),
        428: ("No version in the body (version_required)", ApiError),
        **_BODY_ERRORS, **_SIGNED_ERRORS,
    }, body=TruckPhones, path_params=[("plate", "The truck's plate, in any spelling")]),
    Route("GET", "/v1/openapi.json", "get_openapi", "This document", {200: ("OpenAPI 3.1", None)}, signed=False),
]

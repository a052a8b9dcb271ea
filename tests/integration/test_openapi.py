"""The OpenAPI document and the server agree: every documented path and method exists and answers
each of its documented codes (and no other) to the requests that call for them; the document's
schemas accept what the server accepts and answers, and refuse what it refuses."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from border_api.endpoints import BorderApi
from border_api.routes import MAX_EVENTS_PER_REQUEST
from border_api.settings import ApiSettings
from bot.config import load_settings
from bot.web import API, Listener, WebServer, build_web_app
from services.container import Services
from tests.border import SECRET, Border, event


@pytest.fixture
async def servers(db, clock):
    """The API alone on a free port, with the shared secret and, beside it, one without."""
    settings = load_settings()
    services = Services.build(db, settings.checkpoints, settings.booking, clock)
    await services.accounts.ensure(7201, "Driver", "ru")
    await services.trucks.add(7201, "123 ABC 02")
    await services.trucks.add(7201, "555 KZA 01")
    # 123 ABC 02 booked on two days (a plate alone then names no one booking: 409), 555 KZA 01 on one.
    khorgos = services.checkpoints["khorgos"]
    days = services.calendar.horizon_days(khorgos)
    for truck, day in [(0, days[0]), (0, days[1]), (1, days[0])]:
        slot = (await services.calendar.day_slots(khorgos, day))[0]
        hold = (await services.booking.take(7201, (await services.trucks.list(7201))[truck].id, slot.slot_id)).hold
        await services.booking.confirm(7201, hold.id)
    started = []
    for secret in (SECRET, None):
        server = WebServer(build_web_app(api=BorderApi(services, ApiSettings(secret=secret, port=0))),
                           [Listener(API, "127.0.0.1", 0)])
        await server.start()
        started.append(server)
    yield [Border(f"http://127.0.0.1:{server.port(API)}") for server in started]
    for server in started:
        await server.stop()


def validator(document: dict, schema: dict) -> Draft202012Validator:
    """A validator of one schema of the document (a $ref into it), the refs resolved within it."""
    whole = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:openapi", whole)
    return Draft202012Validator({"$ref": "urn:openapi" + schema["$ref"]}, registry=registry)


TOO_BIG = {**event("big"), "padding": "x" * (65 * 1024)}

# (method, path as sent, body, which server, expected status): a request for every documented code.
SCENARIOS = [
    ("POST", "/v1/events", event("doc-1"), "signed", 202),
    ("POST", "/v1/events", event("doc-1"), "signed", 200),  # the repeat
    # A batch: one new, one repeat of the above, one unknown truck; each its own result, the whole 200.
    ("POST", "/v1/events", [event("doc-7"), event("doc-1"), event("doc-8", plate="777 KZX 01")], "signed", 200),
    ("POST", "/v1/events", b"{not json", "signed", 400),
    ("POST", "/v1/events", [event("doc-9"), "an event"], "signed", 400),
    ("POST", "/v1/events", [], "signed", 422),
    ("POST", "/v1/events", [event(f"doc-many-{i}") for i in range(MAX_EVENTS_PER_REQUEST + 1)], "signed", 422),
    ("POST", "/v1/events", [event("doc-10", details={"reason": "r" * 1000})] * 2200, "signed", 413),
    ("POST", "/v1/events", event("doc-2"), "unsigned", 401),
    ("POST", "/v1/events", event("doc-3", plate="777 KZX 01"), "signed", 404),
    ("POST", "/v1/events", event("doc-6", type="booking_cancelled"), "signed", 409),  # which of its two bookings?
    ("POST", "/v1/events", TOO_BIG, "signed", 413),
    ("POST", "/v1/events", event("doc-4", type="teleported"), "signed", 422),
    ("POST", "/v1/events", event("doc-5"), "no secret", 503),
    ("GET", "/v1/deliveries?event_id=doc-1", None, "signed", 200),
    ("GET", "/v1/deliveries?plate=" + quote("123 ABC 02"), None, "signed", 200),
    ("GET", "/v1/deliveries?event_id=doc-1", None, "unsigned", 401),
    ("GET", "/v1/deliveries?event_id=nothing", None, "signed", 404),
    ("GET", "/v1/deliveries", None, "signed", 422),
    ("GET", "/v1/deliveries?event_id=doc-1", None, "no secret", 503),
    ("PUT", "/v1/trucks/" + quote("777 KZX 01"), {"version": 1, "phones": ["+7 701 234 56 78"]}, "signed", 200),
    ("PUT", "/v1/trucks/777KZX01", {"version": 1, "phones": ["+7 701 234 56 78"]}, "signed", 409),  # the replay
    ("PUT", "/v1/trucks/777KZX01", b"[", "signed", 400),
    ("PUT", "/v1/trucks/777KZX01", {"version": 2, "phones": []}, "unsigned", 401),
    ("PUT", "/v1/trucks/777KZX01", {"version": 2, "phones": ["1" * 70_000]}, "signed", 413),
    ("PUT", "/v1/trucks/777KZX01", {"version": 2, "phones": ["nope"]}, "signed", 422),
    ("PUT", "/v1/trucks/777KZX01", {"phones": []}, "signed", 428),
    ("PUT", "/v1/trucks/777KZX01", {"version": 2, "phones": []}, "no secret", 503),
    ("GET", "/v1/openapi.json", None, "unsigned", 200),
]


def _template(path: str) -> str:
    bare = path.split("?")[0]
    return "/v1/trucks/{plate}" if bare.startswith("/v1/trucks/") else bare


async def test_every_documented_code_is_answered_and_every_answer_is_documented(servers):
    signed, unconfigured = servers
    status, document = await signed.call("GET", "/v1/openapi.json", signed=False)
    assert status == 200 and document["openapi"] == "3.1.0"
    Draft202012Validator.check_schema(document["components"]["schemas"]["EventIn"])
    seen: dict[tuple[str, str], set[int]] = {}
    for method, path, body, which, expected in SCENARIOS:
        client = unconfigured if which == "no secret" else signed
        status, answer = await client.call(method, path, body, signed=which != "unsigned")
        assert status == expected, (method, path, answer)
        operation = document["paths"][_template(path)][method.lower()]
        assert str(status) in operation["responses"], (method, path, status)
        schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
        if "$ref" in schema:
            validator(document, schema).validate(answer)
        else:
            assert schema == {"type": "object"} and isinstance(answer, dict)
        seen.setdefault((_template(path), method.lower()), set()).add(status)
        if isinstance(body, dict | list) and 200 <= status < 300 and "requestBody" in operation:
            # What the server took, the document's schema takes too.
            validator(document, operation["requestBody"]["content"]["application/json"]["schema"]).validate(body)
    documented = {(path, method): {int(code) for code in operation["responses"]}
                  for path, methods in document["paths"].items() for method, operation in methods.items()}
    assert seen == documented, "each documented path, method and code is exercised, and nothing else answers"


async def test_the_documents_event_schema_takes_what_the_server_takes_and_refuses_what_it_refuses(servers):
    signed, _ = servers
    _, document = await signed.call("GET", "/v1/openapi.json", signed=False)
    schema = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    events = validator(document, schema)
    taken = [
        event("ok-1"),
        event("ok-2", type="queue_position", details={"queue_position": 3}),
        event("ok-3", type="documents_required", details={"documents": ["CMR", "TIR carnet"]}),
        event("ok-4", type="booking_moved", plate="555 KZA 01",
              details={"new_time": "2026-11-24T10:00:00+05:00", "reason": "snow"}),
        event("ok-5", type="exited", checkpoint="khorgos", details={}),
    ]
    for body in taken:
        assert events.is_valid(body), body
        status, answer = await signed.post_event(body)
        assert status == 202, answer
    refused = [
        event("no-1", type="teleported"),
        event("no-2", checkpoint="atlantis"),
        event("no-3", plate=None),
        event("no-4", details={"colour": "red"}),
        event("no-5", details={"reason": "r" * 501}),
        event("x" * 65),
        {**event("no-6"), "extra": 1},
    ]
    for body in refused:
        assert not events.is_valid(body), body
        status, answer = await signed.post_event(body)
        assert (status, answer["error"]) == (422, "invalid"), (body, answer)
    codes = document["components"]["schemas"]["EventIn"]["properties"]["checkpoint"]["enum"]
    assert codes == [checkpoint.code for checkpoint in load_settings().checkpoints]


async def test_the_documents_batch_schema_takes_what_the_server_takes_and_refuses_what_it_refuses(servers):
    signed, _ = servers
    _, document = await signed.call("GET", "/v1/openapi.json", signed=False)
    operation = document["paths"]["/v1/events"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    schemas = document["components"]["schemas"]
    assert schemas["EventInOrBatch"]["oneOf"] == [{"$ref": "#/components/schemas/EventIn"},
                                                  {"$ref": "#/components/schemas/EventInBatch"}]
    assert (schemas["EventInBatch"]["minItems"], schemas["EventInBatch"]["maxItems"]) == (1, MAX_EVENTS_PER_REQUEST)
    events, answers = validator(document, body), validator(document, answer)
    taken = [
        [event("batch-1")],
        [event("batch-2"), event("batch-3", type="queue_position", details={"queue_position": 3}),
         event("batch-2"), event("batch-4", plate="777 KZX 01")],
        [event(f"batch-full-{i}", type="arrived") for i in range(MAX_EVENTS_PER_REQUEST)],
    ]
    for batch in taken:
        assert events.is_valid(batch), batch[:2]
        status, results = await signed.call("POST", "/v1/events", batch)
        assert status == 200, results
        answers.validate(results)
        assert len(results["results"]) == len(batch)
    refused = [
        [],
        [event(f"batch-many-{i}") for i in range(MAX_EVENTS_PER_REQUEST + 1)],
        [event("batch-5"), event("batch-6", type="teleported")],
        [event("batch-7"), {**event("batch-8"), "extra": 1}],
        [event("batch-9"), [event("batch-10")]],
    ]
    for batch in refused:
        assert not events.is_valid(batch), batch[:2]
        status, error = await signed.call("POST", "/v1/events", batch)
        assert status in (400, 422), error
        validator(document, operation["responses"][str(status)]["content"]["application/json"]["schema"]
                  ).validate(error)

"""The OpenAPI 3.1 document of the border system's API, built from what the server itself uses: its
route table (`border_api.routes`) and the pydantic models it validates and answers with, so the
document cannot promise a field, a code or a path the server does not have."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from border_api.routes import MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES, SIGNATURE_HEADER, TIMESTAMP_HEADER, Route

REF = "#/components/schemas/{model}"


def openapi_document(routes: list[Route], max_clock_skew_seconds: int) -> dict:
    """The document of these routes, as served where timestamps this far from the server's time are refused."""
    models = _models(routes)
    refs, schemas = models_json_schema([(model, mode) for model, mode in models], ref_template=REF)
    paths: dict[str, dict] = {}
    components = schemas.get("$defs", {})
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs)
        for _why, model in route.responses.values():
            if isinstance(model, tuple):  # a body of one of several shapes, named as the request's
                components["Or".join(one.__name__ for one in model)] = {
                    "oneOf": [refs[(one, "serialization")] for one in model]}
        if route.batch:
            # One body or an array of them: named, so a client's generated code has a type for each.
            one = refs[(route.body, "validation")]
            name = route.body.__name__
            components[f"{name}Batch"] = {
                "type": "array", "items": one, "minItems": 1, "maxItems": route.batch,
                "description": f"1 to {route.batch} of them, recorded in one transaction, each answered as if "
                               f"it had come alone; a body of at most {MAX_BATCH_BODY_BYTES} bytes"}
            components[f"{name}OrBatch"] = {"oneOf": [one, {"$ref": REF.format(model=f"{name}Batch")}]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Nobat: the border system's API",
            "version": "1",
            "description": (
                "Signed requests: X-Nobat-Timestamp (unix seconds) and X-Nobat-Signature: sha256=<hex>, the "
                "HMAC-SHA256 with the shared secret of four lines joined by \"\\n\" (no newline at the end): the "
                "timestamp, the METHOD, the path?query exactly as sent on the request line, and the lowercase hex "
                "SHA-256 of the body's raw bytes (of no bytes for a GET). A timestamp more than "
                f"{max_clock_skew_seconds} s from the server's time is refused; within that skew, a request that "
                "changes state names itself, so its replay changes nothing: an event by its event_id (the first "
                "answer again), a truck's registration by its version (one not newer than the version applied: "
                f"409). Bodies of at most {MAX_BODY_BYTES} bytes (a batch of events: {MAX_BATCH_BODY_BYTES}). "
                "Errors are {\"error\": code, \"message\": text}."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"hmac": {"type": "apiKey", "in": "header", "name": SIGNATURE_HEADER,
                                         "description": f"With {TIMESTAMP_HEADER}; see the description above."}},
        },
    }


def _models(routes: list[Route]) -> list[tuple[type[BaseModel], str]]:
    found: list[tuple[type[BaseModel], str]] = []
    for route in routes:
        wanted = [(route.body, "validation")] if route.body else []
        wanted += [(model, "serialization") for _why, models in route.responses.values()
                   for model in (models if isinstance(models, tuple) else (models,)) if model is not None]
        found += [pair for pair in wanted if pair not in found]
    return found


def _operation(route: Route, refs: dict) -> dict:
    operation: dict = {"operationId": route.handler, "summary": route.summary, "responses": {}}
    parameters = [{"name": name, "in": "path", "required": True, "description": why, "schema": {"type": "string"}}
                  for name, why in route.path_params]
    parameters += [{"name": name, "in": "query", "required": False, "description": why,
                    "schema": {"type": "string"}} for name, why in route.query]
    if route.signed:
        parameters += [
            {"name": TIMESTAMP_HEADER, "in": "header", "required": True, "description": "Unix seconds",
             "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}},
            {"name": SIGNATURE_HEADER, "in": "header", "required": True, "description": "sha256=<hex HMAC-SHA256>",
             "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"}},
        ]
        operation["security"] = [{"hmac": []}]
    else:
        operation["security"] = []
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        body = ({"$ref": REF.format(model=f"{route.body.__name__}OrBatch")} if route.batch
                else refs[(route.body, "validation")])
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    for status, (why, model) in sorted(route.responses.items()):
        answer: dict = {"description": why}
        if isinstance(model, tuple):
            schema = {"$ref": REF.format(model="Or".join(one.__name__ for one in model))}
        else:
            schema = refs[(model, "serialization")] if model is not None else {"type": "object"}
        answer["content"] = {"application/json": {"schema": schema}}
        operation["responses"][str(status)] = answer
    return operation

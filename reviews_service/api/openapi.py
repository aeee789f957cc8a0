"""Shared OpenAPI pieces: media types, the Problem schema, error answers by status, the bearer scheme.

Routes declare what they really answer with `**answers(MEDIA, 404, 422, ...)` in their decorator; `install()`
adds the Problem schema to the document and drops FastAPI's generic 422 (application/json, a shape this service
never sends), so every error a route documents is the `application/problem+json` one it actually sends.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Security
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer

JSON = "application/json"
HTML = "text/html"
SVG = "image/svg+xml"
JS = "application/javascript"
CSS = "text/css"
LD = "application/ld+json"
NDJSON = "application/x-ndjson"
CSV = "text/csv"
PROBLEM = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem: what went wrong, in words a person can act on.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "a URI naming the kind of problem"},
        "title": {"type": "string", "description": "the kind of problem, e.g. Invalid input"},
        "status": {"type": "integer", "description": "the HTTP status"},
        "detail": {"type": "string", "description": "what was wrong with this request"},
        "errors": {
            "type": "array",
            "description": "one entry per invalid field (422 only)",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

_TIME = {"type": ["string", "null"], "description": "UTC ISO 8601, e.g. 2026-11-20T12:00:00.000Z"}
SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["business_unit", "review_count", "average", "histogram", "display", "updated_at"],
    "properties": {
        "business_unit": {"type": "string"},
        "product": {"type": "string", "description": "the sku (product summaries only)"},
        "review_count": {"type": "integer", "minimum": 0},
        "average": {"type": ["number", "null"], "minimum": 1, "maximum": 5, "description": "null without reviews"},
        "histogram": {
            "type": "object",
            "required": ["1", "2", "3", "4", "5"],
            "additionalProperties": {"type": "integer", "minimum": 0},
        },
        "display": {
            "type": "object",
            "required": ["value", "scale"],
            "properties": {"value": {"type": ["number", "null"]}, "scale": {"enum": [5, 10]}},
        },
        "last_review_at": _TIME,
        "updated_at": _TIME,
    },
}
REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "source", "rating", "title", "text", "language", "author", "verified", "product", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "source": {"type": "string"},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "language": {"type": ["string", "null"]},
        "author": {"type": "string", "description": "display name only"},
        "verified": {"type": "boolean"},
        "product": {"type": ["string", "null"], "description": "the sku; null for a shop review"},
        "created_at": {"type": "string"},
        "reply": {
            "type": ["object", "null"],
            "properties": {"text": {"type": "string"}, "created_at": _TIME},
        },
        "score": {
            "type": ["object", "null"],
            "description": "the platform's own score (e.g. Kiyoh's 8 of 10) where the shop's display scale is "
            "that platform's; `rating` is its 1-5 stars",
            "properties": {"value": {"type": "number"}, "scale": {"type": "integer"}},
        },
        "photos": {
            "type": "array",
            "description": "the buyer's published photos (at most 3): JPEGs with no metadata, on the service's URL",
            "items": {
                "type": "object",
                "required": ["url", "thumbnail_url"],
                "properties": {"url": {"type": "string"}, "thumbnail_url": {"type": "string"}},
            },
        },
    },
}
REVIEW_PAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": REVIEW_SCHEMA},
        "next_cursor": {"type": ["string", "null"], "description": "pass as `cursor` for the next page"},
    },
}
UNIT_SAVED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The business unit as saved (POST also says whether it was `created`)",
    "required": ["slug", "name", "sources", "warnings"],
    "properties": {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "domain": {"type": "string"},
        "locales": {"type": "array", "items": {"type": "string"}},
        "timezone": {"type": "string"},
        "display_scale": {"enum": [5, 10]},
        "sources": {"type": "object", "description": "per source its settings"},
        "reviews_url": {"type": "string"},
        "reviews_link": {"type": "string", "description": "what the widgets link to"},
        "invitations": {
            "type": "object",
            "description": "when buyers are asked for reviews: the first mail `delay_days` after the order, one "
            "reminder `reminder_days` after that (0: none), the link valid `expiry_days` from the order",
            "properties": {
                "delay_days": {"type": "number", "minimum": 0, "maximum": 60},
                "reminder_days": {"type": "number", "minimum": 0, "maximum": 60},
                "expiry_days": {"type": "integer", "minimum": 1, "maximum": 365},
            },
        },
        "created": {"type": "boolean"},
        "warnings": {
            "type": "array",
            "description": "per given source that is saved but could not be checked with its platform now (the "
            "platform unreachable or failing, or its key/token not set in the environment yet): what will fail and "
            "how to fix it. A source the platform refuses (wrong key, unknown domain, id or location) is a 422 "
            "instead, and nothing is saved",
            "items": {
                "type": "object",
                "required": ["source", "message"],
                "properties": {"source": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

WHY = {
    400: "The body cannot be read: empty, not UTF-8, malformed JSON, or not the file format named",
    401: "No admin token, or an unknown or revoked one (`WWW-Authenticate: Bearer`)",
    403: "The token is limited to another business unit",
    404: "No such business unit, product, review or token",
    409: "The job is running right now (the scheduler, or another collect): try again when it is done",
    413: "The body is over the size limit",
    415: "The body is not JSON (send `Content-Type: application/json`)",
    422: "A value that parses but is out of range or of the wrong form (`errors` names each field), or a source "
    "configuration that cannot work (the detail says why)",
    429: "Too many requests from this address (`Retry-After` says when to try again)",
    502: "The review source refused or kept failing; the detail says which and what to do",
    503: "Busy, or the database is unreachable: try again shortly",
}
ADMIN_ERRORS = (401, 403)
# The header is read by deps.admin; this declares the scheme (the lock in /docs) without changing who is accepted.
BEARER = Security(HTTPBearer(auto_error=False, description="An admin token: `Authorization: Bearer <token>`"))


def _is_json(media_type: str) -> bool:
    return media_type == JSON or media_type.endswith("+json")  # not x-ndjson: that is lines of JSON


def answers(
    media_type: str,
    *errors: int,
    also: tuple[str, ...] = (),
    created: bool = False,
    status: int = 200,
    schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Decorator keywords for a route answering `media_type` (and `also`), with these problem statuses.

    `created=True`: the route answers 201 when it creates and 200 when it updates; `status=201`: it always creates.
    `schema`: the JSON schema of the `media_type` answer, checked by the schemathesis test.
    """
    base = JSONResponse if _is_json(media_type) else Response
    response_class = type(f"{media_type.replace('/', '_')}_Response", (base,), {"media_type": media_type})
    schemas = {m: {"schema": {"type": "object"} if _is_json(m) else {"type": "string"}} for m in (media_type, *also)}
    if schema is not None:
        schemas[media_type] = {"schema": schema}
    success = {"content": schemas}
    responses: dict[int | str, dict[str, Any]] = {status: success}
    if created:
        responses[201] = {"description": "Created", **success}
    for status in errors:
        responses[status] = {
            "description": WHY[status],
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return {"response_class": response_class, "responses": responses}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` build the document with the Problem schema and without FastAPI's generic 422."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
        )
        for operations in doc.get("paths", {}).values():
            for operation in operations.values():
                generic = operation.get("responses", {}).get("422", {}).get("content", {}).get(JSON)
                if generic is not None:
                    del operation["responses"]["422"]  # a route that can answer 422 declares it with answers()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        schemas["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]

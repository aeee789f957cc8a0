"""Admin routes for recurring complaints: a unit's topics, and the taxonomy they are counted with."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from reviews_service import complaints, repository
from reviews_service.api.admin import LOCALE_PATTERN
from reviews_service.api.deps import AdminDep, NowDep, StateDep, json_response
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, JSON, answers
from reviews_service.errors import InvalidInput

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[BEARER])
_WHEN = {"type": "string", "description": "UTC ISO 8601"}
TOPIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "source", "label", "count", "previous_count", "change", "trend", "recurring", "windows"],
    "properties": {
        "id": {"type": "string", "description": "an aspect id, or discovered:<slug>"},
        "source": {"enum": ["taxonomy", "discovered"]},
        "label": {"type": "string", "description": "the aspect's label in `locale`, or a theme's top n-grams"},
        "count": {"type": "integer", "description": "complaints in the last `days`"},
        "previous_count": {"type": "integer", "description": "complaints in the `days` before those"},
        "change": {"type": "integer"},
        "trend": {"enum": ["up", "down", "flat"], "description": "moved by >= 2 and >= 20 %: up/down"},
        "recurring": {"type": "boolean", "description": "complaints in 3 of the last 4 windows"},
        "windows": {"type": "array", "items": {"type": "integer"}, "description": "counts, newest window first"},
        "examples": {"type": "array", "items": {"type": "string"}, "description": "review ids, newest first"},
        "terms": {"type": "array", "items": {"type": "string"}},
    },
}
COMPLAINTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["business_unit", "days", "complaints", "previous_complaints", "capped", "topics"],
    "properties": {
        "business_unit": {"type": "string"},
        "days": {"type": "integer"},
        "window": {"type": "object", "properties": {"start": _WHEN, "end": _WHEN}},
        "complaints": {"type": "integer"},
        "previous_complaints": {"type": "integer"},
        "reviews_read": {"type": "integer"},
        "capped": {"type": "boolean", "description": "true: older reviews than `capped_before` were not read"},
        "capped_before": {"type": ["string", "null"]},
        "topics": {"type": "array", "items": TOPIC_SCHEMA},
    },
}


@router.get("/business-units/{bu}/complaints", **answers(JSON, *ADMIN_ERRORS, 404, 422, schema=COMPLAINTS_SCHEMA))
def list_complaints(
    bu: str,
    principal: AdminDep,
    state: StateDep,
    now: NowDep,
    days: Annotated[int, Query(ge=1, le=complaints.MAX_DAYS, description="length of each window")] = 30,
    locale: Annotated[str | None, Query(pattern=LOCALE_PATTERN, description="labels in this language")] = None,
    examples: Annotated[int, Query(ge=0, le=20, description="example review ids per topic")] = 5,
) -> Response:
    """Recurring complaint topics (taxonomy aspects and discovered themes) with counts, trend and examples.

    Reads at most 10,000 reviews (newest first); `capped` says when older ones were left out."""
    principal.require(bu)
    found = complaints.complaint_topics(state, bu, now=now, days=days, locale=locale)
    return json_response(complaints.as_json(found, examples))


@router.get("/business-units/{bu}/taxonomy", **answers(JSON, *ADMIN_ERRORS, 404))
def get_taxonomy(bu: str, principal: AdminDep, state: StateDep) -> Response:
    """The unit's taxonomy override and the taxonomy in effect (the default with the override applied)."""
    principal.require(bu)
    unit = repository.get_business_unit(state, bu)
    effective = complaints.unit_taxonomy(unit, state)
    return json_response({"business_unit": bu, "override": unit.taxonomy, "effective": effective.to_dict()})


@router.put("/business-units/{bu}/taxonomy", **answers(JSON, 400, *ADMIN_ERRORS, 404, 413, 415, 422))
def put_taxonomy(bu: str, principal: AdminDep, state: StateDep, body: Annotated[dict[str, Any], Body()]) -> Response:
    """Replace the unit's taxonomy override: `{"aspects": {id: {label, labels, phrases, replace, enabled}}}`
    extends the default (`{}` goes back to it); checked first, 422 saying what is wrong."""
    principal.require(bu)
    repository.get_business_unit(state, bu)  # 404 before a 422
    try:
        effective = complaints.checked_taxonomy(body)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    unit, _ = repository.update_business_unit(state, bu, {"taxonomy": body}, create=False)
    return json_response({"business_unit": bu, "override": unit.taxonomy, "effective": effective.to_dict()})

"""Admin routes for a unit's review sources: their state (runs, failures, next run) and one collection now."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from reviews_service import domain, repository, source_store
from reviews_service.api.deps import AdminDep, NowDep, RegistryDep, SettingsDep, StateDep, json_response
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, JSON, answers
from reviews_service.collection import every_minutes, lease_key, run_source
from reviews_service.leases import owner_id

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[BEARER])
# a key that names a credential: its value is never shown, wherever it sits in a config or checkpoint
SECRET_KEY = re.compile(r"secret|token|password|passwd|api_?key|apikey|auth|credential|cookie", re.I)
REDACTED = "[redacted]"
_TIME = {"type": ["string", "null"], "description": "UTC ISO 8601, e.g. 2026-11-20T12:00:00.000Z"}

SOURCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["source", "known", "every_minutes", "last_outcome", "failures", "next_run_at", "checkpoint"],
    "properties": {
        "source": {"type": "string"},
        "known": {"type": "boolean", "description": "false: no collector has this name, it never runs"},
        "config": {"type": "object", "description": "the unit's settings for it, credentials redacted"},
        "every_minutes": {"type": "number"},
        "last_run_at": _TIME,
        "last_outcome": {"enum": ["ok", "failed", None]},
        "last_error": {"type": ["string", "null"], "description": "why the last run failed"},
        "failures": {"type": "integer", "description": "failed runs in a row; the scheduler backs off on them"},
        "next_run_at": {**_TIME, "description": "when the scheduler runs it next (null: at its next look)"},
        "checkpoint": {"type": "object", "description": "where the last sync got to, credentials redacted"},
        "last_report": {"type": "object", "description": "what the last run did (as the collect endpoint answers)"},
        "running": {
            "type": ["object", "null"],
            "description": "who is running it right now and until when their lease lasts",
            "properties": {"owner": {"type": "string"}, "lease_until": _TIME},
        },
    },
}
SOURCES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["business_unit", "items", "known_sources"],
    "properties": {
        "business_unit": {"type": "string"},
        "items": {"type": "array", "items": SOURCE_SCHEMA},
        "known_sources": {"type": "array", "items": {"type": "string"}},
    },
}


def redact(value: Any) -> Any:
    """`value` with every credential-named key's value replaced, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@router.get("/business-units/{bu}/sources", **answers(JSON, *ADMIN_ERRORS, 404, schema=SOURCES_SCHEMA))
def list_sources(bu: str, principal: AdminDep, state: StateDep, registry: RegistryDep, now: NowDep) -> Response:
    """Each configured source's state: last run, outcome, last error, failures in a row, next run, checkpoint."""
    principal.require(bu)
    unit = repository.get_business_unit(state, bu)
    states = source_store.source_states(bu)
    items = []
    for name, config in unit.sources.items():
        found = states.get(name) or domain.SourceState(business_unit=bu, source=name)
        holder = source_store.lease_holder(lease_key(bu, name), now=now)
        items.append(
            {
                "source": name,
                "known": name in registry,
                "config": redact(config),
                "every_minutes": every_minutes(name, config),
                "last_run_at": found.last_run_at,
                "last_outcome": found.last_outcome,
                "last_error": found.last_error,
                "failures": found.failures,
                "next_run_at": found.next_run_at,
                "checkpoint": redact(found.checkpoint),
                "last_report": found.last_report,
                "running": {"owner": holder[0], "lease_until": holder[1]} if holder else None,
            }
        )
    return json_response({"business_unit": bu, "items": items, "known_sources": sorted(registry)})


@router.post("/business-units/{bu}/collect/{source}", **answers(JSON, *ADMIN_ERRORS, 404, 409, 422, 502))
def collect(
    bu: str,
    source: str,
    principal: AdminDep,
    settings: SettingsDep,
    state: StateDep,
    registry: RegistryDep,
    full: Annotated[bool, Query(description="a full resync: catches edits and deletions")] = False,
) -> Response:
    """Run one collection of `source` now (409 while the scheduler runs it); answers what it did."""
    principal.require(bu)
    report = run_source(state, settings, registry, bu, source, owner=owner_id("api"), full=full)
    return json_response(report.as_dict())

"""Webhooks from review platforms: `POST /v1/hooks/trustpilot/{bu}`, and where an admin finds its URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from collectors import trustpilot_hooks
from collectors.trustpilot import NAME as TRUSTPILOT
from reviews_service import repository
from reviews_service.api.deps import AdminDep, NowDep, SettingsDep, StateDep, json_response, parse_json, read_body
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, JSON, answers

router = APIRouter(tags=["hooks"])
admin_router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[BEARER])


@router.post("/v1/hooks/trustpilot/{bu}", **answers(JSON, 400, 401, 404, 413, 422, 429))
async def trustpilot_hook(
    bu: str,
    request: Request,
    settings: SettingsDep,
    state: StateDep,
    now: NowDep,
    secret: Annotated[str | None, Query(max_length=200, description="the unit's hook secret")] = None,
) -> Response:
    """Trustpilot's review events (created, updated, deleted), authenticated by the unit's hook secret."""
    unit = await run_in_threadpool(repository.get_business_unit, state, bu)
    trustpilot_hooks.authenticate(settings, unit, secret)
    payload = parse_json(await read_body(request, settings))  # the public body limit applies (limits.py)
    answer = await run_in_threadpool(
        trustpilot_hooks.receive, state, unit, payload, now=now, max_text=settings.max_text_chars
    )
    return json_response(answer)


@admin_router.get("/business-units/{bu}/hooks/trustpilot", **answers(JSON, *ADMIN_ERRORS, 404))
def trustpilot_hook_url(bu: str, principal: AdminDep, settings: SettingsDep, state: StateDep) -> Response:
    """The path (with its secret) to give Trustpilot's business app as this unit's webhook URL."""
    principal.require(bu)
    unit = repository.get_business_unit(state, bu)
    configured = TRUSTPILOT in unit.sources  # the hook answers 404 until the unit has the source
    return json_response(
        {"business_unit": bu, "path": trustpilot_hooks.hook_path(settings, unit), "active": configured}
    )

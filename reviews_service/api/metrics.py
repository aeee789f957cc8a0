"""GET /metrics: the instance's counters in Prometheus' text exposition format.

Public unless REVIEWS_METRICS_TOKEN is set, in which case a scraper sends `Authorization: Bearer <that token>`
(a token of its own: an admin token would let the scraper change reviews too). Nothing in it is personal: routes
are templates, sources are collector names, no business unit is a label. Behind deploy/nginx/reviews.conf it is
not reachable from outside at all; Prometheus scrapes the API's own port.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from reviews_service.api.deps import SettingsDep, StateDep
from reviews_service.api.openapi import answers
from reviews_service.errors import Unauthorized
from reviews_service.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"])


@router.get("/metrics", **answers("text/plain", 401))
async def metrics(
    settings: SettingsDep,
    state: StateDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Requests by route template and status, latencies, widget cache hits, ingest, collector runs and e-mails."""
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        if not hmac.compare_digest((authorization or "").encode("utf-8", "replace"), expected):
            raise Unauthorized("GET /metrics needs `Authorization: Bearer <REVIEWS_METRICS_TOKEN>`.")
    # in a thread of its own (not the request pool, which a flood can fill): a big scrape never holds the event loop
    body = await asyncio.to_thread(state.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

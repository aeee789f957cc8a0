"""Liveness and what the service is connected to."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from reviews_service import __version__, store
from reviews_service.api.deps import json_response
from reviews_service.api.openapi import JSON, answers

router = APIRouter(tags=["health"])


@router.get("/health", **answers(JSON))
def health() -> Response:
    """Liveness: `status` ok, the version and which store the service uses."""
    info = store.current()
    return json_response(
        {
            "status": "ok" if info else "starting",
            "version": __version__,
            "store": None if info is None else ("embedded" if info.embedded else "mongodb"),
            "persistent": None if info is None else info.persistent,
        },
        headers={"Cache-Control": "no-store"},
    )

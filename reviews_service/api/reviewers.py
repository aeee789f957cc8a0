"""Admin routes for a reviewer's personal data: erasure (GDPR Art. 17) and export (Art. 15).

The address travels in the POST body only, never in a path or query string: those end up in access logs, proxies'
logs and browser histories. Both need an unscoped admin token: one person's reviews may be spread over every unit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from reviews_service import domain, privacy
from reviews_service.api.deps import (
    AdminDep,
    NowDep,
    SettingsDep,
    StateDep,
    iso,
    json_response,
    photo_admin_json,
    review_json,
)
from reviews_service.api.flags import flag_json
from reviews_service.api.invitations import invitation_json
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, JSON, answers
from reviews_service.config import Settings

router = APIRouter(prefix="/v1/admin/reviewers", tags=["admin"], dependencies=[BEARER])
_COUNT = {"type": "integer", "minimum": 0}
ERASED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["erased", "suppressed"],
    "properties": {
        "erased": {
            "type": "object",
            "description": "what this call changed; a second call for the same address answers zeros",
            "required": ["reviews", "invitations", "photos", "flags"],
            "properties": {
                "reviews": {**_COUNT, "description": "anonymised: rating and date kept, name, title and text gone"},
                "invitations": {**_COUNT, "description": "stripped of address, name and order reference"},
                "photos": {**_COUNT, "description": "deleted"},
                "flags": {**_COUNT, "description": "flags about those reviews whose moderator's note was removed"},
            },
        },
        "suppressed": {"const": True, "description": "the address is never mailed or stored again"},
    },
}
EXPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["email", "generated_at", "complete", "reviews", "invitations", "photos", "flags", "suppression"],
    "properties": {
        "email": {"type": "string"},
        "generated_at": {"type": "string"},
        "complete": {"type": "boolean", "description": "false: over 5,000 reviews or invitations, the first listed"},
        "reviews": {"type": "array", "items": {"type": "object"}},
        "invitations": {"type": "array", "items": {"type": "object"}},
        "photos": {"type": "array", "items": {"type": "object"}},
        "flags": {"type": "array", "items": {"type": "object"}},
        "suppression": {
            "type": "object",
            "required": ["suppressed", "reason", "since"],
            "properties": {
                "suppressed": {"type": "boolean"},
                "reason": {"enum": ["opted_out", "erased", None]},
                "since": {"type": ["string", "null"]},
            },
        },
    },
}


class ReviewerIn(BaseModel):
    """The reviewer, by e-mail address (any case; compared trimmed and lower-cased, as it is stored)."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=1000, description="the reviewer's e-mail address, e.g. anna@example.com")


@router.post("/erasure", **answers(JSON, 400, *ADMIN_ERRORS, 413, 415, 422, schema=ERASED_SCHEMA))
def erase_reviewer(
    body: ReviewerIn, principal: AdminDep, state: StateDep, settings: SettingsDep, now: NowDep
) -> Response:
    """Erase the reviewer's personal data everywhere (reviews keep their rating and date, anonymously); the
    counts per kind. Idempotent: again, it answers zeros. The address is kept as a keyed hash only, so it is never
    mailed again and no later import or collection stores its data."""
    principal.require_global()
    erased = privacy.erase(state, settings, body.email, now=now)
    return json_response({"erased": erased.as_dict(), "suppressed": True})


@router.post("/export", **answers(JSON, 400, *ADMIN_ERRORS, 413, 415, 422, schema=EXPORT_SCHEMA))
def export_reviewer(body: ReviewerIn, principal: AdminDep, settings: SettingsDep, now: NowDep) -> Response:
    """Everything held about the reviewer, as a JSON file to hand over: reviews with their texts, invitations with
    their personal fields and states, photos, flags about the reviews, and whether the address is suppressed."""
    principal.require_global()
    held = privacy.export(settings, body.email)
    data = holdings_json(held, settings, now)
    # the file's name says when, not whom: headers end up in logs too
    disposition = f'attachment; filename="reviewer-export-{now:%Y%m%dT%H%M%SZ}.json"'
    return json_response(data, headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


def holdings_json(held: privacy.Holdings, settings: Settings, now: datetime) -> dict[str, Any]:
    """The export's JSON: every field held, with admin URLs for the photos."""
    reason, since = held.suppression or (None, None)
    return {
        "email": held.email,
        "generated_at": iso(now),
        "complete": held.complete,
        "reviews": [_review(r, settings.public_url) for r in held.reviews],
        "invitations": [invitation_json(i, settings, now) for i in held.invitations],
        "photos": [photo_admin_json(p, settings.public_url) for p in held.photos],
        "flags": [flag_json(f, "en") for f in held.flags],
        "suppression": {"suppressed": reason is not None, "reason": reason, "since": iso(since)},
    }


def _review(review: domain.Review, base_url: str) -> dict[str, Any]:
    data = review_json(review, base_url=base_url)
    data.update(
        {
            "business_unit": review.business_unit,
            "external_id": review.external_id,
            "status": review.status,
            "email": review.email,
            "order_ref": review.order_ref,
            "updated_at": iso(review.updated_at),
        }
    )
    return data

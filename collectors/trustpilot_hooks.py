"""Trustpilot's webhooks: each event through the same parse and ingest as a sync, authenticated per unit.

Trustpilot pushes `{"events": [{"eventName", "version", "eventData"}]}` to the URL configured in its business
app: `POST /v1/hooks/trustpilot/{bu}?secret=SECRET`. The secret is the unit's `sources.trustpilot.hook_secret`
when set, else derived from REVIEWS_SECRET_KEY and the unit (so rotating the key rotates every hook URL);
`GET /v1/admin/business-units/{bu}/hooks/trustpilot` shows the URL to paste. A retried event changes nothing
(ingest is idempotent by id); a deleted review is kept and marked removed at the source. The scheduled sync
stays the safety net for events that never arrive.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from collectors import trustpilot_parse as tp
from collectors.trustpilot import NAME, record_of
from reviews_service import domain, ingest, repository
from reviews_service.config import Settings
from reviews_service.errors import InvalidInput, NotFound, Unauthorized

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

MAX_EVENTS = 1000  # one delivery; Trustpilot sends a few at a time


def hook_secret(settings: Settings, unit: domain.BusinessUnit) -> str:
    """The secret in this unit's hook URL: its configured `hook_secret`, or one derived from REVIEWS_SECRET_KEY."""
    configured = (unit.sources.get(NAME) or {}).get("hook_secret")
    if isinstance(configured, str) and configured:
        return configured
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"trustpilot-hook:{unit.slug}".encode(), hashlib.sha256).hexdigest()[:40]


def hook_path(settings: Settings, unit: domain.BusinessUnit) -> str:
    """The path (with its secret) to give Trustpilot for this unit's webhooks."""
    return f"/v1/hooks/trustpilot/{unit.slug}?secret={hook_secret(settings, unit)}"


def authenticate(settings: Settings, unit: domain.BusinessUnit, secret: str | None) -> None:
    """A unit with a trustpilot source, and its secret, compared in constant time; else 404 or 401."""
    if NAME not in unit.sources:
        raise NotFound(f"{unit.slug} has no trustpilot source configured, so it takes no Trustpilot webhooks")
    expected = hook_secret(settings, unit).encode()
    if not secret or not hmac.compare_digest(secret.encode(), expected):
        raise Unauthorized(
            "wrong or missing hook secret: use the URL from GET /v1/admin/business-units/{bu}/hooks/trustpilot"
        )


def receive(
    state: ServiceState, unit: domain.BusinessUnit, payload: Any, *, now: datetime, max_text: int
) -> dict[str, Any]:
    """Ingest one delivery's events; answers the counts (a rejected event is reported, not retried forever)."""
    events = payload.get("events") if isinstance(payload, Mapping) else None
    if not isinstance(events, list):
        raise InvalidInput('send {"events": [{"eventName": ..., "version": ..., "eventData": {...}}]}')
    if len(events) > MAX_EVENTS:
        raise InvalidInput(f"at most {MAX_EVENTS} events per delivery; got {len(events):,}")
    upserts: list[dict[str, Any]] = []
    deletes: list[str] = []
    ignored = 0
    for event in events:
        parsed = tp.parse_event(event)
        if parsed is None:
            ignored += 1
        elif parsed[0] == "delete":
            external = parsed[1].get("external_id")
            if isinstance(external, str | int) and str(external):
                deletes.append(str(external))
        else:
            upserts.append(parsed[1])
    stored = repository.reviews_by_id(domain.review_id(unit.slug, NAME, e) for e in deletes)
    gone = [record_of(review, "removed") for review in stored.values() if review.status != "removed"]
    report = ingest.ingest(
        state, unit.slug, [*upserts, *gone], now=now, max_text=max_text, default_source=NAME, collector=True
    )
    answer = report.as_dict()
    answer.pop("ignored_fields", None)
    return {"events": len(events), "ignored_events": ignored, "removed": len(gone), **answer}

"""Kiyoh / Klantenvertellen: a location's reviews from the publication API, incrementally by update time.

`GET {host}/v1/publication/review/external?locationId=&limit=&orderBy=UPDATE_DATE&sortOrder=ASC&updatedSince=`
with the header `X-Publication-Api-Token`. The host is the account's (`https://www.kiyoh.com` or
`https://www.klantenvertellen.nl`): the unit's `host`, else KIYOH_API_URL. Parsing is kiyoh_parse's; every
call goes through collectors.http (timeouts, retries, Retry-After, a rate limit per token, our errors).

The checkpoint is the newest `updatedSince` stored and the ids seen at that very instant. The next request
asks from one millisecond before it (so a server that reads `updatedSince` as "after" and one that reads it as
"from" both answer that instant again) and skips the ids already seen there: reviews sharing a timestamp
across a page boundary are neither lost nor stored twice (and the ingest is idempotent besides). An edited
review gets a newer `updatedSince` and comes again. A page full of reviews at one instant, all seen, would make
no progress: the page size is doubled then, up to MAX_PAGE.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from collectors.base import CollectReport, Run
from collectors.http import PROBE_BACKOFF, PROBE_TIMEOUTS, Backoff, Timeouts, make_client, request_json
from collectors.kiyoh_parse import KiyohReview, parse
from reviews_service import domain
from reviews_service.config import Settings
from reviews_service.errors import CredentialsMissing, SourceConfigError, SourceError

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

PATH = "/v1/publication/review/external"
PAGE = 100
MAX_PAGE = 1000
FLOOR = datetime(2000, 1, 1, tzinfo=UTC)  # "from the beginning" for a full sync
# Kiyoh documents no call limit; ours keeps a sync polite (per token, shared by the units that use it)
BUDGET = [(300, 60.0)]


def _iso(moment: datetime) -> str:
    """Kiyoh's own form: milliseconds and an offset (2026-11-20T14:03:00.000+00:00)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class KiyohCollector:
    """The `kiyoh` source: `{"location_id": "...", "host"?: "https://www.klantenvertellen.nl", "page_size"?: 100}`."""

    name = "kiyoh"

    def __init__(
        self, *, timeouts: Timeouts = Timeouts(), backoff: Backoff = Backoff(), budget: list[tuple[int, float]] = BUDGET
    ) -> None:
        self.timeouts, self.backoff, self.budget = timeouts, backoff, budget

    def check_config(self, unit: domain.BusinessUnit, config: Mapping[str, Any], settings: Settings) -> None:
        """A location id, an http(s) host and a token, or a SourceConfigError saying which is missing."""
        location = config.get("location_id")
        if isinstance(location, bool) or not isinstance(location, str | int) or not str(location).strip():
            raise SourceConfigError(
                f"{unit.slug}: the kiyoh source needs `location_id` (the number in Kiyoh's dashboard), e.g. "
                '{"kiyoh": {"location_id": "1064321"}}'
            )
        host = self.host(config, settings)
        parts = urlsplit(host)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceConfigError(
                f"{unit.slug}: the Kiyoh host {host[:80]!r} is not an http(s) URL; use https://www.kiyoh.com "
                "or https://www.klantenvertellen.nl"
            )
        size = config.get("page_size", PAGE)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE:
            raise SourceConfigError(f"{unit.slug}: the kiyoh `page_size` must be a whole number from 1 to {MAX_PAGE}")
        token = settings.kiyoh_api_token
        if token is None or not token.get_secret_value().strip():  # last: a unit may be configured before it is set
            raise CredentialsMissing(
                "KIYOH_API_TOKEN is not set: it is the location's publication API token "
                "(Kiyoh dashboard, Invite > Extra options)"
            )

    def probe(
        self, unit: domain.BusinessUnit, config: Mapping[str, Any], settings: Settings, state: ServiceState
    ) -> dict[str, Any]:
        """One call for one review (`limit=1`): a refused token or an unknown location says so at once."""
        token = settings.kiyoh_api_token
        assert token is not None  # check_config ran
        location = str(config["location_id"]).strip()
        params = {
            "locationId": location, "limit": 1, "orderBy": "UPDATE_DATE", "sortOrder": "ASC",
            "updatedSince": _iso(FLOOR),
        }  # fmt: skip
        limiter = state.rate_limits.get(self.name, token.get_secret_value(), self.budget)
        report = CollectReport(business_unit=unit.slug, source=self.name)
        headers = {"X-Publication-Api-Token": token.get_secret_value()}
        with make_client(base_url=self.host(config, settings), headers=headers, timeouts=PROBE_TIMEOUTS) as client:
            request_json(
                client, "GET", PATH, params=params, limiter=limiter, report=report, what="Kiyoh",
                refused=_refused(location), not_found=_unknown_location(location, client),
                timeouts=PROBE_TIMEOUTS, backoff=PROBE_BACKOFF,
            )  # fmt: skip
        return {}

    @staticmethod
    def host(config: Mapping[str, Any], settings: Settings) -> str:
        """The account's API host: the unit's own `host`, else KIYOH_API_URL."""
        return str(config.get("host") or settings.kiyoh_api_url).rstrip("/")

    def collect(self, run: Run) -> None:
        """Page through the reviews updated since the checkpoint, oldest first, checkpointing after every page."""
        token = run.settings.kiyoh_api_token
        assert token is not None  # check_config ran
        location = str(run.config["location_id"]).strip()
        limit = int(run.config.get("page_size", PAGE))
        checkpoint = {} if run.full else run.checkpoint()
        since = datetime.fromisoformat(checkpoint["updated_since"]) if checkpoint.get("updated_since") else None
        seen = set(checkpoint.get("ids") or [])
        limiter = run.state.rate_limits.get(self.name, token.get_secret_value(), self.budget)
        headers = {"X-Publication-Api-Token": token.get_secret_value()}
        with make_client(
            base_url=self.host(run.config, run.settings), headers=headers, timeouts=self.timeouts
        ) as client:
            while True:
                start = since - timedelta(milliseconds=1) if since else FLOOR
                params = {
                    "locationId": location, "limit": limit, "orderBy": "UPDATE_DATE", "sortOrder": "ASC",
                    "updatedSince": _iso(start),
                }  # fmt: skip
                payload = request_json(
                    client, "GET", PATH, params=params, limiter=limiter, report=run.report, what="Kiyoh",
                    refused=_refused(location), not_found=_unknown_location(location, client),
                    timeouts=self.timeouts, backoff=self.backoff,
                )  # fmt: skip
                reviews = parse(payload)
                run.report.pages += 1
                run.report.fetched += len(reviews)
                fresh = [r for r in reviews if not (r.updated and since and r.updated <= since and r.review_id in seen)]
                if fresh:
                    run.ingest([r.record for r in fresh])
                since, seen = _advance(since, seen, reviews)
                if since is not None:
                    run.save_checkpoint({"updated_since": since.isoformat(), "ids": sorted(seen)})
                run.progress(run.report.fetched, None)
                if len(reviews) < limit:
                    return
                if not fresh:  # a full page at one instant, all seen: ask for more at once
                    if limit >= MAX_PAGE:
                        raise SourceError(
                            f"Kiyoh answered over {MAX_PAGE} reviews updated at {since} that were all stored "
                            "already; the sync cannot move past that instant"
                        )
                    limit = min(MAX_PAGE, limit * 2)


def _refused(location: str) -> str:
    return f"Kiyoh refused the publication API token (KIYOH_API_TOKEN) for location {location}"


def _unknown_location(location: str, client: httpx.Client) -> str:
    return (
        f"Kiyoh knows no location {location} on {client.base_url}: check the unit's kiyoh `location_id` and "
        "`host` (kiyoh.com or klantenvertellen.nl)"
    )


def _advance(since: datetime | None, seen: set[str], reviews: list[KiyohReview]) -> tuple[datetime | None, set[str]]:
    """The checkpoint after a page: its newest update time, and every id seen at that instant."""
    times = [r.updated for r in reviews if r.updated is not None]
    if not times:
        return since, seen
    newest = max(times)
    if since is not None and newest <= since:
        return since, seen | {r.review_id for r in reviews if r.updated == since}
    at_newest = {r.review_id for r in reviews if r.updated == newest}
    return newest, at_newest

"""Kiyoh / Klantenvertellen: a location's reviews from the publication API, incrementally by update time.

`GET {host}/v1/publication/review/external?locationId=&limit=&orderBy=UPDATE_DATE&sortOrder=ASC&updatedSince=`
with the header `X-Publication-Api-Token`. The host is the account's (`https://www.kiyoh.com` or
`https://www.klantenvertellen.nl`): the unit's `host`, else KIYOH_API_URL. Parsing is kiyoh_parse's.

The checkpoint is the newest `updatedSince` stored and the ids seen at that very instant. The next request
asks from one millisecond before it (so a server that reads `updatedSince` as "after" and one that reads it as
"from" both answer that instant again) and skips the ids already seen there: reviews sharing a timestamp
across a page boundary are neither lost nor stored twice (and the ingest is idempotent besides). An edited
review gets a newer `updatedSince` and comes again. A page full of reviews at one instant, all seen, would make
no progress: the page size is doubled then, up to MAX_PAGE.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from collectors.base import Run
from collectors.kiyoh_parse import KiyohReview, error_message, parse
from reviews_service import domain
from reviews_service.config import Settings
from reviews_service.errors import SourceConfigError, SourceError

PATH = "/v1/publication/review/external"
PAGE = 100
MAX_PAGE = 1000
FLOOR = datetime(2000, 1, 1, tzinfo=UTC)  # "from the beginning" for a full sync
RETRIED = (429, 500, 502, 503, 504)


def _iso(moment: datetime) -> str:
    """Kiyoh's own form: milliseconds and an offset (2026-11-20T14:03:00.000+00:00)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.replace(".", "", 1).isdigit() else None


class KiyohCollector:
    """The `kiyoh` source: `{"location_id": "...", "host"?: "https://www.klantenvertellen.nl", "page_size"?: 100}`."""

    name = "kiyoh"

    def __init__(
        self,
        *,
        timeout: float = 15.0,
        attempts: int = 5,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout, self.attempts, self.backoff, self.max_wait, self.sleep = (
            timeout,
            attempts,
            backoff,
            max_wait,
            sleep,
        )

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
        token = settings.kiyoh_api_token
        if token is None or not token.get_secret_value().strip():
            raise SourceConfigError(
                "KIYOH_API_TOKEN is not set: it is the location's publication API token "
                "(Kiyoh dashboard, Invite > Extra options)"
            )
        size = config.get("page_size", PAGE)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE:
            raise SourceConfigError(f"{unit.slug}: the kiyoh `page_size` must be a whole number from 1 to {MAX_PAGE}")

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
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0))
        with httpx.Client(base_url=self.host(run.config, run.settings), timeout=timeout) as client:
            while True:
                start = since - timedelta(milliseconds=1) if since else FLOOR
                params = {
                    "locationId": location, "limit": limit, "orderBy": "UPDATE_DATE", "sortOrder": "ASC",
                    "updatedSince": _iso(start),
                }  # fmt: skip
                headers = {"X-Publication-Api-Token": token.get_secret_value(), "Accept": "application/json"}
                reviews = parse(self.fetch(client, params, headers, run))
                run.report.pages += 1
                run.report.fetched += len(reviews)
                fresh = [
                    r
                    for r in reviews
                    if not (r.updated is not None and since and r.updated <= since and r.review_id in seen)
                ]
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

    def fetch(self, client: httpx.Client, params: dict[str, Any], headers: dict[str, str], run: Run) -> Any:
        """One page as decoded JSON; retried on timeouts, 429/5xx (Retry-After honoured) and torn bodies.

        Kiyoh's refusals become our errors here: a refused token or location a SourceConfigError with Kiyoh's
        own message, anything that stays broken a SourceError.
        """
        # TODO(collectors/http.py): the shared client factory replaces this loop once it is on main.
        problem = ""
        for attempt in range(1, self.attempts + 1):
            wait: float | None = None
            run.report.calls += 1
            try:
                response = client.get(PATH, params=params, headers=headers)
                if response.status_code == 200:
                    return response.json()
                problem = f"answered {response.status_code}"
                body = _json_or_none(response)
                if response.status_code in (401, 403):
                    raise SourceConfigError(
                        f"Kiyoh refused the publication API token (KIYOH_API_TOKEN) for location "
                        f"{params['locationId']}: {error_message(body) or response.status_code}"
                    )
                if response.status_code not in RETRIED:
                    raise SourceConfigError(
                        f"Kiyoh refused the request for location {params['locationId']} "
                        f"({response.status_code}): {error_message(body) or response.text[:200]}"
                    )
                problem += f" ({error_message(body)})" if error_message(body) else ""
                wait = _retry_after(response) if response.status_code in (429, 503) else None
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem = f"did not answer in time or broke off ({type(exc).__name__})"
            except json.JSONDecodeError:
                problem = "sent a torn or invalid JSON body"
            if attempt == self.attempts:
                break
            run.report.retries += 1
            backoff = self.backoff * 2 ** (attempt - 1) * (1 + random.random() / 2)  # jitter: callers spread out
            self.sleep(min(self.max_wait, wait if wait is not None else backoff))
        raise SourceError(f"Kiyoh {problem}, {self.attempts} times in a row; the next run tries again")


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


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

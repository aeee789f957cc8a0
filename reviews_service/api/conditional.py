"""Conditional GETs of the exports (JSON-LD export, product reviews feed): validators out, "changed since?" in.

HTTP dates have whole seconds, a unit's changed_at has milliseconds. Last-Modified is changed_at rounded up to the
second, and is sent only once that second is over: a later change then falls in a later second, so a fetcher that
sends back only If-Modified-Since never gets 304 for a change made in the same second as the one it has. A 304
answers If-Modified-Since only when the last change is at or before that date (so its whole second is).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request

from reviews_service.cache import etag_matches

NO_CACHE = "no-cache"  # fetchers revalidate every time: a 304 costs nothing


def last_modified(changed: datetime | None, now: datetime) -> datetime | None:
    """`changed` rounded up to the whole second, or None while that second is not over yet (or never changed)."""
    if changed is None:
        return None
    whole = changed.replace(microsecond=0) + (timedelta(seconds=1) if changed.microsecond else timedelta(0))
    return whole if whole <= now else None


def validators(etag: str, changed: datetime | None, now: datetime) -> dict[str, str]:
    """The headers of an export's answer (200 or 304): its ETag, Last-Modified when it may be sent, no-cache."""
    headers = {"ETag": etag, "Cache-Control": NO_CACHE, "X-Content-Type-Options": "nosniff"}
    modified = last_modified(changed, now)
    if modified is not None:
        headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    return headers


def not_modified(request: Request, etag: str, changed: datetime | None) -> bool:
    """Whether the request's If-None-Match (first, RFC 9110 13.2.2) or If-Modified-Since says it has this version."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    since = request.headers.get("if-modified-since")
    if since and changed is not None:
        try:
            return changed <= parsedate_to_datetime(since)  # a naive date (-0000) cannot compare: TypeError
        except (TypeError, ValueError):
            return False
    return False

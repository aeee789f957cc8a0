"""The only place that connects mongoengine: MONGODB_URL, or the embedded in-process store.

The embedded store is mongomock living inside this process: every query scans every document
and nothing survives a restart. The repository keeps hot paths off it (natural `_id`s, batched
`$in` reads, precomputed summaries, in-process caches); real MongoDB runs the same queries with
the indexes the Documents declare.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import mongoengine
import mongomock
from pymongo.errors import PyMongoError

from reviews_service.config import Settings
from reviews_service.errors import ReviewsError

log = logging.getLogger("reviews.store")
ALIAS = "default"
EMBEDDED_DESCRIPTION = (
    "the EMBEDDED IN-MEMORY store: data lives in this process only and is lost when it stops "
    "(set MONGODB_URL=mongodb://... to keep it)"
)


@dataclass(frozen=True)
class StoreInfo:
    """What the process is connected to."""

    embedded: bool
    description: str


_current: StoreInfo | None = None


def connect(settings: Settings) -> StoreInfo:
    """Connect (or reconnect) mongoengine per the settings and make sure indexes exist."""
    global _current
    disconnect()
    if settings.mongodb_url:
        mongoengine.connect(
            host=settings.mongodb_url,
            alias=ALIAS,
            tz_aware=True,
            uuidRepresentation="standard",
            serverSelectionTimeoutMS=5000,
        )
        info = StoreInfo(embedded=False, description=_redact(settings.mongodb_url))
    else:
        mongoengine.connect(
            db=settings.mongodb_db,
            host="mongodb://localhost",
            alias=ALIAS,
            mongo_client_class=mongomock.MongoClient,
            uuidRepresentation="standard",
            tz_aware=True,
        )
        # no warning logged here: the caller tells the user once (`reviews serve` in its start-up lines)
        info = StoreInfo(embedded=True, description=EMBEDDED_DESCRIPTION)
    from reviews_service import documents, repository  # both need a live connection

    try:
        documents.ensure_indexes()
    except PyMongoError as exc:
        disconnect()
        raise ReviewsError(f"Cannot use MongoDB at {info.description}: {exc}") from exc
    repository.on_connect(info.embedded)
    _current = info
    return info


def disconnect() -> None:
    """Drop the connection (the embedded store's data goes with it)."""
    global _current
    mongoengine.disconnect(alias=ALIAS)
    _current = None


def current() -> StoreInfo | None:
    """The store this process is connected to, if any."""
    return _current


def drop_all() -> None:
    """Empty every collection (tests against a real server use this between tests)."""
    from reviews_service import documents, repository

    for doc in documents.ALL_DOCUMENTS:
        doc._get_collection().delete_many({})
    repository.on_connect(_current.embedded if _current else True)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url

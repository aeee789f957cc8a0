"""The only place that connects mongoengine: MONGODB_URL, or the embedded store (see embedded.py).

The embedded store keeps its data in SQLite files under REVIEWS_DATA_DIR, shared by every process of
one machine (`serve`, `scheduler`, the CLI); `:memory:` keeps it in this process only (tests). It
answers equality and `$in` from hash indexes and scans for anything else. The repository issues the
same queries on either store (natural `_id`s, batched `$in` reads, indexed finds, precomputed summaries,
short-lived caches), with the indexes the Documents declare.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import mongoengine
import pymongo
from pymongo.errors import ConnectionFailure, ExecutionTimeout, OperationFailure, PyMongoError, WriteConcernError

from reviews_service import embedded
from reviews_service.config import Settings
from reviews_service.errors import ReviewsError

log = logging.getLogger("reviews.store")
ALIAS = "default"
EMBEDDED_DESCRIPTION = (
    "the EMBEDDED IN-MEMORY store (REVIEWS_DATA_DIR=:memory:): data lives in this process only and is lost "
    "when it stops (set REVIEWS_DATA_DIR to a directory, or MONGODB_URL=mongodb://..., to keep it)"
)
ON_DISK_DESCRIPTION = (
    "the embedded store in {path} (SQLite files; serve, scheduler and CLI on this machine share it; "
    "single-machine: for several API replicas use MongoDB)"
)


@dataclass(frozen=True)
class StoreInfo:
    """What the process is connected to."""

    embedded: bool
    description: str
    data_dir: Path | None = None  # the embedded store's directory; None in memory or on MongoDB

    @property
    def persistent(self) -> bool:
        """True when the data outlives this process (on disk, or MongoDB)."""
        return not self.embedded or self.data_dir is not None


_current: StoreInfo | None = None
# What a store that cannot be used raises: pymongo's ConnectionFailure (AutoReconnect, ServerSelectionTimeout,
# NetworkTimeout, and the embedded store's StoreUnavailable), the server's own timeouts (ExecutionTimeout: maxTimeMS
# or timeoutMS ran out; WriteConcernError and its WTimeoutError: the replicas did not confirm a write in time) and
# SQLite's OperationalError ("database is locked", "locking protocol", "unable to open database file", "disk I/O
# error", "database or disk is full"). Each is a 503 the caller can retry, never a 500.
UNAVAILABLE: tuple[type[Exception], ...] = (
    ConnectionFailure,
    ExecutionTimeout,
    WriteConcernError,
    sqlite3.OperationalError,
)
PING_SECONDS = 2.0  # how long /ready waits for MongoDB's ping
# MongoDB's client defaults, unless MONGODB_URL sets its own: a server that cannot be found in 5 s is down, and
# one that stops answering mid-read gives up after 10 s (embedded.LOCK_WAIT's bound; pymongo's default is to
# wait forever, which hangs the poller and fills the request threads one by one on a stalled server).
MONGO_TIMEOUTS = {"serverSelectionTimeoutMS": 5000, "socketTimeoutMS": int(embedded.LOCK_WAIT * 1000)}


def why_unavailable(exc: BaseException) -> str:
    """A short, log- and JSON-safe reason for a store error (pymongo's text carries a whole topology dump)."""
    text = str(exc).split(", Topology Description")[0].split(", full error")[0]
    kind = "SQLite" if isinstance(exc, sqlite3.Error) else type(exc).__name__
    return f"{kind}: {text[:200]}"


def ping() -> None:
    """One cheap round trip to the store, bounded in time; raises one of UNAVAILABLE when it cannot be used.

    MongoDB: the `ping` command within PING_SECONDS. Embedded: one read by `_id` (bounded by embedded.LOCK_WAIT
    and SQLite's own lock retries; /ready waits for it only so long, see readiness.py).
    """
    from reviews_service import documents

    if _current is not None and not _current.embedded:
        with pymongo.timeout(PING_SECONDS):
            mongoengine.get_db(ALIAS).client.admin.command("ping")
        return
    documents.ChangeDoc._get_collection().find_one({"_id": "~any"}, {"_id": 1})


def client_timeouts(url: str) -> dict[str, int]:
    """MONGO_TIMEOUTS but those MONGODB_URL sets itself (pymongo lets keyword arguments win over the URL's)."""
    query = url.partition("?")[2]
    named = {part.partition("=")[0].strip().lower() for part in query.replace(";", "&").split("&")}
    return {key: value for key, value in MONGO_TIMEOUTS.items() if key.lower() not in named}


def connect(settings: Settings) -> StoreInfo:
    """Connect (or reconnect) mongoengine per the settings and make sure indexes exist."""
    global _current
    disconnect()
    url = settings.mongodb_url.get_secret_value() if settings.mongodb_url else ""
    if url:
        timeouts = client_timeouts(url)
        mongoengine.connect(host=url, alias=ALIAS, tz_aware=True, uuidRepresentation="standard", **timeouts)
        info = StoreInfo(embedded=False, description=_redact(url))
    else:
        try:
            server_store = embedded.open_store(settings.data_dir)
        except (OSError, ValueError) as exc:
            raise ReviewsError(f"Cannot use REVIEWS_DATA_DIR={settings.data_dir}: {exc}") from None
        mongoengine.connect(
            db=settings.mongodb_db,
            host="mongodb://localhost",
            alias=ALIAS,
            mongo_client_class=embedded.EmbeddedClient,
            store=server_store,
            uuidRepresentation="standard",
            tz_aware=True,
        )
        # no warning logged here: the caller tells the user once (`reviews serve` in its start-up lines)
        if isinstance(server_store, embedded.FileStore):
            path = Path(settings.data_dir).resolve()
            info = StoreInfo(embedded=True, description=ON_DISK_DESCRIPTION.format(path=path), data_dir=path)
        else:
            info = StoreInfo(embedded=True, description=EMBEDDED_DESCRIPTION)
    from reviews_service import documents  # it needs a live connection

    try:
        documents.ensure_indexes()
    except PyMongoError as exc:
        disconnect()
        raise ReviewsError(unreachable(info.description, exc)) from None  # pymongo's text is a topology dump
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
    """Empty every collection (tests against a real server use this between tests; an instance that keeps
    running on the emptied store resets its ServiceState)."""
    from reviews_service import documents

    for doc in documents.ALL_DOCUMENTS:
        doc._get_collection().delete_many({})


def warm_up() -> dict[str, int]:
    """Open every collection now, and say how many documents each holds.

    The embedded store keeps its indexes in each collection's file; opening one builds them only when they were
    built for other index declarations (a data directory of an older version: about 10 s at 100,000 reviews).
    `reviews serve` does that before it accepts requests, so no shopper waits for it.
    """
    from reviews_service import documents

    counts = {}
    for doc in documents.ALL_DOCUMENTS:
        collection = doc._get_collection()
        collection.find_one({"_id": ""})  # opens the collection's file (and builds its index tables if due)
        counts[collection.name] = collection.estimated_document_count()
    return counts


def _redact(url: str) -> str:
    """scheme://hosts/database of a MongoDB URL: no user, password or options (they may carry secrets)."""
    scheme, _, rest = url.partition("://")
    hosts, _, path = rest.rpartition("@")[2].partition("/")
    database = path.split("?")[0]
    return f"{scheme}://{hosts}/{database}" if database else f"{scheme}://{hosts}"


def unreachable(where: str, exc: PyMongoError) -> str:
    """One line for a database that cannot be used: where, why in a few words, and what to check."""
    text = str(exc)
    if isinstance(exc, OperationFailure) and exc.code in (13, 18):
        return f"MongoDB at {where} refused the credentials in MONGODB_URL; check the user, password and authSource."
    if isinstance(exc, ConnectionFailure):
        reason = next(
            (why for needle, why in REASONS if needle in text), "it did not answer within the server selection timeout"
        )
        return (
            f"Cannot reach MongoDB at {where}: {reason}. Check that mongod is running there and that MONGODB_URL "
            "names the right host and port (and that no firewall is in between)."
        )
    return f"MongoDB at {where} failed: {text.split(', full error')[0][:200]}"


REASONS = (
    ("Connection refused", "connection refused"),
    ("Name or service not known", "the host name does not resolve"),
    ("nodename nor servname", "the host name does not resolve"),
    ("timed out", "the connection timed out"),
)

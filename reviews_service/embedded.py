"""The embedded store: litemongo (mongomock's query engine on SQLite files), safe for threads and processes.

litemongo keeps each collection in an SQLite file (WAL, so a commit survives `kill -9`) and answers
equality and `$in` from in-process hash indexes that it rebuilds when another connection commits.
Two things it does not do, which this adapter adds:

- Threads: it opens SQLite with `check_same_thread=True` and shares one cursor per file, so the API's
  threadpool would be refused (or worse, interleave). Here each collection file's connection may be used
  by any thread, and every touch of it is serialised by one re-entrant lock per store.
- Other processes' writes: litemongo rebuilds its whole hash index (decoding every document) after any
  commit by another connection, so with two writers every query cost a full scan. Here triggers log each
  written `_id` in a `changes` table of the file, and a reader re-reads only the documents changed since
  it last looked.
- Processes: mongomock's read-modify-write operations (`$inc`, find-and-modify, a replace only if still
  as read, unique checks, bulk writes) read, then write, with no lock at all. Here every write operation
  runs holding an exclusive `flock` on `write.lock` in the data directory, and reads the state under it
  (litemongo re-reads rows from SQLite and rebuilds a stale hash index), so two processes never lose an
  update.

Every wait is bounded (`LOCK_WAIT`): a store another process holds (a stuck writer keeping `write.lock`, SQLite's
own locks held) is a `StoreUnavailable` the API answers with 503, never a request that hangs.

`:memory:` gives the same engine on plain dictionaries: nothing on disk, gone when the process stops.
"""

from __future__ import annotations

import fcntl
import functools
import os
import pathlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import bson
import litemongo.sqlite_store as sqlite_store
from litemongo._vendor import mongomock
from litemongo._vendor.mongomock import store as memory_store
from pymongo.errors import ConnectionFailure

from reviews_service.embedded_index import Plan, SortedIndexes, hash_paths
from reviews_service.embedded_query import WindowCursor, matching, window

# litemongo's stub types its mongomock classes as pymongo's generics; here they are plain base classes
_Collection: Any = mongomock.Collection
_Database: Any = mongomock.Database
_Client: Any = mongomock.MongoClient
_MemoryCollectionStore: Any = memory_store.CollectionStore
_MemoryDatabaseStore: Any = memory_store.DatabaseStore
_MemoryServerStore: Any = memory_store.ServerStore

MEMORY = ":memory:"
LOCK_FILE = "write.lock"
KEEP_CHANGES = 100_000  # logged changes kept per file; a reader further behind rebuilds its index
PRUNE_EVERY = 5_000  # writes of this process between prunes of the change log
# Seconds a thread waits for the store (this process's lock, another process's write.lock, SQLite's busy wait)
# before it gives up with StoreUnavailable: longer than any one write operation takes (a 2,000-document bulk write,
# an index build at start-up), short enough that a request stuck behind a store held elsewhere answers 503.
LOCK_WAIT = 10.0
CHANGE_LOG = (
    "CREATE TABLE IF NOT EXISTS changes(seq INTEGER PRIMARY KEY AUTOINCREMENT, key)",
    "CREATE TRIGGER IF NOT EXISTS changes_insert AFTER INSERT ON documents "
    "BEGIN INSERT INTO changes(key) VALUES (new._id); END",
    "CREATE TRIGGER IF NOT EXISTS changes_update AFTER UPDATE ON documents "
    "BEGIN INSERT INTO changes(key) VALUES (new._id); END",
    "CREATE TRIGGER IF NOT EXISTS changes_delete AFTER DELETE ON documents "
    "BEGIN INSERT INTO changes(key) VALUES (old._id); END",
)
# Operations that read, then write: each runs whole under the store's write lock.
WRITE_METHODS = (
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
    "bulk_write",
    "create_index",
    "create_indexes",
    "drop_index",
    "drop",
)


class StoreUnavailable(ConnectionFailure):
    """The embedded store's files could not be used in time (held by another process, gone, unreadable).

    A ConnectionFailure, as pymongo raises when MongoDB is unreachable: the same 503 answer, the same stale fallbacks.
    """


class WritesBlocked(StoreUnavailable):
    """Another process has kept `write.lock` too long: writes cannot run, reads still can."""


class BoundedLock:
    """A re-entrant lock whose `with` waits at most `wait` seconds, then raises StoreUnavailable."""

    def __init__(self, wait: float, what: str, error: type[StoreUnavailable] = StoreUnavailable) -> None:
        self._lock = threading.RLock()
        self.wait = wait
        self._what = what
        self._error = error

    def acquire(self) -> None:
        """Take the lock (re-entrant), or raise StoreUnavailable (or `error`) after `wait` seconds."""
        if not self._lock.acquire(timeout=self.wait):
            raise self._error(f"the embedded store was busy for {self.wait:g} s ({self._what})")

    def release(self) -> None:
        """Give the lock back."""
        self._lock.release()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()


class Guard:
    """One writer at a time across threads and, on disk, across processes (`flock`); one toucher of the files.

    Locks are always taken in one order: `_writer`, then the flock, then `lock`. Readers take `lock` only, so
    they wait while a write runs here, not while this process waits for another one's write to end.
    """

    def __init__(self, lock_path: pathlib.Path | None, wait: float = LOCK_WAIT) -> None:
        self.wait = wait
        self.lock = BoundedLock(wait, "another thread was reading or writing")  # every touch of SQLite or an index
        # flock does not exclude threads sharing the descriptor: this does
        self._writer = BoundedLock(wait, "another thread was writing", WritesBlocked)
        self._depth = 0
        self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600) if lock_path is not None else None
        self._pending: set[sqlite3.Connection] = set()  # written to in this operation, not committed yet

    def wrote(self, connection: sqlite3.Connection) -> None:
        """A document was written on `connection`: commit it when the write operation ends."""
        self._pending.add(connection)

    @contextmanager
    def write(self) -> Iterator[None]:
        """Hold the write lock (re-entrant: an operation calling another takes it once).

        What the operation wrote is committed as it ends, still under the locks: one commit for an
        insert_many or a bulk write of 2,000 documents instead of one per document, and before the
        caller hears back, so `kill -9` after the answer loses nothing.
        """
        with self._writer:
            if self._depth == 0 and self._fd is not None:
                self._flock()
            self._depth += 1
            try:
                with self.lock:
                    try:
                        yield
                    finally:
                        if self._depth == 1:
                            self._commit()
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _flock(self) -> None:
        """Take write.lock, waiting at most `wait` seconds: a process that keeps it (stuck, or stopped with
        SIGSTOP) makes writes here fail with StoreUnavailable before they wrote anything, instead of hanging."""
        assert self._fd is not None
        deadline = time.monotonic() + self.wait
        pause = 0.001
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WritesBlocked(
                        f"another process has held the embedded store's {LOCK_FILE} for over {self.wait:g} s"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.05)  # a short write elsewhere ends within milliseconds: look again soon

    def _commit(self) -> None:
        """Commit what the operation wrote; also when it failed half-way (as per-document commits did)."""
        pending, self._pending = self._pending, set()
        for connection in pending:
            connection.commit()

    def close(self) -> None:
        """Release the lock file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._guard.lock:
            return method(self, *args, **kwargs)

    return run


def _writing(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._guard.write():
            return method(self, *args, **kwargs)

    return run


class _Planning:
    """What both stores add to litemongo's query planning: sorted indexes beside its hash ones."""

    _query_index: SortedIndexes | None
    indexes: Any

    if TYPE_CHECKING:  # provided by the store classes this is mixed into

        def _query_index_is_stale(self) -> bool: ...

        def _iter_items(self) -> Iterator[tuple[str, dict[str, Any]]]: ...

        def _get_many(self, keys: Any) -> Iterator[dict[str, Any]]: ...

        def _remove_expired_documents(self) -> None: ...

    def _get_query_index(self) -> SortedIndexes:
        """litemongo's `_get_query_index`, building `SortedIndexes` (and anew when the declared indexes change)."""
        stale = self._query_index_is_stale()
        declared = list(self.indexes.values())
        index = self._query_index
        # every query asks: comparing the specifications is cheap, deriving paths and sorted fields is not
        if index is None or stale or index.source != declared:
            index = SortedIndexes(declared)
            index.set_paths(hash_paths(declared), ())
            index.rebuild(list(self._iter_items()))
            self._query_index = index
        return index

    def plan(self, spec: Any, sort: Any) -> Plan | None:
        """How a sorted index answers `spec` in `sort` order, if one can (see embedded_index)."""
        self._remove_expired_documents()
        return self._get_query_index().plan(spec, sort)

    def fetch(self, key: Any) -> dict[str, Any] | None:
        """One document by its store key (as the index holds it)."""
        return next(iter(self._get_many([key])), None)


class _Table(sqlite_store.TableDict):
    """litemongo's table of documents, whose writes are committed once per write operation (Guard.write)."""

    guard: Guard

    def __setitem__(self, key: Any, val: Any) -> None:
        encoded = val if isinstance(val, bytes) else self._encode_doc(val)
        self.guard.wrote(self._connection)
        self._cur.execute(
            f"INSERT INTO {self._table_name} VALUES(?, ?) ON CONFLICT(_id) DO UPDATE SET doc=excluded.doc",
            (self.encode_key(key), encoded),
        )

    def __delitem__(self, key: Any) -> None:
        self.guard.wrote(self._connection)
        deleted = self._cur.execute(f"DELETE FROM {self._table_name} WHERE _id=?", (self.encode_key(key),))
        if deleted.rowcount <= 0:
            raise KeyError(key)


class _FileCollection(_Planning, sqlite_store.CollectionStore):
    """One collection's SQLite file, usable from any thread, one thread at a time."""

    def __init__(self, filename: pathlib.Path, codec_options: bson.CodecOptions[Any] | None, guard: Guard) -> None:
        self._guard = guard
        self._seen = 0  # the last change (seq in `changes`) the hash index and the cache include
        self._writes = 0
        self._cache: dict[str, dict[str, Any]] | None = None  # encoded key -> document, in natural order
        with guard.write():  # opening creates tables: not while another process writes
            super().__init__(filename, codec_options=codec_options)
            with self._connection:
                for statement in CHANGE_LOG:
                    self._connection.execute(statement)

    def open(self) -> None:
        """litemongo's open(), with a connection any thread may use (access is serialised by the guard)."""
        self._connection = sqlite3.connect(self._path, check_same_thread=False, timeout=self._guard.wait)
        # WAL: a commit is in the log before the call returns, so it survives the process being killed;
        # synchronous=NORMAL may lose the last commits on a power cut, never corrupt the file.
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._cur = self._connection.cursor()
        key_format = self._init_info()
        self._documents = _Table(
            self.DOCUMENTS, self._connection, self._cur, codec_options=self._codec_options, key_format=key_format
        )
        self._documents.guard = self._guard
        self.indexes = sqlite_store.IndexDict(
            self.INDEXES, self._connection, self._cur, codec_options=self._codec_options, key_format=key_format
        )
        row = self._connection.execute(f"SELECT value FROM {self.INFO} WHERE key = 'force_created'").fetchone()
        self._is_force_created = bool(row and row[0])
        self._ttl_indexes = {
            name: index for name, index in self.indexes.items() if index.get("expireAfterSeconds") is not None
        }
        self._query_index = None
        self._data_version = None

    @property
    def documents(self) -> Iterator[dict[str, Any]]:
        """Every document, from the cache (brought up to date first), listed at once under the lock."""
        with self._guard.lock:
            self._get_query_index()
            everything = list(self._cached().values())
        yield from everything

    def _cached(self) -> dict[str, dict[str, Any]]:
        """The decoded documents: a scan decodes none (BSON decoding was most of a scan's time)."""
        if self._cache is None:
            self._cache = dict(self._documents.items())
        return self._cache

    def _iter_items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        yield from list(self._cached().items())

    def _get_many(self, keys: Any) -> Iterator[dict[str, Any]]:
        cache = self._cached()
        return iter([cache[key] for key in keys if key in cache])

    def fetch(self, key: Any) -> dict[str, Any] | None:
        """One document by its encoded key, from the cache."""
        return self._cached().get(key)

    def find_candidates(self, filter: Any) -> Iterator[dict[str, Any]]:
        """The documents that may match, read at once under the lock."""
        with self._guard.lock:
            return iter(list(super().find_candidates(filter)))

    def _query_index_is_stale(self) -> bool:
        """Bring the hash index up to date with other connections' commits; True when it must be rebuilt."""
        version = self._connection.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version and self._query_index is not None:
            return False
        self._data_version = version
        oldest, newest = self._connection.execute("SELECT MIN(seq), MAX(seq) FROM changes").fetchone()
        if self._query_index is None or (oldest is not None and self._seen < oldest - 1):
            self._seen = newest or 0  # the rebuild that follows reads at least this state
            self._cache = None
            return True
        if newest is not None and newest > self._seen:
            keys = {key for (key,) in self._connection.execute("SELECT key FROM changes WHERE seq > ?", (self._seen,))}
            found: dict[str, Any] = {}
            for batch in _chunks(sorted(keys), 500):
                rows = self._connection.execute(
                    f"SELECT _id, doc FROM documents WHERE _id IN ({','.join('?' * len(batch))})", batch
                )
                found.update(rows.fetchall())
            cache = self._cached()
            for key in keys:
                if key in found:
                    doc = cache[key] = self._documents._decode_doc(found[key])
                    self._query_index.add(key, doc)
                else:
                    cache.pop(key, None)
                    self._query_index.remove(key)
            self._seen = newest
        return False

    def __setitem__(self, key: Any, value: Any) -> None:
        """Store a document."""
        with self._guard.write():
            self._catch_up()
            super().__setitem__(key, value)
            if self._cache is not None:  # as stored: what a read from the file would give
                self._cache[self._index_key(key)] = self._documents._decode_doc(self._documents._encode_doc(value))
            self._wrote()

    def __delitem__(self, key: Any) -> None:
        """Delete a document."""
        with self._guard.write():
            self._catch_up()
            super().__delitem__(key)
            if self._cache is not None:
                self._cache.pop(self._index_key(key), None)
            self._wrote()

    def _catch_up(self) -> None:
        """Before a write (under the lock): take in other processes' changes, so ours can be marked seen."""
        if self._query_index is not None and self._query_index_is_stale():
            self._query_index = None
        if self._query_index is None:
            self._cache = None  # rebuilt with the index

    def _wrote(self) -> None:
        """After a write (still under the lock): the index has it, and now and then prune the change log."""
        self._writes += 1
        if self._query_index is not None:
            (self._seen,) = self._connection.execute("SELECT MAX(seq) FROM changes").fetchone()
        if self._writes % PRUNE_EVERY == 0:
            with self._connection:
                self._connection.execute(
                    "DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes) - ?", (KEEP_CHANGES,)
                )

    @property
    def is_empty(self) -> bool:
        """True when the collection holds no document."""
        with self._guard.lock:
            return bool(super().is_empty)

    @property
    def is_created(self) -> bool:
        """True when the collection exists."""
        with self._guard.lock:
            return bool(super().is_created)

    __contains__ = _locked(sqlite_store.CollectionStore.__contains__)
    __getitem__ = _locked(sqlite_store.CollectionStore.__getitem__)
    __len__ = _locked(sqlite_store.CollectionStore.__len__)
    create = _writing(sqlite_store.CollectionStore.create)

    def drop(self) -> None:
        """Empty the collection."""
        with self._guard.write():
            super().drop()
            self._cache = None

    create_index = _writing(sqlite_store.CollectionStore.create_index)
    drop_index = _writing(sqlite_store.CollectionStore.drop_index)
    close = _locked(sqlite_store.CollectionStore.close)


class _FileDatabase(sqlite_store.DatabaseStore):
    """A database directory whose collections are `_FileCollection`s sharing the store's guard."""

    def __init__(self, path: pathlib.Path, guard: Guard) -> None:
        self._guard = guard
        super().__init__(path)

    def __getitem__(self, col_name: str) -> _FileCollection:
        known: _FileCollection | None = self._collections.get(col_name)  # every operation asks: no lock then
        if known is not None:
            return known
        with self._guard.write():  # opening a collection may create its tables
            if col_name not in self._collections:
                self._collections[col_name] = _FileCollection(
                    self._dirpath / col_name, self._codec_options, self._guard
                )
            collection: _FileCollection = self._collections[col_name]
            return collection


class FileStore(sqlite_store.ServerStore):
    """The embedded store on disk: one directory per database, one SQLite file per collection."""

    def __init__(self, dirpath: pathlib.Path) -> None:
        super().__init__(dirpath)
        self.guard = Guard(self._dirpath / LOCK_FILE)

    def __getitem__(self, db_name: str) -> _FileDatabase:
        known: _FileDatabase | None = self._databases.get(db_name)
        if known is not None:
            return known
        with self.guard.write():  # opening a database may create its directory
            if db_name not in self._databases:
                self._databases[db_name] = _FileDatabase(self._dirpath / db_name, self.guard)
            database: _FileDatabase = self._databases[db_name]
            return database

    def list_created_database_names(self) -> list[str]:
        """Databases on disk (directories; the lock file is not one)."""
        return [name for name in super().list_created_database_names() if name != LOCK_FILE]

    def close(self) -> None:
        """Close every file."""
        with self.guard.lock:
            super().close()
        self.guard.close()


class _GuardedCollection(_Collection):
    """mongomock's Collection whose write operations each hold the store's write lock throughout."""

    @property
    def _guard(self) -> Guard:
        guard: Guard = self.database.client.guard
        return guard

    def with_options(self, *args: Any, **kwargs: Any) -> Any:
        """The same collection with other options (still guarded)."""
        copy = super().with_options(*args, **kwargs)
        copy.__class__ = _GuardedCollection
        return copy

    def _iter_documents(self, filter: Any) -> Iterator[dict[str, Any]]:
        """The documents matching `filter` (string equality and `$in` tested with sets: see `matching`)."""
        found: Iterator[dict[str, Any]] = matching(self._store, filter) or super()._iter_documents(filter)
        return found

    def find(self, *args: Any, **kwargs: Any) -> Any:
        """mongomock's cursor, computing only the window its skip and limit ask for."""
        cursor = super().find(*args, **kwargs)
        cursor.__class__ = WindowCursor
        return cursor

    def window(self, spec: Any, sort: Any, projection: Any, skip: int, limit: int | None) -> list[dict[str, Any]]:
        """What a cursor returns, read under the store's lock (see embedded_query.window)."""
        with self._guard.lock:
            return window(self, spec, sort, projection, skip, limit)


for _name in WRITE_METHODS:
    setattr(_GuardedCollection, _name, _writing(getattr(_Collection, _name)))


class _GuardedDatabase(_Database):
    """mongomock's Database handing out guarded collections."""

    def get_collection(self, *args: Any, **kwargs: Any) -> Any:
        """A collection whose writes are atomic across threads and processes."""
        collection = super().get_collection(*args, **kwargs)
        if type(collection) is _Collection:
            collection.__class__ = _GuardedCollection
        return collection

    def with_options(self, *args: Any, **kwargs: Any) -> Any:
        """The same database with other options (still guarded)."""
        copy = super().with_options(*args, **kwargs)
        copy.__class__ = _GuardedDatabase
        return copy


class EmbeddedClient(_Client):
    """The `mongo_client_class` mongoengine connects with: pymongo's API over `store` (see open_store)."""

    def __init__(self, *args: Any, store: FileStore | memory_store.ServerStore, **kwargs: Any) -> None:
        super().__init__(*args, _store=store, **kwargs)
        self.guard = store.guard if isinstance(store, FileStore) else Guard(None)

    def get_database(self, *args: Any, **kwargs: Any) -> Any:
        """A database whose collections are guarded."""
        database = super().get_database(*args, **kwargs)
        if type(database) is _Database:
            database.__class__ = _GuardedDatabase
        return database

    def close(self) -> None:
        """Close the client and the store's files."""
        super().close()
        if isinstance(self._store, FileStore):
            self._store.close()


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _MemoryCollection(_Planning, _MemoryCollectionStore):
    """mongomock's in-memory collection with the sorted indexes."""


class _MemoryDatabase(_MemoryDatabaseStore):
    """An in-memory database of `_MemoryCollection`s."""

    def __getitem__(self, col_name: str) -> _MemoryCollection:
        if col_name not in self._collections:
            self._collections[col_name] = _MemoryCollection(col_name)
        collection: _MemoryCollection = self._collections[col_name]
        return collection


class MemoryStore(_MemoryServerStore):
    """The throw-away store (`:memory:`): dictionaries in this process."""

    def __getitem__(self, db_name: str) -> _MemoryDatabase:
        if db_name not in self._databases:
            self._databases[db_name] = _MemoryDatabase()
        database: _MemoryDatabase = self._databases[db_name]
        return database


def open_store(data_dir: str) -> FileStore | memory_store.ServerStore:
    """The store for REVIEWS_DATA_DIR: SQLite files in that directory, or a fresh in-memory one for `:memory:`."""
    if data_dir == MEMORY:
        return MemoryStore()
    return FileStore(pathlib.Path(data_dir))

"""The embedded store: litemongo (mongomock's query engine on SQLite files), safe for threads and processes.

litemongo keeps each collection in an SQLite file (WAL, so a commit survives `kill -9`) and answers
equality and `$in` from in-process hash indexes that it rebuilds when another connection commits.
What it does not do, which this adapter adds:

- Threads: it opens SQLite with `check_same_thread=True` and shares one cursor per file, so the API's
  threadpool would be refused (or worse, interleave). Here each collection file's connection may be used
  by any thread, and every touch of it is serialised by one re-entrant lock per store.
- Indexes: litemongo's live in each process's memory (with every document decoded, about 16 KB a review in
  every process) and are rebuilt after any commit by another connection. Here the indexes are tables in the
  collection's file, written in the same transaction as the documents (embedded_sql), so every process reads
  the same ones and none builds them at start-up; each process keeps only a bounded cache of decoded documents
  (CACHE_DOCS), from which triggers' `changes` log drops what other processes changed.
- Processes: mongomock's read-modify-write operations (`$inc`, find-and-modify, a replace only if still
  as read, unique checks, bulk writes) read, then write, with no lock at all. Here every write operation
  runs holding an exclusive `flock` on `write.lock` in the data directory, and reads the state under it,
  so two processes never lose an update.

Every wait is bounded (`LOCK_WAIT`): a store another process holds (a stuck writer keeping `write.lock`, SQLite's
own locks held) is a `StoreUnavailable` the API answers with 503, never a request that hangs.

`:memory:` gives the same engine on plain dictionaries (with the in-memory indexes of embedded_index): nothing on
disk, gone when the process stops.
"""

from __future__ import annotations

import fcntl
import functools
import os
import pathlib
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

import bson
import litemongo.sqlite_store as sqlite_store
from litemongo._vendor import mongomock
from litemongo._vendor.mongomock import store as memory_store
from pymongo.errors import ConnectionFailure

from reviews_service.embedded_index import Plan, SortedIndexes, hash_paths
from reviews_service.embedded_query import WindowCursor, matching, window
from reviews_service.embedded_sql import SqlIndexes

# litemongo's stub types its mongomock classes as pymongo's generics; here they are plain base classes
_Collection: Any = mongomock.Collection
_Database: Any = mongomock.Database
_Client: Any = mongomock.MongoClient
_MemoryCollectionStore: Any = memory_store.CollectionStore
_MemoryDatabaseStore: Any = memory_store.DatabaseStore
_MemoryServerStore: Any = memory_store.ServerStore

MEMORY = ":memory:"
LOCK_FILE = "write.lock"
KEEP_CHANGES = 100_000  # logged changes kept per file; a reader further behind empties its document cache
PRUNE_EVERY = 5_000  # writes of this process between prunes of the change log
CACHE_DOCS = 1_000  # decoded documents each process keeps per collection (the most recently read)
KEEP_FROM_SETS = 200  # candidate sets up to this size are kept in that cache; larger ones are read through it
_ID_TYPES = (str, bson.ObjectId, int)  # `_id` values whose document key is found without a scan
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
        self._queued: set[SqlIndexes] = set()  # index rows to write before those commits

    def wrote(self, connection: sqlite3.Connection, indexes: SqlIndexes | None = None) -> None:
        """A document was written on `connection`: commit it when the write operation ends, after writing the
        index rows `indexes` queued."""
        self._pending.add(connection)
        if indexes is not None:
            self._queued.add(indexes)

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
        queued, self._queued = self._queued, set()
        try:
            for indexes in queued:
                indexes.flush()
        finally:
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


class _FileCollection(sqlite_store.CollectionStore):
    """One collection's SQLite file, usable from any thread, one thread at a time.

    Its indexes are tables in the file (embedded_sql), written in the same transaction as the documents; this
    process keeps only a bounded cache of decoded documents (CACHE_DOCS), emptied of what other processes changed
    (the `changes` log) before each read.
    """

    def __init__(self, filename: pathlib.Path, codec_options: bson.CodecOptions[Any] | None, guard: Guard) -> None:
        self._guard = guard
        self._seen = 0  # the last change (seq in `changes`) the cache includes
        self._writes = 0
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()  # encoded key -> document, least recent first
        with guard.write():  # opening creates tables: not while another process writes
            super().__init__(filename, codec_options=codec_options)
            with self._connection:
                for statement in CHANGE_LOG:
                    self._connection.execute(statement)
                self._sql.create()
            (self._seen,) = self._connection.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()
            self._sql.load()
            self._ensure_indexes()

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
        self._sql = SqlIndexes(self._connection)

    # region reading

    def _refresh(self) -> None:
        """Before a read or a write (under the lock): drop cached documents other processes changed since."""
        self._sql.flush()  # what this process's write operation queued, before anything reads the indexes
        version = self._connection.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return
        self._data_version = version
        self._sql.load()  # another process may have rebuilt the index tables
        oldest, newest = self._connection.execute("SELECT MIN(seq), MAX(seq) FROM changes").fetchone()
        if oldest is not None and self._seen < oldest - 1:
            self._cache.clear()  # further behind than the log goes
        elif newest is not None and newest > self._seen:
            for (key,) in self._connection.execute("SELECT key FROM changes WHERE seq > ?", (self._seen,)):
                self._cache.pop(key, None)
        self._seen = newest or 0

    def _indexes(self) -> SqlIndexes | None:
        """The index tables, if they were built for the indexes this collection declares."""
        return self._sql if self._sql.serves(list(self.indexes.values())) else None

    def _decoded(self, key: str, blob: bytes, keep: bool) -> dict[str, Any]:
        doc = self._cache.get(key)
        if doc is not None:
            self._cache.move_to_end(key)
            return doc
        doc = self._documents._decode_doc(blob)
        assert isinstance(doc, dict)
        if keep:
            self._cache[key] = doc
            if len(self._cache) > CACHE_DOCS:
                self._cache.popitem(last=False)
        return doc

    def _read(self, keys: list[str], keep: bool) -> list[dict[str, Any]]:
        """The documents of these keys that exist, in the order given."""
        found: dict[str, bytes | None] = {key: None for key in keys if key in self._cache}
        missing = [key for key in keys if key not in found]
        for batch in _chunks(missing, 500):
            rows = self._connection.execute(
                f"SELECT _id, doc FROM documents WHERE _id IN ({','.join('?' * len(batch))})", batch
            )
            found.update(rows.fetchall())
        return [self._decoded(key, found[key] or b"", keep) for key in keys if key in found]

    def fetch(self, key: Any) -> dict[str, Any] | None:
        """One document by its encoded key (a sorted walk reads them one by one)."""
        docs = self._read([key], keep=True)
        return docs[0] if docs else None

    def plan(self, spec: Any, sort: Any) -> Plan | None:
        """How a sorted index table answers `spec` in `sort` order, if one can (see embedded_sql)."""
        with self._guard.lock:
            self._refresh()
            indexes = self._indexes()
            return indexes.plan(spec, sort) if indexes is not None else None

    def covered(self, spec: Any, fields: tuple[str, ...], skip: int, limit: int) -> list[dict[str, Any]] | None:
        """An unsorted find answered from one index table's rows alone, if one holds it (see embedded_sql)."""
        with self._guard.lock:
            self._refresh()
            indexes = self._indexes()
            return indexes.covered(spec, fields, skip, limit) if indexes is not None else None

    def _id_keys(self, condition: Any) -> list[str] | None:
        """The document keys an `_id` equality or `$in` names (None for values whose key is not plain)."""
        if isinstance(condition, dict):
            if list(condition) == ["$in"] and isinstance(condition["$in"], list | tuple):
                values = list(condition["$in"])
            elif list(condition) == ["$eq"]:
                values = [condition["$eq"]]
            else:
                return None
        else:
            values = [condition]
        plain = (str, bson.ObjectId) if self._documents.key_format == sqlite_store.KEY_FORMAT_LEGACY else _ID_TYPES
        if not all(type(value) in plain for value in values):
            return None
        return list(dict.fromkeys(self._documents.encode_key(value) for value in values))

    def find_candidates(self, filter: Any) -> Iterator[dict[str, Any]]:
        """The documents that may match, in natural order: their keys now, their documents 500 at a time."""
        with self._guard.lock:
            self._refresh()
            indexes = self._indexes()
            keys = indexes.candidates(filter, self._id_keys) if indexes is not None else None
            if keys is None:
                return self._scan()
            ordered: list[tuple[int, str]] = []
            for batch in _chunks(keys, 500):
                ordered += self._connection.execute(
                    f"SELECT rowid, _id FROM documents WHERE _id IN ({','.join('?' * len(batch))})", batch
                ).fetchall()
        ordered.sort()
        return self._in_batches([key for _, key in ordered])

    def _in_batches(self, keys: list[str]) -> Iterator[dict[str, Any]]:
        keep = len(keys) <= KEEP_FROM_SETS  # a few documents are worth keeping; a unit's 100,000 would churn it
        for batch in _chunks(keys, 500):
            with self._guard.lock:
                self._refresh()
                docs = self._read(batch, keep)
            yield from docs

    def _scan(self) -> Iterator[dict[str, Any]]:
        """Every document in natural order, read 500 at a time."""
        for rows in self._pages(500, refresh=True):
            with self._guard.lock:
                docs = [self._decoded(key, blob, keep=False) for _, key, blob in rows]
            yield from docs

    def _pages(self, size: int, refresh: bool) -> Iterator[list[tuple[int, str, bytes]]]:
        """The documents' (rowid, key, BSON) rows in natural order, `size` at a time, each page read under the lock,
        after `_refresh` if asked (not by an index build: it would reload the layout the build is replacing)."""
        after = 0
        while True:
            with self._guard.lock:
                if refresh:
                    self._refresh()
                rows = self._connection.execute(
                    "SELECT rowid, _id, doc FROM documents WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, size)
                ).fetchall()
            yield rows
            if len(rows) < size:
                return
            after = rows[-1][0]

    @property
    def documents(self) -> Iterator[dict[str, Any]]:
        """Every document, in natural order."""
        return self._scan()

    def _iter_items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key, document) of every document as the file holds it, for an index build (under the write lock)."""
        for rows in self._pages(1000, refresh=False):
            for _, key, blob in rows:
                yield key, self._documents._decode_doc(blob)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One read snapshot of the file for what runs inside (a walk's pages, its documents), if none is open."""
        began = not self._connection.in_transaction
        if began:
            self._connection.execute("BEGIN")
        try:
            self._refresh()
            yield
        finally:
            if began:
                self._connection.commit()

    # endregion
    # region writing

    def _ensure_indexes(self) -> None:
        """Under the write lock: build the index tables if they do not serve the declared indexes."""
        declared = list(self.indexes.values())
        if self._sql.serves(declared):
            return
        self._guard.wrote(self._connection)
        self._sql.build(declared, self._iter_items())

    def __setitem__(self, key: Any, value: Any) -> None:
        """Store a document and the index rows that changed, in one transaction."""
        with self._guard.write():
            self._refresh()
            encoded = self._index_key(key)
            old = self._stored(encoded)
            blob = self._documents._encode_doc(value)
            super().__setitem__(key, blob)
            new = self._documents._decode_doc(blob)  # as stored: what a read from the file gives
            self._sql.write(encoded, old, new)
            self._guard.wrote(self._connection, self._sql)
            if encoded in self._cache:
                self._cache[encoded] = new
            self._wrote()

    def __delitem__(self, key: Any) -> None:
        """Delete a document and its index rows."""
        with self._guard.write():
            self._refresh()
            encoded = self._index_key(key)
            old = self._stored(encoded)
            super().__delitem__(key)
            self._cache.pop(encoded, None)
            self._sql.write(encoded, old, None)
            self._guard.wrote(self._connection, self._sql)
            self._wrote()

    def _stored(self, key: str) -> dict[str, Any] | None:
        """The document as the file holds it now (its index rows were made from it). Not the cached copy:
        mongomock's updates change the documents it was handed in place before they write them back."""
        row = self._connection.execute("SELECT doc FROM documents WHERE _id = ?", (key,)).fetchone()
        if row is None:
            return None
        doc = self._documents._decode_doc(row[0])
        assert isinstance(doc, dict)
        return doc

    def _wrote(self) -> None:
        """After a write (still under the lock): our own change is seen; now and then prune the change log."""
        self._writes += 1
        (self._seen,) = self._connection.execute("SELECT MAX(seq) FROM changes").fetchone()
        if self._writes % PRUNE_EVERY == 0:
            self._connection.execute(
                "DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes) - ?", (KEEP_CHANGES,)
            )

    def create_index(self, index_name: str, index_dict: dict[str, Any]) -> None:
        """Declare an index and build its tables."""
        with self._guard.write():
            self._refresh()
            super().create_index(index_name, index_dict)
            self._ensure_indexes()

    def drop_index(self, index_name: str) -> None:
        """Forget an index's declaration and rebuild the tables for the rest."""
        with self._guard.write():
            self._refresh()
            super().drop_index(index_name)
            self._ensure_indexes()

    def drop(self) -> None:
        """Empty the collection."""
        with self._guard.write():
            self._refresh()
            super().drop()
            self._guard.wrote(self._connection)
            self._sql.clear()
            self._cache.clear()
            self._ensure_indexes()

    def copy_from(self, source: Any) -> None:
        """Replace the contents with another collection's (a rename), and index them."""
        with self._guard.write():
            super().copy_from(source)
            self._cache.clear()
            self._sql.load()
            self._guard.wrote(self._connection)
            self._sql.build(list(self.indexes.values()), self._iter_items())

    # endregion

    @property
    def is_empty(self) -> bool:
        """True when the collection holds no document."""
        with self._guard.lock:
            return not self._connection.execute("SELECT 1 FROM documents LIMIT 1").fetchone()

    @property
    def is_created(self) -> bool:
        """True when the collection exists."""
        with self._guard.lock:
            return bool(super().is_created)

    __contains__ = _locked(sqlite_store.CollectionStore.__contains__)
    __getitem__ = _locked(sqlite_store.CollectionStore.__getitem__)
    __len__ = _locked(sqlite_store.CollectionStore.__len__)
    create = _writing(sqlite_store.CollectionStore.create)
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
        store = self._store  # opening the file takes the write lock: never while holding `lock` (the order)
        with self._guard.lock, _snapshot(store):
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


def _snapshot(store: Any) -> Any:
    """A file collection's read snapshot; nothing for the in-memory one."""
    return store.reading() if isinstance(store, _FileCollection) else nullcontext()


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

"""Make an embedded store unavailable from outside the service: `python -m tests.store_blocker DATA_DIR`.

It takes, and keeps until it is stopped, the locks every user of the store's files needs:
- `write.lock` (flock), which every write operation of any process holds: writes elsewhere wait for it;
- SQLite's own WAL locks of every collection file (the write, checkpoint, recovery and five reader locks, bytes
  120-127 of the `-shm` file, as SQLite's unix VFS takes them with fcntl): no other connection can begin a read
  or a write transaction, and SQLite answers "locking protocol" / "database is locked" after its own retries.
  This is what another SQLite connection holding the database with `PRAGMA locking_mode=EXCLUSIVE` amounts to;
  that pragma itself cannot be obtained while the service keeps its connections open, so the locks are taken
  directly.
With `--writes` it takes `write.lock` only (reads go on). It prints `held N` once it holds them; stopping it
(SIGTERM) releases them all, as the kernel does at exit.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import time
from pathlib import Path

WAL_LOCKS = (120, 8)  # offset and length of SQLite's WAL locks in the -shm file (see sqlite3 src/wal.c)
TRIES = 2_000  # a lock the service holds for a moment (a read in progress) is tried again, 5 ms apart


def take(fd: int, length: int, start: int) -> None:
    """An exclusive fcntl lock on the byte range, retried while a reader holds it for an instant."""
    for _ in range(TRIES):
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, length, start, 0)
            return
        except BlockingIOError:
            time.sleep(0.005)
    raise SystemExit(f"could not take bytes {start}+{length} of fd {fd} in {TRIES * 0.005:.0f} s")


def main(data_dir: Path, writes_only: bool) -> None:
    """Hold every lock (or write.lock only) until SIGTERM."""
    writer = os.open(data_dir / "write.lock", os.O_RDWR)
    fcntl.flock(writer, fcntl.LOCK_EX)  # waits for a write in progress, then keeps every other one out
    held = []
    for shm in [] if writes_only else sorted(data_dir.rglob("*-shm")):
        fd = os.open(shm, os.O_RDWR)
        take(fd, WAL_LOCKS[1], WAL_LOCKS[0])
        held.append(fd)
    print(f"held {len(held)}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--writes" in sys.argv[2:])

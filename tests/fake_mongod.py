"""A tiny stand-in for mongod on 127.0.0.1: answers the handshake, ping and index commands, and every other
command with an empty answer until `stall` is set; from then on it reads such requests and never answers them,
as a stopped (SIGSTOP) server or a black-holed link does. Only for tests that need a server that hangs."""

from __future__ import annotations

import datetime
import socket
import struct
import threading
from typing import Any

import bson

HELLO = {"ok": 1.0, "isWritablePrimary": True, "ismaster": True, "maxWireVersion": 17, "minWireVersion": 0,
         "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000, "maxWriteBatchSize": 100000,
         "logicalSessionTimeoutMinutes": 30, "connectionId": 1}  # fmt: skip
ALWAYS = ("hello", "ismaster", "ping", "buildinfo", "endsessions", "createindexes", "listindexes")
HANG_AT_MOST = 30.0  # a stalled request is let go at the latest then (or at stop())


class FakeMongod:
    """The server on a free port of 127.0.0.1, in daemon threads; `url` to connect, `stall` to stop answering."""

    def __init__(self) -> None:
        self.stall = threading.Event()
        self._stopped = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.url = f"mongodb://127.0.0.1:{self._server.getsockname()[1]}/reviews_test?directConnection=true"
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        """Stop accepting and let every stalled request go (its connection closes)."""
        self._stopped.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _answer(self, command: dict[str, Any]) -> dict[str, Any] | None:
        name = next(iter(command)).lower()
        if name in ("hello", "ismaster"):
            return dict(HELLO, localTime=datetime.datetime.now(datetime.UTC))
        if name == "listindexes":
            return {"ok": 1.0, "cursor": {"id": 0, "ns": "x.y", "firstBatch": []}}
        if name in ALWAYS:
            return {"ok": 1.0}
        if self.stall.is_set():
            return None
        return {"ok": 1.0, "n": 0, "value": None, "cursor": {"id": 0, "ns": "x.y", "firstBatch": []}}

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                while not self._stopped.is_set():
                    length, request_id, _, op = struct.unpack("<iiii", _read(conn, 16))
                    body = _read(conn, length - 16)
                    if op != 2013:  # OP_MSG only: what pymongo 4 speaks to a server of wire version 17
                        return
                    size = struct.unpack("<i", body[5:9])[0]
                    reply = self._answer(bson.decode(body[5 : 5 + size]))
                    if reply is None:
                        self._stopped.wait(HANG_AT_MOST)
                        return
                    payload = struct.pack("<I", 0) + b"\0" + bson.encode(reply)
                    conn.sendall(struct.pack("<iiii", 16 + len(payload), 1, request_id, 2013) + payload)
            except (EOFError, OSError):
                return


def _read(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data

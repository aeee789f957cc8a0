"""Log lines as one JSON object each (for a log shipper) or as plain text (for a person), with the request id.

`reviews serve` and `reviews scheduler` call `configure()`: REVIEWS_LOG_FORMAT=json|text, by default json when
REVIEWS_ENV=production and text otherwise. The request id of the request being handled lives in a contextvar, set
by the access middleware (reviews_service/api/access.py); every line logged while handling it carries it, also
from the worker threads FastAPI runs plain `def` routes in (they run in a copy of the request's context).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["json", "text"]
REQUEST_ID: ContextVar[str | None] = ContextVar("reviews_request_id", default=None)
# What an incoming X-Request-ID may be to be kept: short, and nothing a log viewer or a header could misread.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
ACCESS_LOGGER = "reviews.access"
# Fields an access line adds to the record (logger.info(..., extra=...)); all our own values, none from the body.
ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "client")
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # built once: json.dumps with options builds one a call
_TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"  # what the CLI has always printed
# Control characters in a message (a newline in a name someone sent) would start a forged line of their own.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


class RequestIds:
    """Fresh request ids: 16 hex digits, a random prefix per instance and a counter (no system call per id)."""

    def __init__(self) -> None:
        self._prefix = os.urandom(4).hex()
        self._next = itertools.count(int.from_bytes(os.urandom(2)))

    def new(self) -> str:
        """An id no other request of this instance had (and, by the random prefix, of no other instance)."""
        return f"{self._prefix}{next(self._next) & 0xFFFFFFFF:08x}"

    def of(self, header: bytes | None) -> str:
        """The caller's X-Request-ID if it is short and safe (a proxy's, a client's), else a fresh one."""
        if header:
            text = header.decode("latin-1")
            if _SAFE_ID.fullmatch(text):
                return text
        return self.new()


def current_request_id() -> str | None:
    """The id of the request being handled here, None outside a request (a scheduler's job)."""
    return REQUEST_ID.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and an access line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (a traceback, if any, as the `exception` string)."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line)


class TextFormatter(logging.Formatter):
    """The CLI's plain lines, with ` [request_id]` after the message when there is one."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        """`LEVEL logger: message`, with control characters in the message escaped (one record, one line)."""
        message = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), record.message)
        return f"{record.levelname} {record.name}: {message}"

    def format(self, record: logging.LogRecord) -> str:
        """`LEVEL logger: message [id]`."""
        text = super().format(record)
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        return f"{text} [{request_id}]" if request_id else text


def format_for(settings_format: str | None, env: str) -> LogFormat:
    """The format asked for (REVIEWS_LOG_FORMAT), else json in production and text elsewhere."""
    if settings_format in ("json", "text"):
        return settings_format  # type: ignore[return-value]
    return "json" if env == "production" else "text"


def configure(log_format: LogFormat, level: int = logging.INFO) -> None:
    """Send every logger's lines (uvicorn's too) to stderr in `log_format`, replacing any handler set before."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Nothing we print says which process or thread logged: not looked up for every record (every request's)
    logging.logProcesses = logging.logThreads = logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # through ours, not their own handlers
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per HTTP call of a collector: too many

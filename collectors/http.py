"""One way for every collector to call a platform: timeouts, retries, Retry-After, a rate limit, our errors.

`make_client` builds the httpx client with explicit connect/read/write/pool timeouts; `request_json` makes one
call through it: it waits for the caller's `RateLimiter`, streams the answer under a total deadline and a size
cap, retries timeouts, connection errors, torn bodies and 5xx with exponential backoff and jitter (tenacity),
waits as long as a 429 or 503 says in `Retry-After` (seconds or an HTTP date, capped), counts calls and retries
in the run's report, and turns whatever fails into our SourceError / SourceConfigError with a message a person
can act on. Limiters live in a `RateLimiters` the caller owns (the ServiceState's), never in this module.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay

from reviews_service.errors import SourceConfigError, SourceError

MAX_BODY = 16 * 1024 * 1024  # one API answer; a page of 100 reviews is well under 1 MB
USER_AGENT = "reviews-service/0.1 (+https://github.com/reviews-service)"


@dataclass(frozen=True)
class Timeouts:
    """Seconds per phase (httpx's), plus `total`: one call's whole budget, its retries and waits included."""

    connect: float = 5.0
    read: float = 20.0
    write: float = 10.0
    pool: float = 5.0
    total: float = 90.0


@dataclass(frozen=True)
class Backoff:
    """How retries are spaced: exponential from `initial` (doubling, capped at `maximum`) plus up to `jitter`."""

    attempts: int = 5
    initial: float = 0.5
    maximum: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0  # a Retry-After longer than this is not waited for: the call fails instead


# A probe when a unit is saved: an admin waits for it, so short timeouts and at most one retry (a platform that
# is down costs a few seconds, never a hung save).
PROBE_TIMEOUTS = Timeouts(connect=3.0, read=5.0, write=5.0, pool=3.0, total=8.0)
PROBE_BACKOFF = Backoff(attempts=2, initial=0.2, maximum=0.5, jitter=0.1, max_retry_after=1.0)


class Counts(Protocol):
    """Where calls and retries are counted (a collectors.base.CollectReport)."""

    calls: int
    retries: int


def make_client(
    *,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
    timeouts: Timeouts = Timeouts(),
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client with explicit per-phase timeouts; the caller closes it (`with make_client(...) as c`)."""
    timeout = httpx.Timeout(connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool)
    return httpx.Client(
        base_url=base_url,
        headers={"user-agent": USER_AGENT, "accept": "application/json", **(headers or {})},
        timeout=timeout,
        transport=transport,
        follow_redirects=False,  # an API that redirects is misconfigured; credentials must not follow elsewhere
    )


class RateLimiter:
    """Sliding windows of (calls, seconds): a call waits until every window has room (thread-safe)."""

    def __init__(
        self,
        windows: Sequence[tuple[int, float]],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.windows = [(limit, seconds, deque[float]()) for limit, seconds in windows]
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()

    def wait_needed(self) -> float:
        """Seconds until a call may be made (0 now); takes the slot when it is 0."""
        with self._lock:
            now = self.clock()
            wait = 0.0
            for limit, seconds, stamps in self.windows:
                while stamps and stamps[0] <= now - seconds:
                    stamps.popleft()
                if len(stamps) >= limit:
                    wait = max(wait, stamps[0] + seconds - now)
            if wait <= 0:
                for _, _, stamps in self.windows:
                    stamps.append(now)
            return max(wait, 0.0)

    def acquire(self, *, max_wait: float, what: str) -> None:
        """Wait for a slot, at most `max_wait` seconds; past that a SourceError says when to try again."""
        waited = 0.0
        while (wait := self.wait_needed()) > 0:
            if waited + wait > max_wait:
                raise SourceError(
                    f"{what}'s call budget is used up for now (shared by every unit with this credential); "
                    f"the next call is possible in {wait:.0f} s: try again later"
                )
            self.sleep(wait)
            waited += wait


class RateLimiters:
    """One RateLimiter per (source, credential), created on first use; owned by a ServiceState."""

    def __init__(self) -> None:
        self._limiters: dict[tuple[str, str], RateLimiter] = {}
        self._lock = threading.Lock()

    def get(self, source: str, credential: str, windows: Sequence[tuple[int, float]]) -> RateLimiter:
        """The limiter shared by every unit that calls `source` with `credential` (kept hashed, not as is)."""
        key = (source, hashlib.sha256(credential.encode()).hexdigest())
        with self._lock:
            if key not in self._limiters:
                self._limiters[key] = RateLimiter(windows)
            return self._limiters[key]


class AccessTokens:
    """OAuth access tokens per (source, credential), reused until shortly before they expire; owned by a
    ServiceState like the limiters, so every unit and run of one instance shares one token per credential."""

    MARGIN = 60.0  # seconds before its expiry a token is no longer handed out (clocks, and a call in flight)

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.clock = clock

    def get(self, source: str, credential: str, fetch: Callable[[], tuple[str, float]]) -> str:
        """A valid token: the kept one, or a new one from `fetch()` -> (token, seconds it lives)."""
        key = (source, hashlib.sha256(credential.encode()).hexdigest())
        with self._lock:  # one fetch at a time: two units starting together get one token, not two
            kept = self._tokens.get(key)
            if kept is not None and kept[1] - self.MARGIN > self.clock():
                return kept[0]
            token, seconds = fetch()
            self._tokens[key] = (token, self.clock() + seconds)
            return token

    def forget(self, source: str, credential: str) -> None:
        """Drop the kept token (the platform refused it before its time)."""
        with self._lock:
            self._tokens.pop((source, hashlib.sha256(credential.encode()).hexdigest()), None)


class _Retryable(Exception):
    """One attempt failed in a way worth trying again; `retry_after` is the platform's own wait, if it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _wait(backoff: Backoff, deadline: float) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            chosen = min(exc.retry_after, backoff.max_retry_after)
        else:
            exponential = min(backoff.maximum, backoff.initial * 2 ** (state.attempt_number - 1))
            chosen = exponential + random.uniform(0, backoff.jitter)  # jitter: units sharing a key spread out
        return max(0.0, min(chosen, deadline - time.monotonic()))  # never sleep past the call's deadline

    return wait


def _read_body(response: httpx.Response, deadline: float, max_bytes: int) -> bytes:
    """The body, read in chunks under the call's total deadline and a size cap."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(f"{response.url.host} sent more than {max_bytes:,} bytes in one answer; refused")
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _Retryable("the answer took longer than the call's deadline")
    return b"".join(chunks)


def _error_detail(body: bytes) -> str:
    """A platform's own error message (`message`, `detailedError[].message`, ...) if its body has one."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict):
        details = data.get("detailedError")
        if isinstance(details, list) and details and isinstance(details[0], dict) and details[0].get("message"):
            return str(details[0]["message"])[:300]
        for key in ("message", "error_description", "error", "detail", "errorCode"):
            if isinstance(data.get(key), str):
                return str(data[key])[:300]
    return ""


def request_json(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    limiter: RateLimiter,
    report: Counts,
    what: str,
    refused: str,
    not_found: str | None = None,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    data: Mapping[str, str] | None = None,
    timeouts: Timeouts = Timeouts(),
    backoff: Backoff = Backoff(),
    max_bytes: int = MAX_BODY,
) -> Any:
    """One API call answered with JSON, through limiter, retries and deadline; errors as our own.

    `what` names the platform in messages ("Trustpilot"); `refused` is the message for a 401/403 (e.g. "the
    Trustpilot API key was refused"); `not_found`, if given, makes a 404 a SourceConfigError with that message.
    """
    deadline = time.monotonic() + timeouts.total

    def attempt() -> Any:
        limiter.acquire(max_wait=max(0.0, deadline - time.monotonic()), what=what)
        report.calls += 1
        try:
            with client.stream(method, url, params=params, headers=headers, json=json_body, data=data) as response:
                body = _read_body(response, deadline, max_bytes)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"{what} did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"could not reach {what} ({type(exc).__name__}: {exc})") from exc
        status = response.status_code
        if status in (429, 503):
            wait = retry_after_seconds(response.headers.get("retry-after"))
            if wait is not None and wait > backoff.max_retry_after:
                raise SourceError(f"{what} asks us to wait {wait:.0f} s before the next call (HTTP {status}); "
                                  "the next scheduled run will try again")  # fmt: skip
            raise _Retryable(f"{what} answered HTTP {status}", retry_after=wait)
        if status >= 500:
            raise _Retryable(f"{what} answered HTTP {status}")
        if status in (401, 403):
            raise SourceConfigError(f"{refused} (HTTP {status}{': ' + d if (d := _error_detail(body)) else ''})")
        if status == 404 and not_found is not None:
            raise SourceConfigError(not_found)
        if status >= 400:
            detail = _error_detail(body)
            raise SourceError(f"{what} refused the request: HTTP {status}{': ' + detail if detail else ''}")
        try:
            return json.loads(body)
        except ValueError as exc:  # a torn or truncated body: the next attempt usually gets it whole
            raise _Retryable(f"{what} sent a body that is not JSON (torn or truncated)") from exc

    def count_retry(_state: RetryCallState) -> None:
        report.retries += 1

    retrying = Retrying(
        retry=retry_if_exception_type(_Retryable),
        stop=stop_after_attempt(backoff.attempts) | stop_after_delay(timeouts.total),
        wait=_wait(backoff, deadline),
        before_sleep=count_retry,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Retryable as exc:
        raise SourceError(f"{exc}; gave up after {backoff.attempts} attempts or {timeouts.total:.0f} s") from exc

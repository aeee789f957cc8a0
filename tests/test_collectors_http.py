"""collectors.http against a real server on 127.0.0.1 that answers from a script of faults."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collectors.http import Backoff, RateLimiter, RateLimiters, Timeouts, make_client, request_json, retry_after_seconds
from reviews_service.errors import SourceConfigError, SourceError

FAST = Backoff(attempts=4, initial=0.01, maximum=0.05, jitter=0.01, max_retry_after=2)


class Counts:
    calls = 0
    retries = 0


class Scripted(ThreadingHTTPServer):
    """Answers each request with the next (status, headers, body, delay) of its script, then 200 {"ok": true}."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: list[tuple[int, dict[str, str], bytes, float]] = []
        self.seen: list[tuple[str, dict[str, str]]] = []


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers)))
        status, headers, body, delay = (
            self.server.script.pop(0) if self.server.script else (200, {}, b'{"ok": true}', 0.0)
        )
        time.sleep(delay)
        self.send_response(status)
        for name, value in {"content-type": "application/json", "content-length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Scripted]:
    srv = Scripted()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def call(server: Scripted, counts: Counts, **kwargs: object) -> object:
    timeouts = kwargs.pop("timeouts", Timeouts(total=10))
    with make_client(base_url=f"http://127.0.0.1:{server.server_port}", timeouts=timeouts) as client:  # type: ignore[arg-type]
        return request_json(
            client, "GET", "/thing", limiter=RateLimiter([(100, 1.0)]), report=counts, what="Testpilot",
            refused="the Testpilot API key was refused", backoff=FAST, **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip


def test_5xx_burst_and_torn_body_are_retried_and_counted(server: Scripted) -> None:
    server.script = [(500, {}, b"oops", 0), (503, {}, b"", 0), (200, {}, b'{"ok": tr', 0)]
    counts = Counts()
    assert call(server, counts) == {"ok": True}
    assert (counts.calls, counts.retries) == (4, 3)


def test_retry_after_is_honoured_on_429(server: Scripted) -> None:
    server.script = [(429, {"retry-after": "1"}, b"{}", 0)]
    counts = Counts()
    started = time.monotonic()
    assert call(server, counts) == {"ok": True}
    assert time.monotonic() - started >= 1.0
    assert counts.retries == 1


def test_a_retry_after_past_the_cap_fails_at_once_and_says_when(server: Scripted) -> None:
    server.script = [(429, {"retry-after": "3600"}, b"{}", 0)]
    with pytest.raises(SourceError, match="wait 3600 s"):
        call(server, Counts())


def test_a_slow_answer_times_out_then_is_retried(server: Scripted) -> None:
    server.script = [(200, {}, b'{"late": true}', 0.6)]
    counts = Counts()
    assert call(server, counts, timeouts=Timeouts(read=0.2, total=10)) == {"ok": True}
    assert counts.retries == 1


def test_refused_key_is_a_config_error_that_says_so(server: Scripted) -> None:
    server.script = [(401, {}, b'{"message": "Invalid ApiKey"}', 0)]
    with pytest.raises(SourceConfigError, match="the Testpilot API key was refused") as caught:
        call(server, Counts())
    assert caught.value.status == 422


def test_404_with_a_message_is_a_config_error(server: Scripted) -> None:
    server.script = [(404, {}, b"{}", 0)]
    with pytest.raises(SourceConfigError, match="no such shop"):
        call(server, Counts(), not_found="no such shop")


def test_persistent_5xx_gives_up_as_a_source_error(server: Scripted) -> None:
    server.script = [(502, {}, b"", 0)] * 10
    counts = Counts()
    with pytest.raises(SourceError, match="HTTP 502; gave up after 4 attempts"):
        call(server, counts)
    assert counts.calls == 4


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert retry_after_seconds("soon") is None


def test_rate_limiter_waits_for_room_in_every_window() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter([(3, 10.0), (5, 100.0)], clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire(max_wait=1000, what="x")
    assert slept == [10.0]  # the 4th call waited for the 10-second window
    with pytest.raises(SourceError, match="call budget is used up"):
        limiter.acquire(max_wait=5, what="Testpilot")  # the hour-like window is full for ~90 s more


def test_limiters_are_per_source_and_credential_and_owned_by_their_holder() -> None:
    one, two = RateLimiters(), RateLimiters()
    assert one.get("trustpilot", "key-a", [(1, 1.0)]) is one.get("trustpilot", "key-a", [(1, 1.0)])
    assert one.get("trustpilot", "key-a", [(1, 1.0)]) is not one.get("trustpilot", "key-b", [(1, 1.0)])
    assert one.get("trustpilot", "key-a", [(1, 1.0)]) is not two.get("trustpilot", "key-a", [(1, 1.0)])


def test_credentials_never_travel_in_the_query(server: Scripted) -> None:
    call(server, Counts(), headers={"apikey": "k-123"})
    path, headers = server.seen[-1]
    assert "k-123" not in path
    assert headers.get("apikey") == "k-123"

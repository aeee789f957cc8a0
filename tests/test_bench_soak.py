"""bench/soak.py's measuring parts: soak.lua under the real wrk, the parsing of its figures, and the verdict maths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import uvloop

from bench import soak_paced, soak_report, soak_setup, soak_wrk
from bench.widgets import Processes
from tests.conftest import local_http_server

LINE = (
    "SOAK requests=120345 duration_us=30012345 bytes=987654321 connect=0 read=2 write=0 timeout=3 status=7"
    " p50_us=1234 p90_us=5678 p99_us=48765 p999_us=91234 max_us=250000 mean_us=2345.6"
)


def test_the_soak_line_gives_rate_latency_in_ms_and_errors_by_kind() -> None:
    figures = soak_wrk.parse("Running 30s test @ http://127.0.0.1:1\n" + LINE + "\n")
    assert figures.requests == 120_345
    assert figures.requests_per_s == pytest.approx(120_345 / 30.012345)
    assert (figures.p50_ms, figures.p99_ms, figures.max_ms) == (1.234, 48.765, 250.0)
    assert figures.errors == 12
    assert figures.describe_errors() == "7 status >= 400, 2 socket read, 3 socket timeout"


def test_wrk_output_without_the_soak_line_or_with_a_torn_one_is_refused() -> None:
    with pytest.raises(ValueError, match="no SOAK line"):
        soak_wrk.parse("Running 30s test @ http://127.0.0.1:1\n  2 threads and 256 connections\n")
    with pytest.raises(ValueError, match="lacks p99_us"):
        soak_wrk.parse(LINE.replace(" p99_us=48765", ""))


def test_percentile_is_nearest_rank_and_growth_compares_the_end_with_the_warm_up() -> None:
    times = [float(n) for n in range(1, 101)]
    assert soak_report.percentile(times, 0.99) == 99.0
    assert soak_report.percentile([0.2, 59.5], 0.99) == 59.5
    assert soak_report.growth({"after warm-up": 200_000, "middle": 260_000, "end": 230_000}) == pytest.approx(0.15)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (apt-get install -y wrk)")
def test_soak_lua_spreads_the_paths_evenly_and_counts_answers_over_399_as_errors(tmp_path: Path) -> None:
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with lock:
                seen[self.path] += 1
            status = 503 if self.path == "/broken" else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: Any) -> None:
            pass

    paths = ["/badge", "/stars?sku=a", "/data.json?x=1", "/broken"]
    processes = Processes(tmp_path)
    with local_http_server(Handler) as base:
        command = soak_wrk.argv(str(shutil.which("wrk")), base, paths, seconds=2, connections=4, threads=2, timeout=2)
        try:
            figures = soak_wrk.run(command, 2, processes)
        finally:
            processes.stop_all()
    assert set(seen) == set(paths)
    assert max(seen.values()) - min(seen.values()) <= 8  # each connection's requests go round the list
    assert figures.requests >= sum(seen.values()) - 8  # wrk counts what it got an answer to
    assert figures.status_errors == pytest.approx(seen["/broken"], abs=8)
    assert figures.p99_ms > 0


def test_rss_counts_the_children_of_the_serve_process_too() -> None:
    alone = soak_setup.rss_kb(os.getpid())
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; block = bytearray(60 * 2**20); print('up', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"up\n"
        assert soak_setup.rss_kb(os.getpid()) - alone > 50 * 1024  # kB: the child's 60 MB block is counted
    finally:
        child.kill()
        child.wait(timeout=10)


class _Stalling(BaseHTTPRequestHandler):
    """Keep-alive answers of 100 bytes (404 for /missing), except that the server stops for 0.5 s once."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms wait for a delayed ACK
    stall_at: float = 0.0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with _Stalling.lock:  # one answer at a time: a stall holds every request back, as a busy server does
            if _Stalling.stall_at and time.monotonic() >= _Stalling.stall_at:
                _Stalling.stall_at = 0.0
                time.sleep(0.5)
        status = 404 if self.path == "/missing" else 200
        self.send_response(status)
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.write(b"x" * 100)

    def log_message(self, *_args: Any) -> None:
        pass


def test_the_paced_load_counts_a_stall_for_every_request_it_delayed() -> None:
    """200 requests a second over 4 connections for 2 s, and the server stops for 0.5 s once: a quarter of the
    requests were due during the stall, so p90 shows it. Measured from the send, as wrk does, only the 4 requests
    in flight would (coordinated omission), and p90 would be the server's usual microseconds."""
    _Stalling.stall_at = time.monotonic() + 2.0 + 0.8  # the load's first request is due 2 s after it starts
    with local_http_server(_Stalling) as base:
        line = uvloop.run(soak_paced.run(base, ["/a", "/b", "/missing"], 200, 4, 2.0, 5.0))
    figures = soak_wrk.parse(line)
    assert figures.offered == 400 and figures.requests == 400, line
    assert figures.status_errors == 133, line  # every third path answers 404
    assert figures.p90_ms > 100, line
    assert 400 <= figures.max_ms < 700, line
    assert figures.p50_ms < 50, line

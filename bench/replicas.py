"""How long a write in one process takes to show in another's cached answers (two `reviews serve`, one data dir).

    python -m bench.replicas [--rounds 10]

Starts two `reviews serve` on one fresh REVIEWS_DATA_DIR (A loads the demo shop), then each round warms B's
summary and badge, hides a review through A's admin API and times until B's summary and B's badge change.
Prints one table: median and worst of --rounds rounds. The README quotes it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

TOKEN = "bench-replicas-admin-token-0123456789"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(data: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URL"}
    env.update(REVIEWS_DATA_DIR=str(data), REVIEWS_ADMIN_TOKEN=TOKEN)
    command = [sys.executable, "-m", "reviews_service.cli", "serve", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"reviews serve did not start:\n{log.read_text()[-2000:]}")


def _until(changed: Callable[[], bool], limit: float = 10.0) -> float:
    start = time.monotonic()
    while not changed():
        if time.monotonic() - start > limit:
            return float("inf")
        time.sleep(0.005)
    return time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    first, url_a = _serve(work / "data", work / "a.log")
    second, url_b = _serve(work / "data", work / "b.log")
    summary_times: list[float] = []
    badge_times: list[float] = []
    try:
        with (
            httpx.Client(base_url=url_a, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as a,
            httpx.Client(base_url=url_b, timeout=30) as b,
        ):
            unit = a.get("/v1/admin/business-units").json()["items"][0]["slug"]
            listed = b.get(f"/v1/business-units/{unit}/reviews", params={"limit": args.rounds}).json()["items"]
            summary, badge = f"/v1/business-units/{unit}/summary", f"/widgets/{unit}/badge.svg"
            for round_, review in enumerate(listed):
                count = b.get(summary).json()["review_count"]
                old_badge = b.get(badge).content
                hide = {"status": "hidden", "reason": "bench: hidden to move the summaries"}
                a.patch(f"/v1/admin/reviews/{review['id']}", json=hide).raise_for_status()
                start = time.monotonic()
                summary_times.append(_until(lambda n=count: b.get(summary).json()["review_count"] == n - 1))
                _until(lambda old=old_badge: b.get(badge).content != old)
                badge_times.append(time.monotonic() - start)  # since the hide, like the summary's
                time.sleep(0.1 + 0.053 * round_)  # hides at different points of B's poll cycle
    finally:
        for process in (first, second):
            process.terminate()
            process.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(summary_times)} hides through process A, until process B shows them (poll interval 0.5 s)\n")
    print("| B's answer | median | worst |")
    print("|---|---:|---:|")
    for name, times in (("summary", summary_times), ("badge.svg", badge_times)):
        print(f"| {name} | {statistics.median(times) * 1000:.0f} ms | {max(times) * 1000:.0f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Export benchmark: 50,000 products' JSON-LD streamed from a real server, with its memory watched.

    python -m bench.seo [--products 50000] [--reviews 20000]

Starts `reviews serve` (embedded store) on 127.0.0.1, creates a business unit with --products
products and --reviews reviews through the admin API, then streams /seo/{bu}/export.ndjson
twice (10,000-product and full catalogue) while sampling the server's resident memory. Prints
products/s and the server's RSS before and at peak during each export: "constant memory" means
the growth does not scale with the catalogue. Everything runs on 127.0.0.1 and is bounded in time.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

TOKEN = "bench-seo-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _load(client: httpx.Client, bu: str, products: int, reviews: int) -> None:
    client.post(
        "/v1/admin/business-units", json={"slug": bu, "name": f"Bench {bu}", "display_scale": 10}, headers=AUTH
    ).raise_for_status()
    for start in range(0, products, 10_000):
        batch = [
            {"sku": f"sku-{i:06d}", "name": f"Product {i}", "brand": "Bench", "url": f"https://shop.example/p/{i}"}
            for i in range(start, min(start + 10_000, products))
        ]
        client.post(f"/v1/admin/business-units/{bu}/products", json=batch, headers=AUTH).raise_for_status()
    for start in range(0, reviews, 10_000):
        batch = [
            {
                "external_id": f"r{i}",
                "rating": 1 + i % 5,
                "title": f"Review {i}",
                "text": "Goede stoel, snel geleverd. " * 4,
                "author": "Sanne V.",
                "created_at": f"2026-{1 + i % 10:02d}-{1 + i % 27:02d}T10:00:00Z",
                "product": f"sku-{(i * 7) % products:06d}",
            }
            for i in range(start, min(start + 10_000, reviews))
        ]
        response = client.post(f"/v1/admin/business-units/{bu}/reviews", json=batch, headers=AUTH, timeout=600)
        response.raise_for_status()


def _export(client: httpx.Client, pid: int, bu: str) -> tuple[int, float, float, float, int]:
    before = _rss_mb(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines, size = 0, 0
    start = time.perf_counter()
    with client.stream("GET", f"/seo/{bu}/export.ndjson", timeout=600) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line:
                lines += 1
                size += len(line)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    return lines, elapsed, before, peak[0], size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--reviews", type=int, default=20_000)
    args = parser.parse_args(argv)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URL"}
    env.update(REVIEWS_ADMIN_TOKEN=TOKEN, REVIEWS_LOAD_DEMO="false", REVIEWS_MAX_BODY_BYTES=str(64 * 1024 * 1024))
    env.setdefault("REVIEWS_DATA_DIR", ":memory:")  # a fresh store per run, not ./data
    server = subprocess.Popen(
        [sys.executable, "-m", "reviews_service.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                print("the server did not start", file=sys.stderr)
                return 2
            small = min(10_000, args.products)
            t0 = time.perf_counter()
            _load(client, "small", small, args.reviews * small // args.products)
            _load(client, "big", args.products, args.reviews)
            load_time = time.perf_counter() - t0
            rows = []
            for bu, count in (("small", small), ("big", args.products)):
                client.get(f"/seo/{bu}/export.ndjson?reviews=0").raise_for_status()  # warm the caches
                lines, elapsed, before, peak, size = _export(client, server.pid, bu)
                assert lines == count, (lines, count)
                rows.append((bu, lines, elapsed, before, peak, size))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, embedded store")
    print(f"loaded {args.products + small:,} products and their reviews through the admin API in {load_time:.1f} s")
    print("| export            | products | time    | products/s | MB streamed | server RSS before | peak  | growth |")
    print("|-------------------|---------:|--------:|-----------:|------------:|------------------:|------:|-------:|")
    for bu, lines, elapsed, before, peak, size in rows:
        print(
            f"| {bu:<17} | {lines:>8,} | {elapsed:>6.2f}s | {lines / elapsed:>10,.0f} | {size / 1e6:>11.1f} |"
            f" {before:>14.0f} MB | {peak:>5.0f} | {peak - before:>+5.0f} |"
        )
    growth_small, growth_big = rows[0][4] - rows[0][3], rows[1][4] - rows[1][3]
    ok = growth_big <= max(2 * growth_small, 20)
    print(
        f"memory growth {growth_small:+.0f} MB for {rows[0][1]:,} products vs {growth_big:+.0f} MB for {rows[1][1]:,}:"
        f" {'constant' if ok else 'GROWS WITH THE CATALOGUE'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

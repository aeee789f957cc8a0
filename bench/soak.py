"""Soak: the widgets at 256 connections for minutes, directly and through the compose nginx, while a collector
ingests 1,000 reviews a minute and a moderator hides reviews; latency, errors, memory, and hide-to-gone times.

    python -m bench.soak [--minutes 10 | --seconds 30] [--connections 256] [--rate 2000] [--ingest-per-minute 1000]

Needs wrk and nginx (`apt-get install -y wrk nginx`); exits 2 without them. Everything runs on 127.0.0.1:

  - `reviews serve` as shipped, on the embedded store in a temporary directory (files on disk, demo shop
    loaded), with TRUSTPILOT_API_URL pointing at a fake Trustpilot served by this process;
  - nginx with deploy/nginx/reviews.conf (the compose config: its cache settings as they are; only the
    upstream, cache path and listen lines rewritten, as bench/widgets.py does), `worker_processes auto` as in
    the nginx image, in front of that `reviews serve`;
  - a collector: every --collect-every seconds new reviews appear on the fake Trustpilot, --ingest-per-minute
    in all, and the real Trustpilot collector runs at that period in a `reviews scheduler` process beside
    `reviews serve --no-scheduler` on the same data directory, as compose runs the scheduler beside the API
    (see bench/soak_load.py);
  - a moderator: every --hide-every seconds it hides one review (`PATCH /v1/admin/reviews/{id}`, status hidden,
    reason "soak test") that its product's latest-reviews data.json shows directly and through nginx, and
    times until each answer no longer shows it.

The widget requests are spread over badge.html, five products' stars.html, reviews.html, the shop's data.json and
five product pages' data.json (the ones the moderator watches). Each target first gets a warm-up with the
collector running: `wrk -t2 -c256 --timeout 5s` with bench/soak.lua, every connection busy all the time, which
shows the most it answers (saturation). Then the load runs for the duration against `reviews serve` directly,
then for the duration through nginx: 256 connections sending --rate requests a second in all, latency measured
from when each request was due (bench/soak_paced.py; wrk's closed loop at saturation measures the queue it
builds, not the widgets). Prints req/s, p50/p99, errors per target for both loads, the
RSS of the serve process (and of the scheduler) after warm-up and at the end, the hide-to-gone times against the
README's bounds, and PASS/FAIL per target. Exit status: 0 all targets met, 1 one missed, 2 wrk/nginx missing,
3 a server did not come up or an answer was not what the soak relies on.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import soak_report, soak_wrk
from bench.soak_load import Ingest, Moderator, Target
from bench.soak_setup import rss_kb, start_nginx
from bench.widgets import (
    BADGE,
    HOST,
    SKUS,
    Processes,
    SetupError,
    Started,
    _reviews_argv,
    _sigterm_as_interrupt,
    _tail,
    client,
    find_nginx,
    free_port,
    wait_until,
)
from collectors.fakes.trustpilot import FakeTrustpilot

BU = "flinders-nl"
TOKEN = "bench-soak-admin-token-0123456789"
RATE = 2000.0  # requests a second of the paced load: see the README, "Soak"
DIRECT_BOUND_S = 2.0  # README, "Caches across processes": every process's answers within 2 s at most
SHOP_DATA = f"/widgets/{BU}/data.json?skus={','.join(SKUS)}&locale=nl&reviews=5"


def product_page(sku: str) -> str:
    """The data.json of a product page: its stars and its latest reviews (what the moderator watches)."""
    return f"/widgets/{BU}/data.json?skus={sku}&product={sku}&reviews=5&locale=nl"


PATHS = [BADGE, *(f"/widgets/{BU}/products/{sku}/stars.html" for sku in SKUS),
         f"/widgets/{BU}/reviews.html?limit=5&locale=nl", SHOP_DATA, *(product_page(sku) for sku in SKUS)]  # fmt: skip


def _env(data_dir: Path, fake: FakeTrustpilot) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URL"}
    env.update(REVIEWS_ENV="development", REVIEWS_LOAD_DEMO="true", REVIEWS_DATA_DIR=str(data_dir),
               REVIEWS_ADMIN_TOKEN=TOKEN, TRUSTPILOT_API_URL=fake.url, TRUSTPILOT_API_KEY=fake.api_key,
               PYTHONUNBUFFERED="1", REVIEWS_SCHEDULER_RELOAD_SECONDS="2")  # fmt: skip
    env.pop("TRUSTPILOT_API_SECRET", None)  # the public API, as most shops use
    return env


def _scheduler_argv() -> list[str]:
    """`reviews scheduler`, as _reviews_argv starts `reviews serve`."""
    serve = _reviews_argv(0)
    return [*serve[: serve.index("serve")], "scheduler"]


def _targets(admin: httpx.Client, per_product: int) -> list[Target]:
    """Product reviews with unique titles, newer than the demo's, so each product's list shows five of them."""
    now = datetime.now(UTC).replace(microsecond=0)
    targets, records = [], []
    for n in range(per_product):
        for i, sku in enumerate(SKUS):
            number = n * len(SKUS) + i + 1
            title = f"Soak target {number:04d}"
            records.append({"source": "soak", "external_id": f"target-{number:04d}", "rating": 4, "title": title,
                            "text": "Mooi en stevig.", "author": "Soak Tester", "language": "nl", "product": sku,
                            "created_at": (now - timedelta(minutes=number)).isoformat()})  # fmt: skip
            targets.append(Target(f"{BU}:soak:target-{number:04d}", sku, title))
    answer = admin.post(f"/v1/admin/business-units/{BU}/reviews", json=records, timeout=120)
    if answer.status_code != 200 or answer.json().get("inserted") != len(records):
        raise SetupError(f"ingesting the moderator's targets answered {answer.status_code}: {answer.text[:300]}")
    return targets


def _configure_collector(admin: httpx.Client, fake: FakeTrustpilot, every: float) -> None:
    # Collected by the scheduler every `every` seconds; an overlap of 3.6 s: each run re-reads the reviews of the
    # last seconds before its high-water mark, not the last 24 hours (the default).
    source = {"domain": fake.domain, "every_minutes": every / 60, "overlap_hours": 0.001, "products": False}
    answer = admin.post("/v1/admin/business-units", json={"slug": BU, "sources": {"trustpilot": source}})
    if answer.status_code not in (200, 201):
        raise SetupError(f"configuring the Trustpilot source answered {answer.status_code}: {answer.text[:300]}")


def _max_age(response: httpx.Response) -> float:
    match = re.search(r"max-age=(\d+)", response.headers.get("cache-control", ""))
    if match is None:
        raise SetupError(f"{response.url}: no max-age in Cache-Control {response.headers.get('cache-control')!r}")
    return float(match.group(1))


def soak(args: argparse.Namespace, wrk: str, nginx: str, workdir: Path, processes: Processes) -> soak_report.Soak:
    """Set everything up, warm up, run both loads with the collector and the moderator, and gather the figures."""
    os.chmod(workdir, 0o755)  # nginx workers run as an unprivileged user when we are root
    fake = FakeTrustpilot().start()
    try:
        fake.add(2000, newest=datetime.now(UTC) - timedelta(hours=1), step=timedelta(hours=2))  # the shop's history
        port = free_port()
        print("starting reviews serve and nginx ...", file=sys.stderr)
        env = _env(workdir / "data", fake)
        serve = processes.start("reviews-serve", [*_reviews_argv(port), "--no-scheduler"], env=env)
        base = {"direct": f"http://{HOST}:{port}"}
        base["nginx"] = start_nginx(nginx, workdir, port, processes)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with client() as http, httpx.Client(base_url=base["direct"], headers=headers, timeout=30) as admin:
            wait_until(http, base["direct"] + "/health", serve, 90, "reviews serve (/health)")
            # the demo shop is loaded (serve answers): the scheduler starts on the same data directory
            scheduler = processes.start("reviews-scheduler", _scheduler_argv(), env=env)
            _configure_collector(admin, fake, args.collect_every)
            targets = _targets(admin, args.targets_per_product)
            for name in base:
                for path in PATHS:
                    wait_until(http, base[name] + path, serve, args.wait, f"{path} ({name})")
            # README, "How long a change takes through nginx": the API's 2 s plus the widget's max-age (62 s).
            watched = http.get(base["direct"] + product_page(SKUS[0]))
            bound = {"direct": DIRECT_BOUND_S, "nginx": _max_age(watched) + DIRECT_BOUND_S}
            return _run(args, wrk, processes, fake, {"serve": serve, "scheduler": scheduler}, base, targets, bound)
    finally:
        fake.stop()


def _run(args: argparse.Namespace, wrk: str, processes: Processes, fake: FakeTrustpilot, servers: dict[str, Started],
         base: dict[str, str], targets: list[Target], bound: dict[str, float]) -> soak_report.Soak:  # fmt: skip
    headers = {"Authorization": f"Bearer {TOKEN}"}
    ingest_admin = httpx.Client(base_url=base["direct"], headers=headers, timeout=60, trust_env=False)
    moderator_admin = httpx.Client(base_url=base["direct"], headers=headers, timeout=30, trust_env=False)
    per_tick = max(1, round(args.ingest_per_minute * args.collect_every / 60))
    ingest = Ingest(fake, ingest_admin, BU, per_tick=per_tick, every=args.collect_every)
    try:  # the scheduler's first run reads the shop's history (2,000 reviews); not counted in the rate
        history = ingest.first_sync(timeout=180)
    except RuntimeError as error:
        raise SetupError(f"{error}; the scheduler's log:\n{_tail(servers['scheduler'].log)}") from None
    print(f"  the scheduler's first collection stored {history:,} reviews", file=sys.stderr)
    moderator = Moderator(
        moderator_admin, targets, lambda sku: {name: url + product_page(sku) for name, url in base.items()},
        limits={name: seconds + (10 if name == "direct" else 30) for name, seconds in bound.items()},
        polls={"direct": 0.02, "nginx": 0.2}, every=args.hide_every,
    )  # fmt: skip
    result = soak_report.Soak(args=args, bound=bound, ingest=ingest, moderator=moderator)
    pids = {server: started.process.pid for server, started in servers.items()}

    def memory() -> dict[str, int]:
        return {server: rss_kb(pid) for server, pid in pids.items()}

    finished = False
    try:
        ingest.start()
        for name in base:
            print(f"  warm-up through {name}: wrk, every connection busy ({args.warmup} s) ...", file=sys.stderr)
            result.saturation[name] = soak_wrk.run(_wrk_argv(wrk, args, base[name], args.warmup), args.warmup,
                                                   processes)  # fmt: skip
        result.snapshot("after warm-up", memory())
        moderator.start()
        for name in base:
            print(f"  load through {name}: {args.rate:g} requests/s ({args.duration} s) ...", file=sys.stderr)
            paced = soak_wrk.paced_argv(base[name], PATHS, args.duration, args.rate, args.connections, args.timeout)
            result.figures[name] = soak_wrk.run(paced, args.duration, processes, name="paced")
            for server, started in servers.items():
                if started.process.poll() is not None:
                    raise SetupError(f"reviews {server} died during the {name} load; its log:\n{_tail(started.log)}")
            result.snapshot(f"after the {name} load", memory())
        print("  load done; waiting for the last hidden reviews to go ...", file=sys.stderr)
        finished = True
    finally:
        ingest.stop(wait=finished)
        moderator.stop(wait=finished)  # interrupted or failed: no waiting for the watchers
        ingest_admin.close()
        moderator_admin.close()
    return result


def _wrk_argv(wrk: str, args: argparse.Namespace, base: str, seconds: int) -> list[str]:
    return soak_wrk.argv(wrk, base, PATHS, seconds, args.connections, args.threads, args.timeout)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the soak, print the report; the exit status says whether every target held."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="load per target, in minutes (default 10)")
    length.add_argument("--seconds", type=int, help="load per target, in seconds")
    parser.add_argument(
        "--warmup", type=int, help="seconds of warm-up load per target (default: 10%% of the load, 5-60)"
    )
    parser.add_argument("--connections", type=int, default=256, help="connections of each load (default 256)")
    parser.add_argument("--rate", type=float, default=RATE, help=f"requests a second of the paced load ({RATE:g})")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", type=int, default=5, help="wrk per-request timeout in seconds (default 5)")
    parser.add_argument("--ingest-per-minute", type=int, default=1000, help="reviews collected a minute (1000)")
    parser.add_argument("--collect-every", type=float, default=6.0, help="seconds between collector runs (6)")
    parser.add_argument("--hide-every", type=float, default=5.0, help="seconds between the moderator's hides (5)")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the widgets to answer (60)")
    args = parser.parse_args(argv)
    args.duration = args.seconds if args.seconds is not None else round((args.minutes or 10) * 60)
    if args.warmup is None:
        args.warmup = min(60, max(5, args.duration // 10))
    if (
        min(args.duration, args.warmup, args.connections, args.threads, args.timeout, args.rate) < 1
        or min(args.ingest_per_minute, args.collect_every, args.hide_every) <= 0
    ):
        parser.error("durations, counts and rates must be positive")
    if args.collect_every < 3:
        parser.error("--collect-every: the scheduler collects a source every 3 s at the most often")
    hides = 2 * args.duration / args.hide_every
    args.targets_per_product = int(hides / len(SKUS)) + 10  # enough for every hide, five left on each product
    wrk, nginx = shutil.which("wrk"), find_nginx()
    if wrk is None or nginx is None:
        print("bench.soak needs wrk and nginx; install them with: apt-get install -y wrk nginx", file=sys.stderr)
        return 2
    with _sigterm_as_interrupt(), tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        processes = Processes(Path(tmp))
        started = time.monotonic()
        try:
            result = soak(args, wrk, nginx, Path(tmp), processes)
        except SetupError as error:
            print(f"bench.soak: {error}", file=sys.stderr)
            return 3
        except KeyboardInterrupt:
            print("\nbench.soak: interrupted; stopping the servers", file=sys.stderr)
            return 130
        finally:
            processes.stop_all()
        result.elapsed = time.monotonic() - started
    return soak_report.print_report(result, wrk, nginx)


if __name__ == "__main__":
    sys.exit(main())

"""Review-form and invitation benchmark: the form page under load, submissions, and a 10,000-order CSV import.

    python -m bench.forms [--duration 10] [--connections 64] [--orders 10000] [--submissions 40]

Needs wrk on PATH (`apt-get install -y wrk`); exits 2 without it. Everything runs on 127.0.0.1 against one
`reviews serve` as shipped (embedded store on files in a temporary directory, the demo shop loaded):

  a. `GET /r/{token}` of a 3-product order: `wrk -t2 -c{connections} -d{duration}s --latency`;
  b. `POST /r/{token}` of that many fresh invitations, one after the other (shop + 3 product ratings with text,
     no photo), then of a few with one 12-megapixel phone JPEG each: milliseconds per submission;
  c. a CSV of {orders} orders (2 products each) posted to `/v1/admin/business-units/{bu}/invitations/import`,
     then the same file again (every order already invited): invitations per second.

Prints the machine and a markdown table. Exit status: 0 measured, 2 wrk missing, 3 the service did not come up or
an answer was not what a buyer or a shop would get (e.g. the import rejected lines).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

from bench.widgets import (
    HOST,
    Processes,
    SetupError,
    _reviews_argv,
    _sigterm_as_interrupt,
    client,
    free_port,
    machine,
    run_wrk,
    wait_until,
)

BU = "flinders-nl"
TOKEN = "bench-forms-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PRODUCTS = ("oak-chair", "hay-about-a-chair-aac22-oak", "vitra-eames-plastic-side-chair-dsw-white")


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URL"}
    env.update(
        REVIEWS_ENV="development",
        REVIEWS_LOAD_DEMO="true",
        REVIEWS_DATA_DIR=str(data_dir),
        REVIEWS_ADMIN_TOKEN=TOKEN,
        REVIEWS_PUBLIC_POSTS_PER_MINUTE="0",  # one client posting many forms here, on purpose
        PYTHONUNBUFFERED="1",
    )
    return env


def _invite(http: httpx.Client, base: str, order_ref: str) -> str:
    order = {"business_unit": BU, "order_ref": order_ref, "email": f"{order_ref.lower()}@example.nl",
             "name": "Bench Buyer", "locale": "nl", "products": list(PRODUCTS), "send": False}  # fmt: skip
    answer = http.post(f"{base}/v1/admin/invitations", json=order, headers=ADMIN)
    if answer.status_code != 201:
        raise SetupError(f"POST /v1/admin/invitations answered {answer.status_code}: {answer.text[:300]}")
    return str(httpx.URL(answer.json()["link"]).path)


def _fields() -> dict[str, str]:
    fields = {"rating": "5", "title": "Prima winkel", "text": "Snel geleverd en goed verpakt. " * 4, "website": ""}
    for sku in PRODUCTS:
        fields |= {f"rating.{sku}": "4", f"title.{sku}": "Mooi", f"text.{sku}": "Zit fijn en ziet er goed uit."}
    return fields


def _phone_photo() -> bytes:
    noise = Image.effect_noise((4000, 3000), 40).convert("RGB")  # a 12 MP photo's size and grain
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=85)
    return out.getvalue()


def _submit(http: httpx.Client, base: str, path: str, photo: bytes | None) -> float:
    files = {f"photo.{PRODUCTS[0]}": ("IMG_0001.jpg", photo, "image/jpeg")} if photo else None
    started = time.perf_counter()
    answer = http.post(base + path, data=_fields(), files=files)
    took = (time.perf_counter() - started) * 1000
    if answer.status_code != 303:
        raise SetupError(f"POST {path[:12]}... answered {answer.status_code}: {answer.text[:300]}")
    return took


def _orders_csv(count: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    lines = ["order_ref,email,name,locale,products,ordered_at"]
    for n in range(count):
        skus = "|".join(rng.sample(PRODUCTS, 2))
        lines.append(f"BENCH-{n:06d},buyer{n}@example.nl,Buyer {n},nl,{skus},")
    return ("\n".join(lines) + "\n").encode()


def _import(http: httpx.Client, base: str, body: bytes) -> tuple[float, dict[str, object]]:
    url = f"{base}/v1/admin/business-units/{BU}/invitations/import"
    started = time.perf_counter()
    answer = http.post(url, content=body, headers={**ADMIN, "Content-Type": "text/csv"}, timeout=600)
    took = time.perf_counter() - started
    if answer.status_code != 200:
        raise SetupError(f"the import answered {answer.status_code}: {answer.text[:300]}")
    report: dict[str, object] = answer.json()
    if report.get("rejected"):
        raise SetupError(f"the import rejected lines: {str(report.get('rejections'))[:300]}")
    return took, report


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(args: argparse.Namespace, wrk: str, workdir: Path, processes: Processes) -> list[str]:
    port = free_port()
    base = f"http://{HOST}:{port}"
    print("starting reviews serve (embedded store on files, demo shop) ...", file=sys.stderr)
    serve = processes.start("reviews-serve", _reviews_argv(port), env=_env(workdir / "data"))
    rows = []
    with client() as http:
        http.timeout = httpx.Timeout(60.0)
        wait_until(http, f"{base}/health", serve, 90, "reviews serve (/health)")
        page_path = _invite(http, base, "BENCH-PAGE")
        page = wait_until(http, base + page_path, serve, 30, "the form page")
        if "<form" not in page.text:
            raise SetupError("the form page has no form")
        print(f"wrk on the form page for {args.duration} s ...", file=sys.stderr)
        result = run_wrk(wrk, args, base + page_path, {}, processes)
        rows.append(
            f"| a. `GET /r/{{token}}` (3 products), {args.connections} connections | {result.requests_per_s:,.0f} "
            f"req/s | p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms | {len(page.content):,} bytes, "
            f"{result.errors} errors |"
        )

        print(f"{args.submissions} submissions, then {args.photo_submissions} with a photo ...", file=sys.stderr)
        plain = [_submit(http, base, _invite(http, base, f"BENCH-S{n}"), None) for n in range(args.submissions)]
        photo = _phone_photo()
        with_photo = [
            _submit(http, base, _invite(http, base, f"BENCH-P{n}"), photo) for n in range(args.photo_submissions)
        ]
        rows.append(
            f"| b. `POST /r/{{token}}`, shop + 3 products, one after the other | {1000 / statistics.median(plain):,.0f}"
            f" forms/s | median {statistics.median(plain):.0f} ms, p95 {_pct(plain, 0.95):.0f} ms | "
            f"{args.submissions} forms |"
        )
        per_photo = statistics.median(with_photo)
        rows.append(
            f"| b. the same with one 12 MP JPEG ({len(photo) / 1e6:.1f} MB) | {1000 / per_photo:,.1f}"
            f" forms/s | median {statistics.median(with_photo):.0f} ms, max {max(with_photo):.0f} ms | "
            f"{args.photo_submissions} forms |"
        )

        body = _orders_csv(args.orders)
        print(f"importing {args.orders:,} orders, twice ...", file=sys.stderr)
        first, report = _import(http, base, body)
        if report.get("created") != args.orders:
            raise SetupError(f"the import created {report.get('created')} of {args.orders} invitations")
        again, report_again = _import(http, base, body)
        if report_again.get("existing") != args.orders:
            raise SetupError(f"the second import found {report_again.get('existing')} of {args.orders} existing")
        rows.append(
            f"| c. CSV of {args.orders:,} orders over HTTP | {args.orders / first:,.0f} invitations/s | "
            f"{first:.1f} s | {len(body) / 1e6:.2f} MB |"
        )
        rows.append(
            f"| c. the same file again (all existing) | {args.orders / again:,.0f} orders/s | {again:.1f} s | "
            "nothing stored twice |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk on the form page (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", type=int, default=5, help="wrk per-request timeout in seconds (default 5)")
    parser.add_argument("--orders", type=int, default=10_000, help="orders in the CSV (default 10000)")
    parser.add_argument("--submissions", type=int, default=40, help="form submissions without photos (default 40)")
    parser.add_argument("--photo-submissions", type=int, default=5, help="submissions with a photo (default 5)")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.threads, args.timeout, args.orders) < 1:
        parser.error("--duration, --connections, --threads, --timeout and --orders must be >= 1")
    if min(args.submissions, args.photo_submissions) < 1 or args.orders > 200_000:
        parser.error("--submissions and --photo-submissions must be >= 1; --orders at most 200000")
    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench.forms needs wrk on PATH; install it with: apt-get install -y wrk", file=sys.stderr)
        return 2
    with _sigterm_as_interrupt(), tempfile.TemporaryDirectory(prefix="bench-forms-") as tmp:
        processes = Processes(Path(tmp))
        try:
            rows = measure(args, wrk, Path(tmp), processes)
        except SetupError as error:
            print(f"bench.forms: {error}", file=sys.stderr)
            return 3
        except KeyboardInterrupt:
            print("\nbench.forms: interrupted; stopping the service", file=sys.stderr)
            return 130
        finally:
            processes.stop_all()
    print("## Review form and invitations benchmark\n")
    print("\n".join(line for line in machine(wrk, shutil.which("nginx") or "nginx") if "nginx" not in line))
    print("- `reviews serve` as shipped (1 uvicorn worker), embedded store on files; the client on the same cores\n")
    print("| what | rate | latency / time | notes |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

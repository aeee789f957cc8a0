"""Widget load benchmark: our widget routes against bare FastAPI, and the nginx cache against static nginx.

    python -m bench.widgets [--duration 10] [--connections 64] [--threads 2] [--timeout 5] [--rounds 1]

Needs wrk and nginx on PATH (`apt-get install -y wrk nginx`); exits 2 without them. Everything runs
on 127.0.0.1 in one go, each row with `wrk -t2 -c64 -d{duration}s --latency --timeout {timeout}s`:

  a. nginx (1 worker) serving a 2 KB static file: the ceiling of this machine;
  b. bench/bare_app.py: one FastAPI route returning the same 2 KB, under uvicorn with the service's
     settings (1 worker, httptools, uvloop, log level warning, no access log);
  c. `reviews serve` (embedded store, demo shop): badge.html, stars.html, data.json and a 304
     revalidation of badge.html (If-None-Match with its ETag);
  d. badge.html and data.json through nginx running deploy/nginx/reviews.conf (1 worker, upstream
     = the `reviews serve` of c), after a warm-up request, checked to be cache HITs.

`reviews serve` runs as shipped (uvicorn settings from reviews_service/cli.py), on the embedded store
without MONGODB_URL. Before any load, each endpoint must answer 200 (polled for up to --wait seconds)
with an ETag and a public Cache-Control, the ETag must give a 304, and the second request through
nginx must be an `X-Cache-Status: HIT`.

Prints the machine, a markdown table (req/s, p50/p99, server CPU per request, CPU used meanwhile by
other processes, bytes per answer, errors) and the two ratios of the issue's targets:
  our widget routes / bare FastAPI >= 1.5  (the slowest of the badge, stars and data.json rows)
  nginx cache / nginx static       >= 0.80 (the badge row through the cache)
Exit status: 0 both targets hold, 1 a target missed (or its rows had errors), 2 wrk/nginx missing,
3 a server did not come up or the widget endpoints did not answer 200 in time.
Every process started here is stopped at the end, also on Ctrl-C, SIGTERM or SIGHUP. On a machine
shared with other work, use --rounds 3: the rows run three times, interleaved (the two rows of each ratio
back to back), and the median counts; the ratio of each round is printed as a range beside it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from bench.bare_app import BODY

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx" / "reviews.conf"
HOST = "127.0.0.1"
BU = "flinders-nl"
# Five products of the demo shop that `reviews serve` loads into its embedded store.
SKUS = (
    "oak-chair",
    "hay-about-a-chair-aac22-oak",
    "vitra-eames-plastic-side-chair-dsw-white",
    "muuto-fiber-armchair-wood-base-grey",
    "gubi-beetle-dining-chair-upholstered-black",
)
BADGE = f"/widgets/{BU}/badge.html?locale=nl"
STARS = f"/widgets/{BU}/products/oak-chair/stars.html"
DATA = f"/widgets/{BU}/data.json?skus={','.join(SKUS)}&locale=nl&reviews=5"
WIDGET_PATHS = (BADGE, STARS, DATA)
TARGET_OURS_VS_BARE = 1.5
TARGET_CACHE_VS_STATIC = 0.80
INSTALL_HINT = "install them with: apt-get install -y wrk nginx   (Debian/Ubuntu packages)"


class SetupError(Exception):
    """A server did not start or an endpoint did not answer as expected: nothing to measure."""


# ---------------------------------------------------------------------------------------------
# Processes: each in its own session, so Ctrl-C reaches only us and we stop them in order.
# ---------------------------------------------------------------------------------------------
@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Processes:
    logdir: Path
    started: list[Started] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Started:
        log = self.logdir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=ROOT,
                start_new_session=True,
            )
        started = Started(name, process, log)
        self.started.append(started)
        return started

    def stop_all(self) -> None:
        for item in reversed(self.started):
            _stop(item.process)
        self.started.clear()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)  # the group of the session this child leads (nginx workers too)


def _stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=grace)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


# ---------------------------------------------------------------------------------------------
# Waiting for servers and checking the endpoints before any load is put on them
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def client() -> httpx.Client:
    """A client whose requests look like wrk's to the cache: no proxy, and no Accept-Encoding (the widgets
    answer with `Vary: Accept-Encoding`, so a warm-up with httpx's default `gzip, deflate` would cache a
    variant wrk never asks for, and wrk's first requests would all queue behind proxy_cache_lock)."""
    http = httpx.Client(timeout=5.0, trust_env=False)
    del http.headers["accept-encoding"]
    return http


def wait_until(http: httpx.Client, url: str, started: Started, timeout: float, what: str) -> httpx.Response:
    """Poll `url` until it answers 200; SetupError with the server's log when it never does."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        if started.process.poll() is not None:
            raise SetupError(
                f"{started.name} exited with status {started.process.returncode} before {what} answered; its log:\n"
                + _tail(started.log)
            )
        try:
            response = http.get(url)
            if response.status_code == 200:
                return response
            last = f"HTTP {response.status_code}: {response.text[:200]!r}"
        except httpx.HTTPError as error:
            last = f"{type(error).__name__}: {error}"
        if time.monotonic() >= deadline:
            raise SetupError(
                f"{what} did not answer 200 within {timeout:.0f} s ({url}: {last}); log of {started.name}:\n"
                + _tail(started.log)
            )
        time.sleep(0.25)


def check_widget(response: httpx.Response) -> str:
    """The widget contract the benchmark relies on; returns the ETag."""
    etag = str(response.headers.get("etag", ""))
    cache_control = str(response.headers.get("cache-control", ""))
    if not etag:
        raise SetupError(f"{response.url}: no ETag header")
    if "max-age" not in cache_control or "public" not in cache_control:
        raise SetupError(f"{response.url}: Cache-Control is {cache_control!r}, expected public with a max-age")
    return etag


# ---------------------------------------------------------------------------------------------
# wrk: run and parse
# ---------------------------------------------------------------------------------------------
_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    bytes_per_request: float
    non_2xx_3xx: int
    socket_errors: dict[str, int]

    @property
    def errors(self) -> int:
        return self.non_2xx_3xx + sum(self.socket_errors.values())

    def describe_errors(self) -> str:
        parts = [f"{self.non_2xx_3xx} non-2xx/3xx"] if self.non_2xx_3xx else []
        parts += [f"{count} socket {kind}" for kind, count in self.socket_errors.items() if count]
        return ", ".join(parts)


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _TIME_UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """The figures of one `wrk --latency` report; ValueError when it is not one."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB|TB) read", output, re.MULTILINE)
    if not (rps and p50 and p99 and total):
        raise ValueError("unexpected wrk output:\n" + output)
    non_ok = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    requests = int(total.group(1))
    read = float(total.group(2)) * _SIZE_UNITS[total.group(3)]
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        p50_ms=_duration_ms(p50.group(1)),
        p99_ms=_duration_ms(p99.group(1)),
        requests=requests,
        bytes_per_request=read / requests if requests else 0.0,
        non_2xx_3xx=int(non_ok.group(1)) if non_ok else 0,
        socket_errors=dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True))
        if sockets
        else {},
    )


@dataclass
class Run:
    wrk: WrkResult
    server_cpu_us: float  # user + system CPU of the row's servers per request
    other_load: float  # CPU used meanwhile by anything but those servers and wrk, % of all cores


@dataclass
class Row:
    key: str
    what: str
    server: str
    url: str
    servers: tuple[Started, ...]  # whose CPU time the requests of this row cost
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""
    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> Run | None:
        """The run with the median req/s (the lower middle one for an even count)."""
        if not self.runs:
            return None
        ordered = sorted(self.runs, key=lambda run: run.wrk.requests_per_s)
        return ordered[(len(ordered) - 1) // 2]

    @property
    def result(self) -> WrkResult | None:
        return self.median.wrk if self.median else None

    @property
    def errors(self) -> str:
        non_ok = sum(run.wrk.non_2xx_3xx for run in self.runs)
        sockets: dict[str, int] = {}
        for run in self.runs:
            for kind, count in run.wrk.socket_errors.items():
                sockets[kind] = sockets.get(kind, 0) + count
        return WrkResult(0, 0, 0, 0, 0, non_ok, sockets).describe_errors()


def cpu_seconds(started: Started) -> float:
    """User + system CPU time of every live process in the group `started` leads (nginx: master and workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile
        # After the ")" ending the command name: state ppid pgrp ... utime (11th) stime (12th).
        if int(fields[2]) == started.process.pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_stack(started: Started) -> str:
    """Which event loop and HTTP parser a uvicorn process runs, from the libraries mapped into it
    (with uvicorn's `auto`, uvloop and httptools are imported only when they are used)."""
    try:
        maps = Path(f"/proc/{started.process.pid}/maps").read_text()
    except OSError:
        return "unknown"
    loop = "uvloop" if "/uvloop/" in maps else "asyncio"
    parser = "httptools" if "/httptools/" in maps else "h11"
    return f"{loop} + {parser}"


def machine_cpu_seconds() -> float:
    """User + nice + system CPU time of the whole machine (/proc/stat), all cores together."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return sum(int(value) for value in fields[1:4]) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of the reaped children of this process (wrk, once it has been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(wrk: str, args: argparse.Namespace, url: str, headers: dict[str, str], processes: Processes) -> WrkResult:
    argv = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    argv += [f"--timeout={args.timeout}s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    started = processes.start("wrk", [*argv, url])
    try:
        started.process.wait(timeout=args.duration + args.timeout + 30)
    except subprocess.TimeoutExpired:
        raise SetupError(f"wrk did not finish in time: {' '.join(argv)} {url}") from None
    finally:
        _stop(started.process)
        processes.started.remove(started)
    output = started.log.read_text(encoding="utf-8", errors="replace")
    if started.process.returncode != 0:
        raise SetupError(f"wrk exited with {started.process.returncode} on {url}:\n{output}")
    try:
        return parse_wrk(output)
    except ValueError as error:
        raise SetupError(str(error)) from None


# ---------------------------------------------------------------------------------------------
# nginx configuration: one master, one worker, the static server and a copy of reviews.conf
# ---------------------------------------------------------------------------------------------
def local_reviews_conf(conf: str, upstream: str, cache_dir: Path, listen: str) -> str:
    """deploy/nginx/reviews.conf with its upstream server, cache path and listen address replaced."""
    for pattern, replacement in (
        (r"^(\s*)server\s+api:8000;", rf"\g<1>server {upstream};"),
        (r"^proxy_cache_path\s+\S+", f"proxy_cache_path {cache_dir}"),
        (r"^(\s*)listen\s+80;", rf"\g<1>listen {listen};"),
    ):
        conf, count = re.subn(pattern, replacement, conf, flags=re.MULTILINE)
        if count != 1:
            raise SetupError(f"{NGINX_CONF}: {pattern!r} matched {count} times; the bench rewrites exactly one line")
    return conf


def nginx_main_conf(workdir: Path, static_port: int, reviews_conf: Path) -> str:
    """One master, one worker. The http block is that of the nginx:alpine image's nginx.conf (which
    compose runs reviews.conf in) without the access log; the static server is nginx at its fastest
    for a small file: descriptor cache, pread + one writev (sendfile off, as in reviews.conf)."""
    return f"""daemon off;
master_process on;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    keepalive_timeout 65;
    server {{
        listen {HOST}:{static_port};
        root {workdir}/static;
        default_type text/html;
        sendfile off;
        open_file_cache max=10000 inactive=60s;
        open_file_cache_valid 30s;
        location / {{ }}
    }}
    include {reviews_conf};
}}
"""


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------
def _command_version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unknown ({error})"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def machine(wrk: str, nginx: str) -> list[str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import fastapi
    import uvicorn

    return [
        f"- CPU: {model}, {os.cpu_count()} cores ({usable} usable by this process); "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, uvicorn {uvicorn.__version__}, FastAPI {fastapi.__version__}",
        f"- {_command_version([nginx, '-v'])}",
        f"- {_command_version([wrk, '--version'])}",
        "- wrk and the servers share this machine's cores",
    ]


def table(rows: list[Row], rounds: int) -> list[str]:
    spread = rounds > 1
    lines = [
        "| row | what | served by | req/s |"
        + (f" req/s range ({rounds} runs) |" if spread else "")
        + " p50 ms | p99 ms | server CPU µs/req | other load | bytes/resp | errors |",
        "|---|---|---|---:|" + ("---:|" if spread else "") + "---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        median = row.median
        if median is None:
            lines.append(
                f"| {row.key} | {row.what} | {row.server} | - |{' - |' if spread else ''} - | - | - | - | - | - |"
            )
            continue
        r = median.wrk
        errors = f"**{row.errors}**" if row.errors else "0"
        if row.note:
            errors += f" **({row.note})**"
        low, high = min(x.wrk.requests_per_s for x in row.runs), max(x.wrk.requests_per_s for x in row.runs)
        lines.append(
            f"| {row.key} | {row.what} | {row.server} | {r.requests_per_s:,.0f} |"
            + (f" {low:,.0f}–{high:,.0f} |" if spread else "")
            + f" {r.p50_ms:.2f} | {r.p99_ms:.2f} | {median.server_cpu_us:.1f} | {median.other_load:.0f}%"
            + f" | {r.bytes_per_request:,.0f} | {errors} |"
        )
    return lines


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------
def _service_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URL"}  # the embedded store, with the demo shop
    env.update(REVIEWS_ENV="development", REVIEWS_LOAD_DEMO="true", PYTHONUNBUFFERED="1")
    env.setdefault("REVIEWS_DATA_DIR", ":memory:")  # a fresh store with the demo shop per run, not ./data
    return env


def _reviews_argv(port: int) -> list[str]:
    script = Path(sys.executable).with_name("reviews")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "reviews_service.cli"]
    return [*command, "serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]


def measure(
    args: argparse.Namespace, wrk: str, nginx: str, workdir: Path, processes: Processes
) -> tuple[list[Row], list[str]]:
    ports = {name: free_port() for name in ("static", "bare", "ours", "cache")}
    base = {name: f"http://{HOST}:{port}" for name, port in ports.items()}

    (workdir / "static").mkdir()
    (workdir / "static" / "badge.html").write_bytes(BODY)
    os.chmod(workdir, 0o755)  # nginx workers run as an unprivileged user when we are root
    reviews_conf = workdir / "reviews.conf"
    reviews_conf.write_text(
        local_reviews_conf(
            NGINX_CONF.read_text(encoding="utf-8"),
            f"{HOST}:{ports['ours']}",
            workdir / "cache",
            f"{HOST}:{ports['cache']}",
        ),
        encoding="utf-8",
    )
    main_conf = workdir / "nginx.conf"
    main_conf.write_text(nginx_main_conf(workdir, ports["static"], reviews_conf), encoding="utf-8")
    nginx_argv = [nginx, "-p", f"{workdir}/", "-e", str(workdir / "nginx-error.log"), "-c", str(main_conf)]
    checked = subprocess.run([*nginx_argv, "-t"], capture_output=True, text=True, timeout=30)
    if checked.returncode != 0:
        raise SetupError(f"nginx -t refused the configuration:\n{checked.stdout}{checked.stderr}")

    print("starting reviews serve, the bare FastAPI app and nginx ...", file=sys.stderr)
    ours = processes.start("reviews-serve", _reviews_argv(ports["ours"]), env=_service_env())
    uvicorn_flags = ["--workers", "1", "--http", "httptools", "--loop", "uvloop", "--log-level", "warning"]
    bare_argv = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--host", HOST, "--port", str(ports["bare"])]
    bare = processes.start("bare-fastapi", [*bare_argv, *uvicorn_flags, "--no-access-log"])
    web = processes.start("nginx", nginx_argv)

    with client() as http:
        static_body = wait_until(http, f"{base['static']}/badge.html", web, 20, "nginx").content
        bare_body = wait_until(http, f"{base['bare']}/badge.html", bare, 30, "the bare FastAPI app").content
        if static_body != BODY or bare_body != BODY:
            raise SetupError("nginx and the bare app do not serve the same 2 KB body")
        wait_until(http, f"{base['ours']}/health", ours, 60, "reviews serve (/health)")
        etags = {}
        for path in WIDGET_PATHS:
            response = wait_until(http, base["ours"] + path, ours, args.wait, f"the widget endpoint {path}")
            etags[path] = check_widget(response)
        revalidated = http.get(base["ours"] + BADGE, headers={"If-None-Match": etags[BADGE]})
        if revalidated.status_code != 304:
            raise SetupError(f"{BADGE} with If-None-Match: {etags[BADGE]} answered {revalidated.status_code}, not 304")
        cache_notes = {}
        for path in (BADGE, DATA):
            wait_until(http, base["cache"] + path, web, 20, f"{path} through the nginx cache")  # warm-up (MISS)
            status = http.get(base["cache"] + path).headers.get("x-cache-status", "absent")
            cache_notes[path] = "" if status == "HIT" else f"not a cache hit: X-Cache-Status {status}"
        for url in (f"{base['bare']}/badge.html", *(base["ours"] + p for p in WIDGET_PATHS)):
            for _ in range(50):  # warm the code paths and caches before the clock runs
                http.get(url)

    stacks = [
        f"- reviews serve runs on {server_stack(ours)}; the bare FastAPI app on {server_stack(bare)}",
        f"- data.json asks for {len(SKUS)} skus: {', '.join(SKUS)}",
    ]
    cached = "nginx cache → reviews serve"
    rows = [
        Row("a", "2 KB static file", "nginx, 1 worker", f"{base['static']}/badge.html", (web,)),
        Row("b", "constant 2 KB, bare FastAPI route", "uvicorn, 1 worker", f"{base['bare']}/badge.html", (bare,)),
        Row("c1", f"badge.html ({BU}, nl)", "reviews serve", base["ours"] + BADGE, (ours,)),
        Row("c2", "products/oak-chair/stars.html", "reviews serve", base["ours"] + STARS, (ours,)),
        Row("c3", "data.json (5 skus, nl, 5 reviews)", "reviews serve", base["ours"] + DATA, (ours,)),
        Row(
            "c4",
            "badge.html If-None-Match → 304",
            "reviews serve",
            base["ours"] + BADGE,
            (ours,),
            headers={"If-None-Match": etags[BADGE]},
        ),
        Row("d1", "badge.html", cached, base["cache"] + BADGE, (web, ours), note=cache_notes[BADGE]),
        Row("d2", "data.json", cached, base["cache"] + DATA, (web, ours), note=cache_notes[DATA]),
    ]
    # Each ratio's rows run back to back (a, d1, d2, then b, c1-c4), so both sides of a ratio meet the same
    # machine; the table keeps the order above.
    by_key = {row.key: row for row in rows}
    run_order = [by_key[key] for key in ("a", "d1", "d2", "b", "c1", "c2", "c3", "c4")]
    for round_number in range(1, args.rounds + 1):
        for row in run_order:
            of_rounds = f", round {round_number}/{args.rounds}" if args.rounds > 1 else ""
            print(f"  {row.key}: {row.what} via {row.server} ({args.duration} s{of_rounds}) ...", file=sys.stderr)
            before = (sum(cpu_seconds(s) for s in row.servers), children_cpu_seconds(), machine_cpu_seconds())
            start = time.monotonic()
            result = run_wrk(wrk, args, row.url, row.headers, processes)
            elapsed = time.monotonic() - start
            servers = sum(cpu_seconds(s) for s in row.servers) - before[0]
            other = machine_cpu_seconds() - before[2] - servers - (children_cpu_seconds() - before[1])
            row.runs.append(
                Run(
                    wrk=result,
                    server_cpu_us=servers * 1e6 / result.requests if result.requests else 0.0,
                    other_load=max(other, 0.0) * 100 / (elapsed * (os.cpu_count() or 1)),
                )
            )
            for started in (ours, bare, web):
                if started.process.poll() is not None:
                    raise SetupError(f"{started.name} died during the run; its log:\n{_tail(started.log)}")
            time.sleep(1)
    return rows, stacks


def verdict(rows: list[Row]) -> tuple[list[str], list[str]]:
    """(lines describing the two ratios, the failures)."""
    by_key = {row.key: row for row in rows}
    lines, failures = [], []

    def rps(key: str) -> float:
        result = by_key[key].result
        return result.requests_per_s if result else 0.0

    def per_round(top: str, bottom: str) -> str:
        """The ratio within each round (its two rows ran back to back), as a range: how steady the verdict is."""
        pairs = zip(by_key[top].runs, by_key[bottom].runs, strict=False)
        ratios = [t.wrk.requests_per_s / b.wrk.requests_per_s for t, b in pairs if b.wrk.requests_per_s]
        return f"; round by round {min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else ""

    def unreliable(keys: tuple[str, ...]) -> list[str]:
        out = []
        for key in keys:
            row = by_key[key]
            problems = [row.errors] if row.runs else ["not measured"]
            problems.append(row.note)
            if not row.runs or row.errors or row.note:
                out.append(f"row {key}: " + ", ".join(p for p in problems if p))
        return out

    ours_keys = ("c1", "c2", "c3")
    slowest = min(ours_keys, key=rps)
    ratio = rps(slowest) / rps("b") if rps("b") else 0.0
    lines.append(
        f"- our widget routes / bare FastAPI = {ratio:.2f}  (slowest of c1-c3 is {slowest}: {rps(slowest):,.0f} "
        f"vs {rps('b'):,.0f} req/s; target >= {TARGET_OURS_VS_BARE}){per_round(slowest, 'b')}"
    )
    bad = unreliable(("b", *ours_keys))
    if ratio < TARGET_OURS_VS_BARE:
        failures.append(f"our widget routes / bare FastAPI is {ratio:.2f}, below the target {TARGET_OURS_VS_BARE}")
    if bad:
        failures.append("our widget routes / bare FastAPI is not reliable: " + "; ".join(bad))

    ratio = rps("d1") / rps("a") if rps("a") else 0.0
    lines.append(
        f"- nginx cache / nginx static = {ratio:.2f}  (d1 {rps('d1'):,.0f} vs a {rps('a'):,.0f} req/s; "
        f"target >= {TARGET_CACHE_VS_STATIC:.2f}){per_round('d1', 'a')}"
    )
    bad = unreliable(("a", "d1"))
    if ratio < TARGET_CACHE_VS_STATIC:
        failures.append(f"nginx cache / nginx static is {ratio:.2f}, below the target {TARGET_CACHE_VS_STATIC:.2f}")
    if bad:
        failures.append("nginx cache / nginx static is not reliable: " + "; ".join(bad))
    return lines, failures


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    # SIGHUP only when not ignored (nohup): then the run is meant to survive the terminal.
    signals = [signal.SIGTERM] + [signal.SIGHUP] * (signal.getsignal(signal.SIGHUP) != signal.SIG_IGN)
    previous = {sig: signal.signal(sig, _raise_on_sigterm) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", type=int, default=5, help="wrk per-request timeout in seconds (default 5)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs per row, interleaved; the median req/s run is shown (default 1)"
    )
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the widget endpoints (default 60)")
    args = parser.parse_args(argv)
    if (
        min(args.duration, args.connections, args.threads, args.timeout, args.rounds) < 1
        or args.connections < args.threads
    ):
        parser.error("--duration, --connections, --threads, --timeout, --rounds must be >= 1; connections >= threads")

    wrk, nginx = shutil.which("wrk"), find_nginx()
    missing = [name for name, path in (("wrk", wrk), ("nginx", nginx)) if path is None]
    if missing or wrk is None or nginx is None:
        print(f"bench.widgets needs {' and '.join(missing)} on PATH; {INSTALL_HINT}", file=sys.stderr)
        return 2

    with _sigterm_as_interrupt(), tempfile.TemporaryDirectory(prefix="bench-widgets-") as tmp:
        processes = Processes(Path(tmp))
        try:
            rows, stacks = measure(args, wrk, nginx, Path(tmp), processes)
        except SetupError as error:
            print(f"bench.widgets: {error}", file=sys.stderr)
            return 3
        except KeyboardInterrupt:
            print("\nbench.widgets: interrupted; stopping the servers", file=sys.stderr)
            return 130
        finally:
            processes.stop_all()

    print("## Widget load benchmark\n")
    print("\n".join(machine(wrk, nginx) + stacks))
    print(
        f"\nEach row: `wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency "
        f"--timeout={args.timeout}s` on 127.0.0.1"
        + (f"; {args.rounds} rounds, interleaved, the run with the median req/s shown" if args.rounds > 1 else "")
        + ".\n"
    )
    print(
        "Server CPU: user + system time of the row's serving processes (nginx and/or uvicorn) per request, steadier"
        " than req/s\nwhen other load shares the machine. Other load: CPU used during the run by processes other than"
        " those servers\nand wrk, in % of all cores; above a few % the req/s of that row is depressed by other work.\n"
    )
    print("\n".join(table(rows, args.rounds)))
    busy = [f"{row.key} ({row.median.other_load:.0f}%)" for row in rows if row.median and row.median.other_load > 10]
    if busy:
        print(
            f"\nWARNING: other processes used CPU during rows {', '.join(busy)}: their req/s and the ratios built on"
            " them are depressed; rerun on a quiet machine, or with --rounds 3."
        )
    lines, failures = verdict(rows)
    print("\nTargets:")
    print("\n".join(lines))
    if failures:
        print("\nFAILED:\n" + "\n".join(f"- {failure}" for failure in failures))
        return 1
    print("\nBoth targets hold.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hostile requests, before and after their budgets: seconds, extra memory and the answer.

    python -m bench.hostile                       # this tree
    python -m bench.hostile --before 8dbd998      # and the code of a git revision, side by side

Validator pages (POST /seo/validate's work, `validate_html`) each run in a child process with a
wall-clock timeout and an address-space limit, so a page that explodes is cut off, not the bench:
"extra MB" is the child's peak RSS over its RSS after the imports. Uploads start a real
`reviews serve` on 127.0.0.1 and stream a chunked body (no Content-Length) over a raw socket until
the server answers or --upload-mb are sent; "extra MB" is the server's peak RSS growth meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.seo import _free_port, _rss_mb

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-hostile-admin-token-0123456789"
PACKAGES = ("reviews_service", "seo", "widgets", "collectors", "sentiment")


def rdfa_mutual(levels: int = 20) -> str:
    """~2.7 KB of RDFa: each node points at the next one twice, the last back at the first (2**levels paths)."""
    nodes = "".join(
        f'<div resource="#n{i}" typeof="Product"><b property="name">{i}</b>'
        f'<a property="isRelatedTo" href="#n{(i + 1) % levels}"></a>'
        f'<a property="isSimilarTo" href="#n{(i + 1) % levels}"></a></div>'
        for i in range(levels)
    )
    return f'<html><body vocab="https://schema.org/">{nodes}</body></html>'


def microdata_itemref(items: int = 300) -> str:
    """18 KB of microdata: every item itemrefs one element with `items` properties (items**2 copies)."""
    props = "".join(f'<i itemprop="p{i}">v</i>' for i in range(items))
    refs = '<div itemscope itemtype="https://schema.org/Thing" itemref="a"></div>' * items
    return f'<html><body><div id="a">{props}</div>{refs}</body></html>'


def microdata_deep(levels: int = 80, text: int = 2_000_000) -> str:
    """Properties nested `levels` deep around `text` characters: every level's value is all the text below it."""
    open_tags = '<span itemprop="x">' * levels
    return f"<html><body><div itemscope>{open_tags}{'x' * text}{'</span>' * levels}</div></body></html>"


def rdfa_many(nodes: int = 2_500) -> str:
    """Many small RDFa Products (under the caps: the honest worst case)."""
    body = "".join(f'<div typeof="Product"><span property="name">p{i}</span></div>' for i in range(nodes // 2))
    return f'<html><body vocab="https://schema.org/">{body}</body></html>'


def plain_page(elements: int = 58_000) -> str:
    """A big page with one RDFa item and tens of thousands of ordinary elements (pyRdfa walks them all)."""
    filler = '<div class="c"><a href="/x">link</a></div>' * (elements // 2)
    product = '<div typeof="Product"><b property="name">x</b></div>'
    return f'<html><body vocab="https://schema.org/">{product}{filler}</body></html>'


def tag_flood(size: int = 5_000_000) -> str:
    """5 MB of '<p>': 1.7 million elements for lxml to build."""
    return "<p>" * (size // 3)


PAGES: dict[str, Callable[[], str]] = {
    "rdfa-mutual": rdfa_mutual,
    "microdata-itemref": microdata_itemref,
    "microdata-deep": microdata_deep,
    "rdfa-many": rdfa_many,
    "plain-58k-elements": plain_page,
    "tag-flood-5mb": tag_flood,
}

CHILD = """
import json, resource, sys, time
from reviews_service.errors import InvalidInput
from seo.validate import validate_html
html = open(sys.argv[1], encoding="utf-8").read()
print(json.dumps({"ready": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
start, cpu = time.perf_counter(), time.process_time()
try:
    report = validate_html(html)
    status = f"200, {len(json.dumps(report)):,} chars"
except InvalidInput as exc:
    status = f"{exc.status}"
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak": peak, "status": status}), flush=True)
"""


def _limit_memory(mb: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mb * 1024 * 1024, mb * 1024 * 1024))

    return apply


def run_page(root: Path, html: str, timeout: float, memory_mb: int) -> tuple[str, str, str]:
    """(seconds, extra MB, status) of validate_html(html) in the code at `root`, cut off at the limits."""
    with tempfile.NamedTemporaryFile("w", suffix=".html", encoding="utf-8") as page:
        page.write(html)
        page.flush()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, page.name],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_limit_memory(memory_mb),
        )
        assert child.stdout is not None
        ready = json.loads(child.stdout.readline() or '{"ready": 0}')["ready"]
        start, peak = time.monotonic(), ready
        while child.poll() is None and time.monotonic() - start < timeout:
            peak = max(peak, _rss_mb(child.pid))  # sampled: a child that is killed cannot report its own
            time.sleep(0.05)
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=30)
            return f"> {timeout:.0f}", f"> {peak - ready:.0f}", "no answer (killed)"
        out, err = child.communicate(timeout=30)
    if child.returncode != 0:
        last = (err.strip().splitlines() or ["?"])[-1]
        return "?", f"> {peak - ready:.0f}", f"crashed: {last[:40]}"
    result = json.loads(out.strip().splitlines()[-1])
    extra = max(result["peak"], peak) - ready
    return f"{result['seconds']:.2f} ({result['cpu']:.2f} cpu)", f"{extra:.0f}", result["status"]


def send_chunked(port: int, path: str, headers: dict[str, str], total: int, timeout: float = 30) -> tuple[int, int]:
    """Stream a chunked body of up to `total` bytes, stopping when the server answers: (status, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    piece = b"x" * 65536
    frame = b"%x\r\n" % len(piece) + piece + b"\r\n"
    sent = 0
    deadline = time.monotonic() + timeout
    try:
        sock.sendall(head.encode())
        while sent < total and time.monotonic() < deadline:
            if select.select([sock], [], [], 0)[0]:
                break  # an answer (or a close) before the body is done
            sock.sendall(frame)
            sent += len(piece)
        else:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server closed its side: read what it said
    answer = b""
    try:
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    except OSError:
        pass
    finally:
        sock.close()
    parts = answer.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), sent


class Server:
    """`reviews serve` from the code at `root` on a free 127.0.0.1 port (embedded store, no demo)."""

    def __init__(self, root: Path, **env: str) -> None:
        self.port = _free_port()
        environ = {k: v for k, v in os.environ.items() if k != "MONGODB_URL"}
        environ.update({"PYTHONPATH": str(root), "REVIEWS_ADMIN_TOKEN": TOKEN, "REVIEWS_LOAD_DEMO": "false", **env})
        environ.setdefault("REVIEWS_DATA_DIR", ":memory:")  # a fresh store per run, not ./data
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reviews_service.cli", "serve", "--port", str(self.port), "--log-level", "warning"],
            cwd=root,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("reviews serve did not start")

    def upload(self, path: str, headers: dict[str, str], total: int) -> tuple[float, float, int, int]:
        """(seconds to the answer, peak RSS growth in MB, status, bytes sent) of one chunked upload."""
        before = _rss_mb(self.proc.pid)
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_mb(self.proc.pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        status, sent = send_chunked(self.port, path, headers, total)
        seconds = time.perf_counter() - start
        time.sleep(0.2)  # the server may still be holding what it read
        done.set()
        sampler.join(timeout=5)
        return seconds, peak[0] - before, status, sent

    def stop(self) -> None:
        """Terminate the server (killed if it does not stop in time)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


UPLOADS = (
    ("admin JSON, no token", "/v1/admin/business-units", {"Content-Type": "application/json"}),
    (
        "admin JSON, token",
        "/v1/admin/business-units",
        {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    ),
    ("import CSV, no token", "/v1/admin/business-units/x/imports", {"Content-Type": "text/csv"}),
    ("public validate", "/seo/validate", {"Content-Type": "text/html"}),
)


def _source(revision: str, into: Path) -> Path:
    """The project's packages as of a git revision, unpacked under `into`."""
    archive = subprocess.run(["git", "archive", revision, *PACKAGES], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> None:
    """Print the table for this tree, and for --before REV if given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", help="a git revision to measure as well (the code before the budgets)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a validator child may run")
    parser.add_argument("--memory-mb", type=int, default=3072, help="address space a validator child may use")
    parser.add_argument("--upload-mb", type=int, default=400, help="chunked body size to stream")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("after", ROOT)]
        if args.before:
            trees.insert(0, ("before", _source(args.before, Path(tmp))))
        print(f"{'case':<28} {'code':<7} {'seconds':>18} {'extra MB':>9}  status")
        for name, build in PAGES.items():
            html = build()
            for label, root in trees:
                seconds, extra, status = run_page(root, html, args.timeout, args.memory_mb)
                print(f"{name + f' ({len(html) // 1024:,} KB)':<28} {label:<7} {seconds:>18} {extra:>9}  {status}")
        for label, root in trees:
            server = Server(root)
            try:
                for name, path, headers in UPLOADS:
                    seconds, extra, status, sent = server.upload(path, headers, args.upload_mb * 1024 * 1024)
                    case, mb = f"upload: {name}", sent / 2**20
                    print(f"{case:<28} {label:<7} {seconds:>18.2f} {extra:>9.0f}  {status} after {mb:,.0f} MB sent")
            finally:
                server.stop()


if __name__ == "__main__":
    main()

"""A paced load for the soak: `--connections` keep-alive connections that together send `--rate` requests a
second, each connection on its own fixed schedule, and every latency measured from when its request was due.

    python -m bench.soak_paced --url http://127.0.0.1:PORT --rate 2000 --connections 256 --seconds 600 -- /a /b

wrk keeps every connection busy (the next request leaves when the last answer arrives), so against a server
slower than wrk its latencies only say how deep the queue was: 256 connections answered at 5,000 a second wait
51 ms on average, however fast each answer is made. A paced load asks a set rate, as visitors do, and shows what a
request costs at that rate. Measuring from the due time, not from the send, is wrk2's correction for coordinated
omission: a request that could not leave on time because its connection still waited for a slow answer counts
the wait too, so a stall of the server shows in every request it delayed. Debian packages wrk, not wrk2.

Each connection sends `rate / connections` requests a second at evenly spaced due times (the connections' phases
spread over one interval), the paths in turn (each connection starting at a different one); a late answer makes
the next requests leave at once until the connection is back on schedule. An answer must come within --timeout
seconds of its send, or it counts as a timeout and the connection is opened again.

Prints one `SOAK key=value ...` line with the fields of bench/soak.lua's (bench/soak_wrk.py parses it), plus
`lag_p99_us`/`lag_max_us`: how late this generator sent requests whose connection was free (its own delay; when
it is large the generator, not the server, was the limit) and `offered`, the requests due in the run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from array import array
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import uvloop  # uvicorn[standard] brings it


@dataclass
class Tally:
    """What all connections measured."""

    latencies_us: array[int] = field(default_factory=lambda: array("q"))
    lags_us: array[int] = field(default_factory=lambda: array("q"))
    offered: int = 0
    bytes: int = 0
    status: int = 0  # answers with a status >= 400
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("connect", "read", "write", "timeout"), 0))


class Closed(Exception):
    """The server closed the connection (or sent what is not HTTP/1.1): open it again."""


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """One HTTP/1.1 answer: (status, bytes read, whether the server keeps the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise Closed(f"not an HTTP answer: {lines[0][:80]!r}")
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    size = len(head)
    if headers.get(b"transfer-encoding") == b"chunked":
        while True:
            chunk = await reader.readuntil(b"\r\n")
            length = int(chunk.split(b";")[0], 16)
            size += len(chunk) + length + 2
            await reader.readexactly(length + 2)
            if length == 0:
                break
    else:
        length = int(headers.get(b"content-length", b"0"))
        await reader.readexactly(length)
        size += length
    return status, size, headers.get(b"connection") != b"close"


async def connection(host: str, port: int, requests: list[bytes], first: int, interval: float, start: float,
                     end: float, timeout: float, tally: Tally) -> None:  # fmt: skip
    """One connection's schedule: a request every `interval` seconds from `start` until `end`."""
    loop = asyncio.get_running_loop()
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:  # opened before the schedule starts, as wrk opens its connections before it measures
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        tally.errors["connect"] += 1
    await asyncio.sleep(max(0.0, start - loop.time()))
    due, turn, free_since = start, first, start
    while due < end:
        now = loop.time()
        if due > now:
            await asyncio.sleep(due - now)
        tally.offered += 1
        request = requests[turn % len(requests)]
        turn += 1
        try:
            if writer is None:
                try:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
                except (OSError, TimeoutError):
                    tally.errors["connect"] += 1
                    due += interval
                    continue
            assert reader is not None and writer is not None
            sent = loop.time()
            if free_since <= due:  # the connection was free at the due time: any delay is this generator's
                tally.lags_us.append(int((sent - due) * 1e6))
            writer.write(request)
            async with asyncio.timeout(timeout):  # no task per request, as wait_for makes on Python 3.11
                status, size, keep = await read_answer(reader)
        except TimeoutError:
            tally.errors["timeout"] += 1
            keep = False
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, Closed, ValueError):
            tally.errors["read"] += 1
            keep = False
        else:
            done = loop.time()
            tally.latencies_us.append(int((done - due) * 1e6))
            tally.bytes += size
            tally.status += status >= 400
        free_since = loop.time()
        if not keep and writer is not None:
            writer.close()
            reader = writer = None
        due += interval
    if writer is not None:
        writer.close()


def percentile(ordered: array[int], share: float) -> int:
    """The nearest-rank percentile of sorted values (0 for none)."""
    if not ordered:
        return 0
    return ordered[min(len(ordered) - 1, max(0, int(share * len(ordered) + 0.999999) - 1))]


def soak_line(tally: Tally, seconds: float) -> str:
    """The `SOAK ...` line bench/soak_wrk.parse reads."""
    latencies = array("q", sorted(tally.latencies_us))
    lags = array("q", sorted(tally.lags_us))
    mean = sum(latencies) / len(latencies) if latencies else 0.0
    e = tally.errors
    return (
        f"SOAK requests={len(latencies)} duration_us={int(seconds * 1e6)} bytes={tally.bytes}"
        f" connect={e['connect']} read={e['read']} write={e['write']} timeout={e['timeout']} status={tally.status}"
        f" p50_us={percentile(latencies, 0.50)} p90_us={percentile(latencies, 0.90)}"
        f" p99_us={percentile(latencies, 0.99)} p999_us={percentile(latencies, 0.999)}"
        f" max_us={latencies[-1] if latencies else 0} mean_us={mean:.1f}"
        f" offered={tally.offered} lag_p99_us={percentile(lags, 0.99)} lag_max_us={lags[-1] if lags else 0}"
    )


async def run(url: str, paths: list[str], rate: float, connections: int, seconds: float, timeout: float) -> str:
    """The whole paced load; its SOAK line."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode() for path in paths]
    interval = connections / rate
    loop = asyncio.get_running_loop()
    start = loop.time() + 2.0  # time to open every connection before the first request is due
    end = start + seconds
    tally = Tally()
    phases = random.Random(13)
    tasks = [
        asyncio.create_task(connection(host, port, requests, (i * 7) % len(requests), interval,
                                       start + phases.uniform(0, interval), end, timeout, tally))
        for i in range(connections)
    ]  # fmt: skip
    await asyncio.gather(*tasks)
    return soak_line(tally, loop.time() - start)


def main(argv: list[str] | None = None) -> int:
    """Run the paced load and print its SOAK line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000 (127.0.0.1 only)")
    parser.add_argument("--rate", type=float, required=True, help="requests a second, all connections together")
    parser.add_argument("--connections", type=int, default=256, help="keep-alive connections (256)")
    parser.add_argument("--seconds", type=float, required=True, help="how long to send")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds an answer may take (5)")
    parser.add_argument("paths", nargs="+", help="paths to request in turn")
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname != "127.0.0.1":
        parser.error("--url must be on 127.0.0.1")
    if min(args.rate, args.connections, args.seconds, args.timeout) <= 0 or args.seconds > 3600:
        parser.error("--rate, --connections, --timeout must be positive and --seconds within 0-3600")
    began = time.monotonic()
    line = uvloop.run(run(args.url, args.paths, args.rate, args.connections, args.seconds, args.timeout))
    print(f"paced load: {args.rate:g}/s over {args.connections} connections for {args.seconds:g} s"
          f" ({time.monotonic() - began:.1f} s in all)")  # fmt: skip
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

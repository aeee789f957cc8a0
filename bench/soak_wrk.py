"""wrk for the soak: several widget paths through bench/soak.lua, and the one figures line its done() prints
(bench/soak_paced.py prints the same line).

bench/widgets.py parses wrk's own report (one URL per run); the soak spreads its requests over many paths,
so the figures come from soak.lua's `SOAK key=value ...` line, which also has the status errors split from
the socket errors and the percentiles in microseconds (wrk's report rounds them to two decimals of its unit).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.widgets import Processes, SetupError, _stop

LUA = Path(__file__).resolve().with_name("soak.lua")
_FIELDS = ("requests", "duration_us", "bytes", "connect", "read", "write", "timeout", "status",
           "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "mean_us")  # fmt: skip


@dataclass(frozen=True)
class Figures:
    """What one wrk run measured: throughput, latency and errors."""

    requests: int
    seconds: float
    bytes: int
    socket_errors: dict[str, int]
    status_errors: int  # answers with a status >= 400 (wrk counts 3xx as fine)
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float
    offered: int = 0  # a paced load's requests due (bench/soak_paced.py); 0 for wrk
    lag_p99_ms: float = 0.0  # how late the paced generator itself sent, p99

    @property
    def requests_per_s(self) -> float:
        """Completed requests per second of the run."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        """Non-2xx/3xx answers and socket errors together."""
        return self.status_errors + sum(self.socket_errors.values())

    def describe_errors(self) -> str:
        """What went wrong, e.g. "3 status >= 400, 2 socket timeout"; "0" when nothing did."""
        parts = [f"{self.status_errors} status >= 400"] if self.status_errors else []
        parts += [f"{count} socket {kind}" for kind, count in self.socket_errors.items() if count]
        return ", ".join(parts) or "0"


def parse(output: str) -> Figures:
    """The figures of soak.lua's `SOAK ...` line in wrk's output; ValueError when there is none or it is torn."""
    line = next((x for x in output.splitlines() if x.startswith("SOAK ")), None)
    if line is None:
        raise ValueError("wrk printed no SOAK line (did it run bench/soak.lua?):\n" + output[-2000:])
    values = dict(re.findall(r"(\w+)=([\d.]+)", line))
    missing = [name for name in _FIELDS if name not in values]
    if missing:
        raise ValueError(f"the SOAK line lacks {', '.join(missing)}: {line!r}")
    count = {name: int(float(values[name])) for name in _FIELDS}
    ms = {name: float(values[name]) / 1000 for name in _FIELDS if name.endswith("_us")}
    return Figures(
        requests=count["requests"],
        seconds=count["duration_us"] / 1e6,
        bytes=count["bytes"],
        socket_errors={kind: count[kind] for kind in ("connect", "read", "write", "timeout")},
        status_errors=count["status"],
        p50_ms=ms["p50_us"],
        p90_ms=ms["p90_us"],
        p99_ms=ms["p99_us"],
        p999_ms=ms["p999_us"],
        max_ms=ms["max_us"],
        mean_ms=ms["mean_us"],
        offered=int(float(values.get("offered", 0))),
        lag_p99_ms=float(values.get("lag_p99_us", 0)) / 1000,
    )


def argv(
    wrk: str, base: str, paths: list[str], seconds: int, connections: int, threads: int, timeout: int
) -> list[str]:
    """The wrk command line: `paths` of `base` in turn, for `seconds`, with latency percentiles."""
    return [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s",
            "-s", str(LUA), base, "--", *paths]  # fmt: skip


def paced_argv(base: str, paths: list[str], seconds: int, rate: float, connections: int, timeout: int) -> list[str]:
    """The command line of bench/soak_paced.py: `paths` of `base` at `rate` requests a second in all."""
    return [sys.executable, "-m", "bench.soak_paced", "--url", base, "--rate", f"{rate:g}", "--connections",
            str(connections), "--seconds", str(seconds), "--timeout", str(timeout), "--", *paths]  # fmt: skip


def run(command: list[str], seconds: int, processes: Processes, name: str = "wrk") -> Figures:
    """Run wrk (or the paced load) to its end (bounded: its duration plus a minute) and parse its figures."""
    started = processes.start(name, command)
    try:
        started.process.wait(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        raise SetupError(f"wrk did not finish in time: {' '.join(command)}") from None
    finally:
        _stop(started.process)
        processes.started.remove(started)
    output = started.log.read_text(encoding="utf-8", errors="replace")
    if started.process.returncode != 0:
        raise SetupError(f"wrk exited with {started.process.returncode}:\n{output[-2000:]}")
    try:
        return parse(output)
    except ValueError as error:
        raise SetupError(str(error)) from None

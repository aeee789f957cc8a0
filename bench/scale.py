"""Scale benchmark: the embedded store at 10,000, 100,000 and 1,000,000 generated reviews, goals beside the figures.

    python -m bench.scale [--sizes 10000,100000,1000000] [--store memory,disk] [--budget-seconds 300]

Each store and size runs in its own process (bench/scale_run.py) on data shaped like the shared Trustpilot
reviews (bench/scale_data.py): one business unit with up to --big reviews, the rest spread over 200 units,
products with one review and products with thousands. `--store memory` is REVIEWS_DATA_DIR=:memory:, `disk` a
fresh temporary directory; both without MONGODB_URL, so the store is whatever `store.connect` makes of them.
A step that runs past --budget-seconds is stopped and shows "> N s"; the steps after it show "-".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.scale_data import BIG, layout

ROOT = Path(__file__).resolve().parents[1]
GRACE = 30.0  # beyond a step's budget before the process is stopped (a step checks its own budget between batches)
BETWEEN = 120.0  # start-up, or from one step's end to the next one's start
BIG_SIZE = 1_000_000
NOISE_MB = 10  # the allocator's own ups and downs, which small runs would otherwise blow up into a trend
Cell = dict[str, Any]  # what the worker said of one step: value, or timeout; missing: not reached


def _ms(cell: Cell) -> str:
    return f"{cell['value']:.2f} ms" if cell["value"] < 10 else f"{cell['value']:,.0f} ms"


def _partial(cell: Cell) -> str:
    return "" if cell.get("complete") else f" at {cell['reviews']:,}"


def _rate(cell: Cell) -> str:
    return f"{cell['value']:,.0f}/s"


FORMATS: dict[str, Callable[[Cell], str]] = {
    "import": _rate,
    "edits": _rate,
    "page": _ms,
    "page_warm": _ms,
    "summary": _ms,
    "data_json": _ms,
    "export": lambda c: f"{c['value']:,.0f} products/s",
    "rebuild": lambda c: f"{c['value']:.1f} s",
    "memory": lambda c: f"{c['peak']:,.0f} MB (+{c['value']:,.0f})" + _partial(c),
}
LABELS = {
    "import": "first import",
    "edits": "edits",
    "page": "list, first page, uncached",
    "page_warm": "list, first page, repeated",
    "summary": "product summary, uncached",
    "data_json": "data.json, 24 skus, uncached",
    "export": "JSON-LD export",
    "rebuild": "nightly rebuild",
    "memory": "peak RSS (growth)",
}


@dataclass(frozen=True)
class Goal:
    """A target for one measure: checked on the sizes it names."""

    text: str
    sizes: Callable[[int], bool]
    ok: Callable[[float], bool]
    rate: bool = False  # a rate cut short by the budget says nothing about the whole rate


GOALS = {
    "import": Goal(">= 2,000/s at 1,000,000", lambda s: s == BIG_SIZE, lambda v: v >= 2000, rate=True),
    "edits": Goal(">= 500/s at 1,000,000", lambda s: s == BIG_SIZE, lambda v: v >= 500, rate=True),
    "page": Goal("<= 100 ms, 100,000 in one unit", lambda s: s >= 100_000, lambda v: v <= 100),
    "page_warm": Goal("< 2 ms", lambda s: True, lambda v: v < 2),
    "rebuild": Goal("<= 30 s at 1,000,000", lambda s: s == BIG_SIZE, lambda v: v <= 30),
}


def cell_text(step: str, cell: Cell | None, budget: float) -> str:
    """What the table shows for one step of one run."""
    if cell is None:
        return "-"
    if cell.get("error"):
        return "error"
    if cell.get("timeout"):
        if "done" in cell:  # a rate measured over what fitted into the budget
            return f"> {budget:g} s ({cell['value']:,.0f}/s for {cell['done']:,})"
        return f"> {budget:g} s"
    return FORMATS[step](cell)


def goal_met(step: str, cells: dict[int, dict[str, Cell]], budget: float, big: int) -> str:
    """yes / NO for the sizes the goal is about, or why it cannot be told."""
    if step == "memory":
        return memory_met(cells)
    goal = GOALS.get(step)
    if goal is None:
        return ""
    checked = [s for s in cells if goal.sizes(s) and (step != "page" or layout(s, big).units[BIG] >= 100_000)]
    if not checked:
        return "not run"
    verdicts = []
    for size in checked:
        cell = cells[size].get(step)
        if cell is None or cell.get("error"):
            verdicts.append("not reached")
        elif cell.get("timeout"):
            verdicts.append("over budget" if goal.rate or goal.ok(budget * 1000) else "NO")
        else:
            verdicts.append("yes" if goal.ok(cell["value"]) else "NO")
    for verdict in ("NO", "over budget", "not reached"):
        if verdict in verdicts:
            return verdict
    return "yes"


MEMORY_GOAL = "no faster than the data"


def memory_met(cells: dict[int, dict[str, Cell]]) -> str:
    """Growth at the largest size measured at most 1.25x the smallest's scaled by the data (+ NOISE_MB)."""
    measured = sorted(s for s in cells if "memory" in cells[s])
    if len(measured) < 2:
        return "needs 2 sizes"
    small, large = measured[0], measured[-1]
    (grew_small, n_small), (grew_large, n_large) = (
        (cells[s]["memory"]["value"], cells[s]["memory"]["reviews"]) for s in (small, large)
    )
    return "yes" if grew_large <= 1.25 * grew_small * n_large / max(n_small, 1) + NOISE_MB else "NO"


def _reader(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_one(kind: str, size: int, args: argparse.Namespace) -> tuple[dict[str, Cell], str, str]:
    """One store at one size in a child process, each step stopped at its budget: cells, store, data shape."""
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "MONGODB_URL"}
        data = Path(tmp) / "data"
        data.mkdir()  # an empty directory, as a new install's ./data would be
        env["REVIEWS_DATA_DIR"] = ":memory:" if kind == "memory" else str(data)
        options = {"size": size, "big": args.big, "units": args.units, "edits": args.edits}
        options["budget-seconds"] = args.budget_seconds
        command = [sys.executable, "-m", "bench.scale_run", *(f"--{k}={v}" for k, v in options.items())]
        with open(Path(tmp) / "stderr", "w+") as errors:
            child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
            assert child.stdout is not None
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(target=_reader, args=(child.stdout, lines), daemon=True).start()
            cells: dict[str, Cell] = {}
            described, shape, current = kind, "", None
            while True:
                try:
                    line = lines.get(timeout=args.budget_seconds + GRACE if current else BETWEEN)
                except queue.Empty:
                    cells[current or "setup"] = {"timeout": True}
                    print(f"{kind} at {size:,}: {current or 'start-up'} stopped at its budget", file=sys.stderr)
                    child.kill()
                    break
                if line is None:
                    break
                message = json.loads(line)
                if message["step"] == "store":
                    described, shape = f"{kind}: {message['description']}", message["profile"]
                elif message.get("start"):
                    current = message["step"]
                else:
                    step = message.pop("step")
                    cells[step], current = message, None
                    shown = cell_text(step, message, args.budget_seconds) if step in LABELS else "done"
                    print(f"{kind} at {size:,}: {step} {shown}", file=sys.stderr, flush=True)  # a long run's progress
            if child.wait() not in (0, -9) or (current and not cells.get(current)):
                errors.seek(0)
                print(f"{kind} at {size:,}: the run failed:\n{errors.read()[-3000:]}", file=sys.stderr)
                cells[current or "setup"] = {"error": True}
    return cells, described, shape


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated review counts")
    parser.add_argument("--store", default="memory,disk", help="memory, disk or both (comma-separated)")
    parser.add_argument("--budget-seconds", type=float, default=300, help="per measurement")
    parser.add_argument("--big", type=int, default=100_000, help="reviews of the one big business unit")
    parser.add_argument("--units", type=int, default=200, help="business units sharing the other reviews")
    parser.add_argument("--edits", type=int, default=1000, help="reviews edited for the edit rate")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    kinds = [k.strip() for k in args.store.split(",")]
    if not set(kinds) <= {"memory", "disk"}:
        parser.error("--store takes memory, disk or memory,disk")
    results: dict[str, dict[int, dict[str, Cell]]] = {kind: {} for kind in kinds}
    names: dict[str, str] = {}
    shapes: set[str] = set()
    started = time.monotonic()
    for kind in kinds:
        for size in sizes:
            results[kind][size], names[kind], shape = run_one(kind, size, args)
            shapes.add(shape)
    failed = any(c.get("error") for by_size in results.values() for cells in by_size.values() for c in cells.values())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for kind in kinds:
        print(f"store {names[kind]}")
    shaped = ", ".join(sorted(shapes - {""}))
    print(f"data shaped like {shaped}; one unit with up to {args.big:,} reviews, the rest over {args.units} units")
    took = time.monotonic() - started
    print(f"{len(sizes) * len(kinds)} runs in {took:,.0f} s, budget {args.budget_seconds:g} s a step")
    header = ["measure", "store"] + [f"{s:,}" for s in sizes] + ["goal", "met"]
    rows = []
    for step in LABELS:
        for kind in kinds:
            cells = results[kind]
            texts = [cell_text(step, cells[s].get(step), args.budget_seconds) for s in sizes]
            goal = GOALS[step].text if step in GOALS else MEMORY_GOAL if step == "memory" else ""
            rows.append([LABELS[step], kind, *texts, goal, goal_met(step, cells, args.budget_seconds, args.big)])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

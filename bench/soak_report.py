"""What bench/soak.py measured, as the tables and the PASS/FAIL lines it prints."""

from __future__ import annotations

import argparse
import math
import statistics
from dataclasses import dataclass, field

from bench.soak_load import Ingest, Moderator
from bench.soak_wrk import Figures
from bench.widgets import machine

P99_MS = 50.0  # issue 13's targets: p99 under 50 ms, no errors, memory growth under 10 %, hides within the bound
GROWTH = 0.10
INGEST_SHARE = 0.95  # the collector must have stored this share of --ingest-per-minute for the soak to count
NAMES = {"direct": "reviews serve, directly", "nginx": "through nginx (deploy/nginx/reviews.conf)"}


@dataclass
class Soak:
    """Everything one soak gathered."""

    args: argparse.Namespace
    bound: dict[str, float]  # documented seconds until a hidden review is gone, per answer
    ingest: Ingest
    moderator: Moderator
    figures: dict[str, Figures] = field(default_factory=dict)  # the paced load, per target
    saturation: dict[str, Figures] = field(default_factory=dict)  # the warm-up: wrk with every connection busy
    rss_kb: dict[str, int] = field(default_factory=dict)  # moment -> RSS of reviews serve and its children
    scheduler_kb: dict[str, int] = field(default_factory=dict)  # moment -> RSS of the reviews scheduler beside it
    stored: dict[str, int] = field(default_factory=dict)  # moment -> reviews the collector had stored by then
    elapsed: float = 0.0

    def snapshot(self, moment: str, rss_kb: dict[str, int]) -> None:
        """Note the processes' memory now (`serve`, `scheduler`), with how many reviews the collector has stored."""
        self.rss_kb[moment] = rss_kb["serve"]
        self.scheduler_kb[moment] = rss_kb.get("scheduler", 0)
        self.stored[moment] = self.ingest.inserted

    def stored_since_warm_up(self) -> int:
        """Reviews the collector stored between the first and the last memory snapshot."""
        values = list(self.stored.values())
        return values[-1] - values[0] if values else 0


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`; nan for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def growth(rss: dict[str, int]) -> float:
    """RSS at the end against RSS after warm-up (0.05 = 5 % more)."""
    values = list(rss.values())
    return values[-1] / values[0] - 1 if len(values) > 1 and values[0] else math.nan


def _load_table(figures: dict[str, Figures], paced: bool) -> list[str]:
    extra = " generator lag p99 ms |" if paced else ""
    lines = [f"| target | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |{extra}",
             "|---|---:|---:|---:|---:|---:|---:|---|" + ("---:|" if paced else "")]  # fmt: skip
    for name, f in figures.items():
        lag = f" {f.lag_p99_ms:.1f} |" if paced else ""
        lines.append(f"| {NAMES[name]} | {f.requests:,} | {f.requests_per_s:,.0f} | {f.p50_ms:.1f} | {f.p90_ms:.1f}"
                     f" | {f.p99_ms:.1f} | {f.max_ms:.0f} | {f.describe_errors()} |{lag}")  # fmt: skip
    return lines


def _gone(result: Soak, name: str) -> list[float | None]:
    return [hide.gone_s.get(name) for hide in result.moderator.hides]


def _hide_table(result: Soak) -> list[str]:
    lines = [
        "| answer | hides | gone | median s | p99 s | max s | documented bound |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in result.bound:
        times = _gone(result, name)
        seen = [t for t in times if t is not None]
        median = statistics.median(seen) if seen else math.nan
        lines.append(f"| {NAMES[name]} | {len(times)} | {len(seen)} | {median:.2f} | {percentile(seen, 0.99):.2f}"
                     f" | {max(seen, default=math.nan):.2f} | {result.bound[name]:.0f} s |")  # fmt: skip
    return lines


def verdicts(result: Soak) -> list[tuple[str, str, bool]]:
    """(target, what was measured, met) for each of issue 13's targets, and the load the soak had to apply."""
    rows: list[tuple[str, str, bool]] = []
    for name, f in result.figures.items():
        rate = result.args.rate
        rows.append((f"{name}: no errors", f.describe_errors(), f.errors == 0))
        rows.append((f"{name}: p99 < {P99_MS:.0f} ms at {rate:,.0f}/s", f"{f.p99_ms:.1f} ms", f.p99_ms < P99_MS))
        rows.append((f"{name}: the rate was answered (>= 98 % of {rate:,.0f}/s)", f"{f.requests_per_s:,.0f}/s",
                     f.requests_per_s >= 0.98 * rate))  # fmt: skip
    for name, f in result.saturation.items():
        rows.append((f"{name} at saturation: no errors", f.describe_errors(), f.errors == 0))
    for process, readings in (("reviews serve", result.rss_kb), ("reviews scheduler", result.scheduler_kb)):
        grew = growth(readings)
        rows.append((f"{process}: memory growth < {GROWTH:.0%} after warm-up", f"{grew:+.1%}", grew < GROWTH))
    for name, bound in result.bound.items():
        times = _gone(result, name)
        worst = max((t if t is not None else math.inf for t in times), default=math.nan)
        late = sum(1 for t in times if t is None or t > bound)
        measured = f"max {worst:.2f} s of {len(times)} hides" + (f", {late} later or never" if late else "")
        rows.append((f"{name}: every hidden review gone within {bound:.0f} s", measured, bool(times) and late == 0))
    ingest = result.ingest
    wanted = result.args.ingest_per_minute
    rows.append((f"load: collector stored >= {INGEST_SHARE:.0%} of {wanted:,}/min",
                 f"{ingest.per_minute:,.0f}/min", ingest.per_minute >= INGEST_SHARE * wanted))  # fmt: skip
    mod = result.moderator
    rows.append(("load: every hide answered 200", f"{len(mod.failures)} failed", not mod.failures))
    return rows


def _readings(rss_kb: dict[str, int]) -> str:
    """Memory readings as "after warm-up 247.9 MB, ..."."""
    return ", ".join(f"{moment} {kb / 1024:,.1f} MB" for moment, kb in rss_kb.items())


def print_report(result: Soak, wrk: str, nginx: str) -> int:
    """Print the soak's tables and verdicts; 0 when every target held, else 1."""
    args, ingest, mod = result.args, result.ingest, result.moderator
    print("## Soak: widgets under load while reviews arrive and are hidden\n")
    print("\n".join(machine(wrk, nginx)))
    print(f"\nEach target: {args.rate:,.0f} requests a second over {args.connections} connections for"
          f" {args.duration} s (bench/soak_paced.py, latency from each request's due time), 13 widget paths in turn,"
          f" after a {args.warmup} s warm-up at saturation (`wrk -t{args.threads} -c{args.connections}"
          f" --timeout={args.timeout}s -s bench/soak.lua`); {result.elapsed:.0f} s in all."
          f"\nMeanwhile {args.ingest_per_minute:,} reviews a minute arrived on a fake Trustpilot on 127.0.0.1, which"
          f" a `reviews scheduler` beside `reviews serve --no-scheduler` collected every {args.collect_every:g} s,"
          f" and a moderator hid a review every {args.hide_every:g} s.\n")  # fmt: skip
    print(f"The load, {args.rate:,.0f} requests a second (the targets):\n")
    print("\n".join(_load_table(result.figures, paced=True)))
    print("\nThe warm-up, every connection busy (how much each target answers at most; its latency is the queue):\n")
    print("\n".join(_load_table(result.saturation, paced=False)))
    rss = _readings(result.rss_kb)
    stored = result.stored_since_warm_up()
    values = list(result.rss_kb.values())
    per_review = (values[-1] - values[0]) / stored if stored and len(values) > 1 else math.nan
    scheduler = _readings(result.scheduler_kb)
    print(f"\nMemory (VmRSS of reviews serve and its children): {rss}; growth {growth(result.rss_kb):+.1%}."
          f"\nThe reviews scheduler beside it (which ran the collector): {scheduler};"
          f" growth {growth(result.scheduler_kb):+.1%}."
          f"\nThe collector stored {stored:,} reviews meanwhile: {per_review:,.2f} KB of growth per stored review"
          f" in reviews serve.\n")  # fmt: skip
    print("Hidden review until gone from its product's latest-reviews data.json (from the PATCH's answer):\n")
    print("\n".join(_hide_table(result)))
    collected = statistics.median(ingest.seconds) if ingest.seconds else math.nan
    patch = [h.patch_ms for h in mod.hides]
    print(f"\nCollector: {ingest.inserted:,} reviews stored in {ingest.runs} runs ({ingest.per_minute:,.0f}/min),"
          f" median run {collected:.2f} s, slowest {max(ingest.seconds, default=math.nan):.2f} s;"
          f" {len(ingest.failures)} failed."
          f"\nModerator: {len(mod.hides)} hides, PATCH median {statistics.median(patch) if patch else math.nan:.0f} ms,"
          f" slowest {max(patch, default=math.nan):.0f} ms; {mod.skipped} ticks found no target shown everywhere;"
          f" {len(mod.failures)} failed.")  # fmt: skip
    for line in [*mod.notes, *ingest.failures[:5], *mod.failures[:5]]:
        print(f"- {line}")
    print("\n| target | measured | result |\n|---|---|---|")
    rows = verdicts(result)
    for target, measured, met in rows:
        print(f"| {target} | {measured} | {'PASS' if met else '**FAIL**'} |")
    return 0 if all(met for *_, met in rows) else 1

"""bench/scale.py at a tiny size, so the scale benchmark keeps running as the code under it changes."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.scale_data import BIG, FALLBACK_RATINGS, Generator, layout, profile, sku

ROOT = Path(__file__).resolve().parents[1]


def _bench(*args: str) -> tuple[int, dict[str, list[str]]]:
    """Run the bench; its table rows by measure and store."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.scale", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    rows = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] != "measure":
            rows[f"{cells[0]} / {cells[1]}"] = cells[2:]
    assert rows, result.stdout + result.stderr
    return result.returncode, rows


def test_every_measure_has_a_figure_at_a_tiny_size_on_both_stores() -> None:
    code, rows = _bench(
        "--sizes", "500", "--big", "400", "--units", "10", "--store", "memory,disk", "--budget-seconds", "60"
    )
    assert code == 0
    assert len(rows) == 9 * 2  # nine measures, two stores
    for name, (figure, _goal, met) in rows.items():
        assert figure[0].isdigit(), f"{name}: {figure}"
        assert met != "not reached", name
    assert rows["list, first page, uncached / memory"][1] == "<= 100 ms, 100,000 in one unit"
    assert rows["first import / disk"][2] == "not run"  # its goal is about 1,000,000 reviews


def test_a_step_over_its_budget_says_so_and_the_run_still_reports_memory() -> None:
    code, rows = _bench("--sizes", "6000", "--big", "6000", "--store", "memory", "--budget-seconds", "0.01")
    assert code == 0
    imported = rows["first import / memory"][0]
    assert imported.startswith("> 0.01 s (") and imported.endswith("for 2,000)"), imported  # one batch, then stop
    assert rows["edits / memory"][0] == "-"
    assert rows["nightly rebuild / memory"] == ["-", "<= 30 s at 1,000,000", "not run"]
    assert rows["peak RSS (growth) / memory"][0].endswith("at 2,000")


def test_generated_reviews_have_the_shape_of_real_ones(tmp_path: Path) -> None:
    shape = profile(tmp_path)  # no CSVs there: the figures recorded from them
    assert shape.ratings == FALLBACK_RATINGS
    products = layout(10_000, big=10_000).products[BIG]
    records = [r for batch in Generator(shape).batches(BIG, 10_000, products) for r in batch]
    stars = Counter(r["rating"] for r in records)
    assert 0.70 < stars[5] / len(records) < 0.82 and 0.08 < stars[1] / len(records) < 0.16  # 76 % and 12 % real
    per_product = Counter(r["product"] for r in records if r["product"])
    assert per_product[sku(0)] > 500 and min(per_product.values()) == 1  # a best-seller and a long tail
    assert 0.2 < sum(r["product"] is None for r in records) / len(records) < 0.4  # reviews of the shop itself
    lengths = sorted(len(r["text"]) for r in records)
    assert 100 < lengths[len(lengths) // 2] < 200 and lengths[-1] > 1000  # median 150 characters, some long ones
    assert Generator(shape).record(BIG, 7, products) == records[7]  # the same review every time: edits build on it

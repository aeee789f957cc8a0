"""Benchmarks that print a table; the README quotes their figures."""

from __future__ import annotations

import sys
from pathlib import Path

# The shared real reviews sit beside a checkout (../shared), not in it: users cloning the project have none.
SHARED_REVIEWS = Path(__file__).resolve().parents[2] / "shared" / "data" / "trustpilot-pet-insurance"


def shared_csvs(where: Path) -> list[Path]:
    """The CSV exports in `where`, sorted; none (and why, on stderr) when the shared data is not there."""
    files = sorted(where.glob("*.csv"))
    if not files:
        print(f"no CSV files in {where}: this benchmark needs ../shared/data/trustpilot-pet-insurance", file=sys.stderr)
    return files


Row = tuple[str, str, str, str, bool]  # measure, work, result, target, met


def print_targets(rows: list[Row]) -> int:
    """Print `rows` as the README's markdown table of targets (columns as wide as their widest cell); 0 if all met."""
    cells = [(name, work, result, target, "yes" if ok else "NO") for name, work, result, target, ok in rows]
    header = ("measure", "work", "result", "target", "ok")
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    for row in [header, None, *cells]:
        if row is None:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        else:
            print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
    return 0 if all(ok for *_, ok in rows) else 1

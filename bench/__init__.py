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

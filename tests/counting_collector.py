"""A collector for the scheduler's tests: it logs each run's start and end to a file, and waits, fails or raises
when its configuration says so. Only tests register it (tests/scheduler_process.py), never collectors.registry.

Its configuration, in the unit's `sources`: `{"log": PATH, "sleep": SECONDS?, "hold": PATH?, "fail": "source"|"bug"?}`.
A run lasts `sleep` seconds, and while the `hold` file exists it waits (at most 60 s in all), so a test decides how
long a sync lasts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from collectors.base import Run
from reviews_service import domain
from reviews_service.config import Settings
from reviews_service.errors import SourceConfigError, SourceError


class Counting:
    """Counts its runs in the file its configuration names."""

    name = "counting"

    def check_config(self, unit: domain.BusinessUnit, config: Mapping[str, Any], settings: Settings) -> None:
        if not config.get("log"):
            raise SourceConfigError("the counting source needs `log`, a file to count its runs in")

    def collect(self, run: Run) -> None:
        log = Path(run.config["log"])
        started = time.time()
        _line(log, f"start {os.getpid()} {started:.3f} {run.unit.slug}")
        time.sleep(min(float(run.config.get("sleep", 0)), 60))
        hold = run.config.get("hold")
        while hold and Path(hold).exists() and time.time() - started < 60:
            time.sleep(0.05)
        run.report.calls += 1
        if run.config.get("fail") == "source":
            _line(log, f"fail {os.getpid()} {time.time():.3f} {run.unit.slug}")
            raise SourceError("the counting platform answered 503 three times")
        if run.config.get("fail") == "bug":
            _line(log, f"fail {os.getpid()} {time.time():.3f} {run.unit.slug}")
            raise ZeroDivisionError("a bug in the collector")
        record = {
            "source": "counting", "external_id": f"{os.getpid()}-{started:.3f}", "rating": 4,
            "title": "Counted", "text": "Een run van de teller.", "created_at": "2026-11-01T10:00:00Z",
        }  # fmt: skip
        run.progress(0, 1)
        run.report.fetched += 1
        run.ingest([record])
        run.progress(1, 1)
        run.save_checkpoint({"runs": int(run.checkpoint().get("runs", 0)) + 1, "api_token": "tok-never-shown"})
        _line(log, f"end {os.getpid()} {time.time():.3f} {run.unit.slug}")


def _line(path: Path, text: str) -> None:
    # one write() with O_APPEND: lines from two processes never interleave
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{text}\n".encode())
    finally:
        os.close(fd)


REGISTRY = {"counting": Counting}

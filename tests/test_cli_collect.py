"""`reviews collect SOURCE [-b BU] [--full]` as a real process, with the tests' counting collector registered:
it runs once now with a progress bar, prints what it did, and exits 2 with the reason when a run fails."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from reviews_service import source_store
from reviews_service.collection import lease_key
from reviews_service.leases import utcnow
from tests.conftest import _env, make_settings
from tests.test_scheduler_processes import ENTRY, ROOT, add_unit, on_disk, runs


def _collect(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = _env(REVIEWS_DATA_DIR=str(data), MONGODB_DB=make_settings().mongodb_db)
    return subprocess.run([*ENTRY, "collect", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_collect_runs_once_per_unit_and_reports_it(tmp_path: Path) -> None:
    data, counted = tmp_path / "data", tmp_path / "runs.log"
    with on_disk(data) as state:
        add_unit(state, "one", log=str(counted))
        add_unit(state, "two", log=str(counted))
    result = _collect(data, "counting", "-b", "one")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["business_unit"], report["source"], report["full"]) == ("one", "counting", False)
    assert (report["fetched"], report["inserted"]) == (1, 1)
    assert "100%" in result.stderr  # the progress bar
    assert [x.unit for x in runs(counted) if x.kind == "end"] == ["one"]
    every = _collect(data, "counting", "--full")  # without -b: every unit with the source
    assert every.returncode == 0, every.stderr
    reports = [json.loads(line) for line in every.stdout.splitlines()]
    assert [(r["business_unit"], r["full"]) for r in reports] == [("one", True), ("two", True)]
    with on_disk(data):
        assert source_store.get_source_state("two", "counting").last_outcome == "ok"


def test_collect_says_why_it_could_not_run(tmp_path: Path) -> None:
    data, counted = tmp_path / "data", tmp_path / "runs.log"
    with on_disk(data) as state:
        add_unit(state, "shop", log=str(counted), fail="source")
        add_unit(state, "busy", log=str(counted))
        assert source_store.take_lease(lease_key("busy", "counting"), "scheduler:h:9:x", now=utcnow(), seconds=60)
    failed = _collect(data, "counting", "-b", "shop")
    assert failed.returncode == 2
    assert "reviews: shop counting: the counting platform answered 503 three times" in failed.stderr
    busy = _collect(data, "counting", "-b", "busy")
    assert busy.returncode == 2
    assert "Collecting counting for busy is running right now (by scheduler:h:9:x" in busy.stderr
    unknown = _collect(data, "trustpilt", "-b", "shop")
    assert (unknown.returncode, unknown.stderr.strip()) == (
        2,
        "reviews: unknown source 'trustpilt'; known sources: counting",
    )
    nowhere = _collect(data, "counting", "-b", "no-such-shop")
    assert nowhere.returncode == 2 and "no-such-shop" in nowhere.stderr
    assert [x.unit for x in runs(counted)] == ["shop", "shop"]  # its start and its failure; nothing else ran


def test_a_rerun_after_kill_9_does_not_wait_for_the_dead_runs_lease(tmp_path: Path) -> None:
    """`kill -9` of a `reviews collect` mid-sync leaves its lease (2 minutes by default); a rerun on the same
    machine sees that process is gone and runs at once."""
    data, counted, hold = tmp_path / "data", tmp_path / "runs.log", tmp_path / "hold"
    hold.touch()
    with on_disk(data) as state:
        add_unit(state, "shop", log=str(counted), hold=str(hold))
    env = _env(REVIEWS_DATA_DIR=str(data), MONGODB_DB=make_settings().mongodb_db)
    first = subprocess.Popen([*ENTRY, "collect", "counting", "-b", "shop"], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not runs(counted) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [x.kind for x in runs(counted)] == ["start"]
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    hold.unlink()
    started = time.monotonic()
    rerun = _collect(data, "counting", "-b", "shop")
    assert rerun.returncode == 0, rerun.stderr
    assert time.monotonic() - started < 60  # not the 120 s lease
    kinds = [(x.kind, x.pid) for x in runs(counted)]
    assert kinds[0][1] == first.pid and [k for k, _ in kinds] == ["start", "start", "end"]

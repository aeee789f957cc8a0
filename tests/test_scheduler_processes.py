"""Real `reviews scheduler` processes on one data directory, with the tests' counting collector registered
(tests/scheduler_process.py): each source runs once per period and never in two processes at once, a killed
holder's job is taken over at once and a hung one's once its lease expires, and a failing job backs off, shows
its error at the sources endpoint and never stops the loop. Every wait is bounded in time."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from reviews_service import domain, repository, source_store, store
from reviews_service.app import create_app
from reviews_service.state import ServiceState
from tests.conftest import ADMIN_TOKEN, _env, free_port, make_settings, stop_process, wait_until_up
from tests.counting_collector import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
ENTRY = [sys.executable, "-m", "tests.scheduler_process"]
PERIOD = 3.0  # seconds: every_minutes 0.05
LEASE = 3.0


@dataclass
class Line:
    kind: str  # start, end or fail
    pid: int
    at: float
    unit: str


def runs(log: Path, unit: str | None = None) -> list[Line]:
    """What the counting collector wrote, oldest first."""
    if not log.exists():
        return []
    lines = [Line(k, int(p), float(t), u) for k, p, t, u in (x.split() for x in log.read_text().splitlines())]
    return [line for line in lines if unit in (None, line.unit)]


def wait_for(what: str, seen: Callable[[], bool], timeout: float) -> None:
    """Poll until `seen()`, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not seen():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.05)


@contextmanager
def on_disk(data: Path) -> Iterator[ServiceState]:
    """This test process on the schedulers' data directory (the embedded store, shared between processes)."""
    store.connect(make_settings(REVIEWS_DATA_DIR=str(data), MONGODB_URL=None))
    try:
        yield ServiceState()
    finally:
        store.disconnect()


def add_unit(state: ServiceState, slug: str, **config: Any) -> None:
    sources = {"counting": {"every_minutes": PERIOD / 60, **config}}
    repository.save_business_unit(state, domain.BusinessUnit(slug=slug, name=slug.title(), sources=sources))


@contextmanager
def scheduler(
    data: Path, log: Path, lease: float = LEASE, entry: Sequence[str] = ENTRY, **settings: str
) -> Iterator[subprocess.Popen[str]]:
    """One `reviews scheduler` process on `data` (killed at the end if still alive); its output goes to `log`.

    `entry` is the command (the tests' counting collector registered, by default); `settings` add environment."""
    env = _env(
        REVIEWS_DATA_DIR=str(data),
        REVIEWS_LEASE_SECONDS=str(lease),
        REVIEWS_SCHEDULER_RELOAD_SECONDS="1",
        REVIEWS_ADMIN_TOKEN=ADMIN_TOKEN,
        MONGODB_DB=make_settings().mongodb_db,  # the database on_disk writes the units into
        **settings,
    )
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*entry, "scheduler"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                stop_process(proc, grace=10)


def serve_env(data: Path) -> dict[str, str]:
    """The environment of a `reviews serve` on `data` beside the schedulers (no demo shop, their lease)."""
    return _env(
        REVIEWS_DATA_DIR=str(data),
        REVIEWS_LEASE_SECONDS=str(LEASE),
        REVIEWS_SCHEDULER_RELOAD_SECONDS="1",
        REVIEWS_ADMIN_TOKEN=ADMIN_TOKEN,
        REVIEWS_LOAD_DEMO="false",
        MONGODB_DB=make_settings().mongodb_db,
    )


def sources_of(state: ServiceState, data: Path, unit: str) -> dict[str, Any]:
    """GET /v1/admin/business-units/{unit}/sources of an app on the same store."""
    settings = make_settings(REVIEWS_DATA_DIR=str(data), MONGODB_URL=None)
    app = create_app(settings, connect=False, state=state, registry=REGISTRY)
    with TestClient(app) as client:
        response = client.get(
            f"/v1/admin/business-units/{unit}/sources", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
    assert response.status_code == 200, response.text
    return dict(response.json()["items"][0])


def test_two_schedulers_run_each_source_once_per_period_never_at_once(tmp_path: Path) -> None:
    """Each run takes half a period; two processes look at their own moments: still one run per period, none
    overlapping, and a unit added while they run is collected within seconds."""
    data, counted = tmp_path / "data", tmp_path / "runs.log"
    with on_disk(data) as state:
        add_unit(state, "first", log=str(counted), sleep=PERIOD / 2)
        with scheduler(data, tmp_path / "a.log") as a, scheduler(data, tmp_path / "b.log") as b:
            wait_for("a first run", lambda: len(runs(counted, "first")) >= 1, 60)
            add_unit(state, "second", log=str(counted))
            added = time.time()
            time.sleep(5 * PERIOD)
            assert a.poll() is None and b.poll() is None
        first, second = runs(counted, "first"), runs(counted, "second")
    starts = [line for line in first if line.kind == "start"]
    assert 3 <= len(starts) <= 7, first
    for earlier, later in itertools.pairwise(starts):
        assert later.at - earlier.at >= PERIOD * 0.9 - 0.1, f"two runs within one period: {first}"  # see due()
    ends = [line for line in first if line.kind == "end"]
    for start, end, after in zip(starts, ends, starts[1:], strict=False):
        assert start.pid == end.pid and start.at < end.at < after.at, f"runs overlapped: {first}"
    second_starts = [line.at for line in second if line.kind == "start"]
    assert second_starts and second_starts[0] - added < 1 + 2 + 2, second  # re-read every second, then due at once


@pytest.mark.parametrize("fault", ["kill", "stop"])
def test_a_dead_or_hung_holders_job_is_taken_over(tmp_path: Path, fault: str) -> None:
    """kill -9 mid-sync: the holder's process is gone, so the other scheduler on this machine takes the job over at
    its next look, without waiting for the lease (30 s here). A hung holder (SIGSTOP) still exists: the other waits
    for its lease (3 s) to expire, never less, then takes over. Before either, the other never runs the job."""
    data, counted, hold = tmp_path / "data", tmp_path / "runs.log", tmp_path / "hold"
    lease = 30.0 if fault == "kill" else LEASE
    hold.touch()  # every run waits while this file exists
    with on_disk(data) as state:
        add_unit(state, "shop", log=str(counted), hold=str(hold))
        with scheduler(data, tmp_path / "a.log", lease) as a:
            wait_for("a's run to start", lambda: any(x.pid == a.pid for x in runs(counted)), 60)
            with scheduler(data, tmp_path / "b.log", lease) as b:
                time.sleep(2 * PERIOD)  # b looks (at start and at each period) and finds the lease taken
                assert [x.pid for x in runs(counted)] == [a.pid], "b ran the job while a held it"
                holder = source_store.lease_holder("collect/shop/counting", now=datetime.now(UTC))
                assert holder is not None and f":{a.pid}:" in holder[0]
                os.kill(a.pid, signal.SIGKILL if fault == "kill" else signal.SIGSTOP)
                struck = time.time()
                if fault == "kill":
                    a.wait(10)
                wait_for("b to take over", lambda: any(x.pid == b.pid for x in runs(counted)), LEASE + PERIOD + 10)
                waited = next(x.at for x in runs(counted) if x.pid == b.pid) - struck
                if fault == "kill":
                    assert waited <= PERIOD + 3, waited  # its next look, far sooner than the 30 s lease
                else:  # a renewed its lease every LEASE/3 s, so it lasted at least 2/3 of LEASE after the stop
                    assert LEASE * 2 / 3 - 0.2 <= waited <= LEASE + PERIOD + 3, waited
                hold.unlink()
                wait_for("b's run to end", lambda: [x.kind for x in runs(counted)][-1] == "end", 20)
                # the collector logs "end" before b records the outcome: wait for that before stopping b
                outcome = lambda: source_store.get_source_state("shop", "counting").last_outcome  # noqa: E731
                wait_for("b to record its run", lambda: outcome() == "ok", 20)
                assert b.poll() is None
                if fault == "stop":
                    os.kill(a.pid, signal.SIGKILL)
                    a.wait(10)
        assert source_store.get_source_state("shop", "counting").last_outcome == "ok"
    assert "took over collect/shop/counting" in (tmp_path / "b.log").read_text() or fault == "stop"


def test_a_failing_job_backs_off_shows_its_error_and_the_loop_goes_on(tmp_path: Path) -> None:
    """A collector with a bug and one whose platform fails: each backs off (2, then 4 periods), its error is at
    the sources endpoint, and a healthy unit beside them keeps being collected every period."""
    data, counted = tmp_path / "data", tmp_path / "runs.log"
    with on_disk(data) as state:
        add_unit(state, "broken", log=str(counted), fail="bug")
        add_unit(state, "flaky", log=str(counted), fail="source")
        add_unit(state, "healthy", log=str(counted))
        with scheduler(data, tmp_path / "s.log") as proc:
            failures = lambda u: source_store.get_source_state(u, "counting").failures  # noqa: E731
            wait_for(
                "two failed tries of each failing source", lambda: min(map(failures, ("broken", "flaky"))) >= 2, 60
            )
            healthy = lambda: [x for x in runs(counted, "healthy") if x.kind == "end"]  # noqa: E731
            wait_for("the healthy unit collected 3 times", lambda: len(healthy()) >= 3, 2 * PERIOD + 10)
            assert proc.poll() is None, (tmp_path / "s.log").read_text()
            broken, flaky = sources_of(state, data, "broken"), sources_of(state, data, "flaky")
            # the third try is 4 periods after the second: not yet
            assert len([x for x in runs(counted, "broken") if x.kind == "start"]) == 2
        log = (tmp_path / "s.log").read_text()
    for unit in ("broken", "flaky"):
        first, second = [x.at for x in runs(counted, unit) if x.kind == "start"][:2]
        assert second - first >= 2 * PERIOD - PERIOD / 10 - 0.1, f"{unit} was retried before its backoff"
    assert (broken["last_outcome"], broken["failures"]) == ("failed", 2)
    assert broken["last_error"].startswith("internal error (ZeroDivisionError: a bug in the collector)")
    assert (flaky["last_outcome"], flaky["failures"]) == ("failed", 2)
    assert flaky["last_error"] == "the counting platform answered 503 three times"
    for item in (broken, flaky):
        planned = datetime.fromisoformat(item["next_run_at"].replace("Z", "+00:00"))
        ran = datetime.fromisoformat(item["last_run_at"].replace("Z", "+00:00"))
        assert (planned - ran).total_seconds() == pytest.approx(4 * PERIOD, abs=0.01)
    assert "collecting counting for flaky failed (1 in a row): the counting platform answered 503 three times" in log
    assert "ZeroDivisionError: a bug in the collector" in log


def test_reviews_serve_and_a_scheduler_share_the_jobs_and_collect_now_waits_its_turn(tmp_path: Path) -> None:
    """`reviews serve` on the embedded store runs the scheduler in-process; beside a `reviews scheduler` on the same
    data directory each run still happens once, and the admin collect endpoint answers 409 while one runs."""
    data, counted, hold = tmp_path / "data", tmp_path / "runs.log", tmp_path / "hold"
    hold.touch()
    with on_disk(data) as state:
        add_unit(state, "shop", log=str(counted), hold=str(hold))
    port = free_port()
    env = serve_env(data)
    serve_log = tmp_path / "serve.log"
    with serve_log.open("w") as out, scheduler(data, tmp_path / "s.log") as other:
        serve = subprocess.Popen(
            [*ENTRY, "serve", "--port", str(port), "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(serve, f"{url}/health", 60, "reviews serve", serve_log.read_text)
            wait_for("a run to start", lambda: len(runs(counted)) >= 1, 30)
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            with httpx.Client(base_url=url, headers=admin, timeout=30) as client:
                busy = client.post("/v1/admin/business-units/shop/collect/counting")
                assert busy.status_code == 409, busy.text
                assert "Collecting counting for shop is running right now (by scheduler:" in busy.json()["detail"]
                [item] = client.get("/v1/admin/business-units/shop/sources").json()["items"]
                assert item["running"]["owner"].split(":")[2] == str(runs(counted)[0].pid)
                hold.unlink()
                time.sleep(4 * PERIOD)
                done = client.post("/v1/admin/business-units/shop/collect/counting")  # its turn now
                assert done.status_code in (200, 409), done.text  # 409 if a scheduler's run is on right now
            assert serve.poll() is None and other.poll() is None
        finally:
            stop_process(serve, grace=10)
    lines = runs(counted)
    starts = [x for x in lines if x.kind == "start"]
    for start, end, after in zip(starts, [x for x in lines if x.kind == "end"], starts[1:], strict=False):
        assert start.pid == end.pid and start.at < end.at < after.at, f"runs overlapped: {lines}"
    assert len(starts) >= 3, lines


def test_reviews_serve_no_scheduler_leaves_every_run_to_the_scheduler_beside_it(tmp_path: Path) -> None:
    """`reviews serve --no-scheduler` collects nothing itself (no source runs while it is alone, though one is due
    every period); a `reviews scheduler` started beside it runs them all, and serve's /ready sees its heartbeat."""
    data, counted = tmp_path / "data", tmp_path / "runs.log"
    with on_disk(data) as state:
        add_unit(state, "shop", log=str(counted))
    port = free_port()
    env = serve_env(data)
    serve_log = tmp_path / "serve.log"
    with serve_log.open("w") as out:
        serve = subprocess.Popen(
            [*ENTRY, "serve", "--no-scheduler", "--port", str(port), "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(serve, f"{url}/health", 60, "reviews serve", serve_log.read_text)
            time.sleep(3 * PERIOD)  # three periods of a due source with no scheduler anywhere
            assert runs(counted) == [], "reviews serve --no-scheduler ran a collection itself"
            with httpx.Client(base_url=url, timeout=30) as client:
                alone = client.get("/ready")
                assert alone.status_code == 503 and "scheduler" in alone.text, alone.text
                with scheduler(data, tmp_path / "s.log") as other:
                    ended = lambda: len([x for x in runs(counted) if x.kind == "end"])  # noqa: E731
                    wait_for("the scheduler's runs", lambda: ended() >= 2, 30)
                    wait_for("/ready to see the scheduler", lambda: client.get("/ready").status_code == 200, 30)
                    assert {line.pid for line in runs(counted)} == {other.pid}, runs(counted)
            assert serve.poll() is None
        finally:
            stop_process(serve, grace=10)

"""/health says the process answers; /ready says whether it can do its work (store, scheduler), and why not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from collectors.registry import REGISTRY
from reviews_service import readiness
from reviews_service import scheduler as scheduling
from reviews_service.api.deps import iso, now_dep
from reviews_service.app import create_app
from reviews_service.config import Settings
from reviews_service.scheduler import DEAD_AFTER, Scheduler
from reviews_service.state import ServiceState
from tests.conftest import NOW, make_settings


def test_health_keeps_its_shape_and_asks_nothing_of_the_store(client: TestClient) -> None:
    """Liveness: the process answers; the same fields as before /ready existed."""
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert set(answer.json()) == {"status", "version", "store", "persistent"}
    assert answer.headers["cache-control"] == "no-store"


def test_ready_is_503_until_a_scheduler_beats_and_says_so(client: TestClient) -> None:
    """No scheduler has ever run: not ready, with the store fine and a message that says what to start."""
    answer = client.get("/ready")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["retry-after"]
    body = answer.json()
    assert body["status"] == "not-ready"
    assert body["checks"]["store"] == {"ok": True}
    assert body["checks"]["scheduler"]["ok"] is False
    assert "reviews scheduler" in body["checks"]["scheduler"]["error"]


def test_ready_follows_the_schedulers_heartbeat(settings: Settings, client: TestClient, state: ServiceState) -> None:
    """A beating scheduler makes /ready 200; its beat going older than DEAD_AFTER, or a clean stop, makes it 503."""
    scheduler = Scheduler(settings, state, REGISTRY)
    assert scheduler.beat(NOW)
    answer = client.get("/ready")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ready"
    assert answer.json()["checks"]["scheduler"]["last_beat"] == iso(NOW)
    assert answer.headers["cache-control"] == "no-store"

    late = NOW + timedelta(seconds=DEAD_AFTER + 5)
    client.app.dependency_overrides[now_dep] = lambda: late  # type: ignore[attr-defined]
    stale = client.get("/ready")
    assert stale.status_code == 503
    assert "heartbeat is 65 s old" in stale.json()["checks"]["scheduler"]["error"]

    client.app.dependency_overrides[now_dep] = lambda: NOW  # type: ignore[attr-defined]
    other = Scheduler(settings, state, REGISTRY)
    assert not other.beat(NOW)  # one holds the heartbeat; the other's beat is refused, and that is fine
    scheduler.close()  # a clean stop gives the heartbeat up at once
    assert client.get("/ready").status_code == 503
    assert other.beat(NOW)  # and the other scheduler takes it over at its next beat
    assert client.get("/ready").status_code == 200
    other.close()


def test_the_schedulers_loop_beats(settings: Settings, client: TestClient, state: ServiceState) -> None:
    """run_pending (what the loop calls every second) writes the heartbeat, at most every BEAT_SECONDS."""
    scheduler = Scheduler(settings, state, REGISTRY)
    client.app.dependency_overrides[now_dep] = lambda: scheduling.datetime.now(scheduling.UTC)  # type: ignore[attr-defined]
    try:
        assert client.get("/ready").status_code == 503
        scheduler.run_pending()
        assert client.get("/ready").status_code == 200
    finally:
        scheduler.close()


def test_ready_says_so_when_no_scheduler_is_wanted(connected: object) -> None:
    """REVIEWS_READY_SCHEDULER=false: a deployment that runs no scheduler on purpose is ready, and /ready says why."""
    app = create_app(make_settings(REVIEWS_READY_SCHEDULER="false"), connect=False, state=ServiceState())
    with TestClient(app) as client:
        answer = client.get("/ready")
    assert answer.status_code == 200
    assert answer.json()["checks"]["scheduler"]["off"] is True
    assert "REVIEWS_READY_SCHEDULER=false" in answer.json()["checks"]["scheduler"]["detail"]


def test_a_check_that_breaks_is_a_failed_check_and_the_answer_keeps_both_keys(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the check")

    monkeypatch.setattr(readiness, "check", broken)
    body = client.get("/ready").json()
    assert body["status"] == "not-ready"
    assert body["checks"]["store"] == {"ok": False, "error": "the check failed: RuntimeError: a bug in the check"}
    assert body["checks"]["scheduler"]["ok"] is False and "unknown" in body["checks"]["scheduler"]["error"]

"""A database that fails is named in one line, and a request that meets a failing database is a 503, not a 500.
Secrets in settings never appear in an error."""

from __future__ import annotations

import subprocess
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from litemongo._vendor import mongomock
from pymongo.errors import AutoReconnect, ExecutionTimeout, ServerSelectionTimeoutError, WTimeoutError

from reviews_service import documents, domain, repository, store
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import REVIEWS, _env, free_port, make_settings, review
from tests.fake_mongod import FakeMongod

SECRET_TAIL = "tail-XYZ123"
PASSWORD = "mongo-pass-987"


def _serve(**env: str) -> subprocess.CompletedProcess[str]:
    """`python -m reviews_service.cli serve` that is expected to refuse to start."""
    return subprocess.run(
        [*REVIEWS, "serve", "--port", str(free_port())], capture_output=True, text=True, env=_env(**env), timeout=60
    )


@pytest.mark.parametrize(
    "failure",
    [
        AutoReconnect("connection reset"),
        ServerSelectionTimeoutError("no servers"),
        ExecutionTimeout("operation exceeded time limit", 50),
        WTimeoutError("waiting for replication timed out", 64),
    ],
    ids=["reconnect", "selection", "execution-timeout", "write-concern-timeout"],
)
def test_a_database_failure_during_a_request_is_a_503_problem(
    client: TestClient, state: ServiceState, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
) -> None:  # fmt: skip
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise failure

    for method in ("find", "find_one", "aggregate"):
        monkeypatch.setattr(mongomock.collection.Collection, method, fail)
    answer = client.get(f"/v1/business-units/{shop.slug}/reviews")
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["detail"] == "The database is unreachable; try again in a moment."
    assert state.store_health.down() is not None  # /ready says why; public reads go stale at once


def test_an_unreachable_mongodb_url_is_one_line_naming_the_host() -> None:
    port = free_port()  # bound and released: nothing listens there
    url = f"mongodb://shop:{PASSWORD}@127.0.0.1:{port}/reviews?serverSelectionTimeoutMS=300"
    run = _serve(MONGODB_URL=url)
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.startswith("reviews:")]
    assert len(lines) == 1, run.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "connection refused" in lines[0] and "Check that mongod" in lines[0]
    assert "Topology" not in run.stderr and PASSWORD not in run.stderr + run.stdout


@pytest.mark.parametrize(
    ("env", "variable", "rule"),
    [
        ({"REVIEWS_SECRET_KEY": f"short-{SECRET_TAIL}"[:15]}, "REVIEWS_SECRET_KEY", "shorter than 16 characters"),
        ({"REVIEWS_SECRET_KEY": "changeme"}, "REVIEWS_SECRET_KEY", "is a placeholder"),
        ({}, "REVIEWS_SECRET_KEY", "is not set"),
        (
            {"REVIEWS_SECRET_KEY": f"a-long-enough-{SECRET_TAIL}", "REVIEWS_ADMIN_TOKEN": f"t-{SECRET_TAIL}"},
            "REVIEWS_ADMIN_TOKEN",
            "shorter than 16 characters",
        ),
    ],
    ids=["short-key", "placeholder-key", "no-key", "short-token"],
)
def test_a_production_config_error_names_the_variable_and_rule_never_the_value(
    env: dict[str, str], variable: str, rule: str
) -> None:
    run = _serve(REVIEWS_ENV="production", MONGODB_URL=f"mongodb://shop:{PASSWORD}@127.0.0.1:1/reviews", **env)
    assert run.returncode == 2
    assert variable in run.stderr and rule in run.stderr, run.stderr
    if "shorter" in rule:
        assert "placeholder" not in run.stderr  # short is not the same as a placeholder
    for secret in (SECRET_TAIL, PASSWORD, "input_value"):
        assert secret not in run.stderr + run.stdout


def test_urls_with_passwords_are_secrets_in_settings() -> None:
    settings = Settings(  # type: ignore[call-arg]
        MONGODB_URL=f"mongodb://shop:{PASSWORD}@db/reviews", SMTP_URL=f"smtp://mail:{PASSWORD}@mx:25"
    )
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    assert settings.mongodb_url is not None and PASSWORD in settings.mongodb_url.get_secret_value()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mongodb://db:27017/reviews", {"serverSelectionTimeoutMS": 5000, "socketTimeoutMS": 10_000}),
        ("mongodb://db:27017/reviews?sockettimeoutms=60000", {"serverSelectionTimeoutMS": 5000}),
        ("mongodb://db/reviews?replicaSet=rs&serverSelectionTimeoutMS=300", {"socketTimeoutMS": 10_000}),
        ("mongodb://db/reviews?socketTimeoutMS=0&serverSelectionTimeoutMS=300", {}),
    ],
)
def test_the_client_gives_up_on_a_silent_server_unless_the_url_says_otherwise(
    url: str, expected: dict[str, int]
) -> None:
    assert store.client_timeouts(url) == expected


def test_a_read_from_a_mongod_that_stops_answering_gives_up_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(store.MONGO_TIMEOUTS, "socketTimeoutMS", 500)  # the default, 10 s, shortened for the test
    server = FakeMongod()
    try:
        store.connect(make_settings(MONGODB_URL=server.url))
        collection = documents.ChangeDoc._get_collection()
        assert collection.find_one({"_id": "x"}) is None
        server.stall.set()
        outcome: list[BaseException | None] = []

        def read() -> None:
            try:
                collection.find_one({"_id": "x"})
                outcome.append(None)
            except BaseException as exc:  # handed to the test thread
                outcome.append(exc)

        started = time.monotonic()
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(5)
        assert outcome, "the read was still waiting for the silent server after 5 s"
        assert isinstance(outcome[0], store.UNAVAILABLE), outcome  # a 503 and an outage, not a 500
        assert time.monotonic() - started < 3
    finally:
        store.disconnect()
        server.stop()


def _failing_summaries(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise AutoReconnect("connection reset (the store went down mid-write)")

    monkeypatch.setattr(repository, "apply_summary_deltas", fail)


HIDE = {"status": "hidden", "reason": "names a staff member", "category": "personal_data"}


def test_a_moderation_that_fails_halfway_still_takes_the_review_down_and_its_retry_mends_the_summary(
    client: TestClient, state: ServiceState, shop: domain.BusinessUnit, admin: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    ingest = f"/v1/admin/business-units/{shop.slug}/reviews"
    assert client.post(ingest, json=[review("a", 1, text="SECRET-TEXT of Ann")], headers=admin).status_code == 200
    assert "SECRET-TEXT" in client.get(f"/widgets/{shop.slug}/reviews.html").text
    with monkeypatch.context() as patch:
        _failing_summaries(patch)
        failed = client.patch(f"/v1/admin/reviews/{shop.slug}:api:a", json=HIDE, headers=admin)
    assert failed.status_code == 503  # the review is hidden in the store, its summary not moved
    during = client.get(f"/widgets/{shop.slug}/reviews.html")  # the outage: no stale copy with the review in it
    assert "SECRET-TEXT" not in during.text
    state.store_health.ok()
    assert "SECRET-TEXT" not in client.get(f"/widgets/{shop.slug}/reviews.html").text
    retried = client.patch(f"/v1/admin/reviews/{shop.slug}:api:a", json=HIDE, headers=admin)
    assert retried.status_code == 200
    assert client.get(f"/v1/business-units/{shop.slug}/summary").json()["review_count"] == 0


def test_an_ingest_that_fails_halfway_is_counted_right_by_the_next_write(
    client: TestClient, state: ServiceState, shop: domain.BusinessUnit, admin: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    ingest = f"/v1/admin/business-units/{shop.slug}/reviews"
    with monkeypatch.context() as patch:
        _failing_summaries(patch)
        assert client.post(ingest, json=[review("a", 1)], headers=admin).status_code == 503
    state.store_health.ok()
    assert client.post(ingest, json=[review("b", 5)], headers=admin).json()["inserted"] == 1
    summary = client.get(f"/v1/business-units/{shop.slug}/summary").json()
    assert summary["review_count"] == 2 and summary["histogram"]["1"] == 1, summary

"""Log lines: JSON or text, the request id on every answer and every line, route templates, no tokens or e-mails."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reviews_service import domain, logs, store
from reviews_service.app import create_app
from reviews_service.state import ServiceState
from tests.conftest import REVIEWS, _env, free_port, make_settings, stop_process, wait_until_up

TOKEN = "eyJhbGciOi.secret-form-token"
EMAIL = "jan@example.nl"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Everything logged during the test, formatted as `reviews serve` does in production (JSON)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    root, access, client = (logging.getLogger(name) for name in ("", logs.ACCESS_LOGGER, "httpx"))
    levels = root.level, access.level, client.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    access.setLevel(logging.INFO)
    client.setLevel(logging.WARNING)  # the test client's own request lines, as logs.configure() quiets them
    try:
        yield out
    finally:
        root.removeHandler(handler)
        for logger, level in zip((root, access, client), levels, strict=True):
            logger.setLevel(level)


def parsed(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def access_lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [line for line in parsed(out) if line["logger"] == logs.ACCESS_LOGGER]


@pytest.fixture
def app(connected: store.StoreInfo, state: ServiceState) -> FastAPI:
    app = create_app(make_settings(), connect=False, state=state)

    def chatty() -> dict[str, str]:  # a plain `def` route: FastAPI runs it in a worker thread
        logging.getLogger("reviews.test").warning("working on it")
        return {"ok": "yes"}

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test/chatty", chatty)
    app.add_api_route("/test/broken", broken)
    return app


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("abc-123", True), ("a" * 64, True), ("1-5f84c7a1:x.y_z", True), ("a" * 65, False), ("bad id", False),
     ("<script>", False), ("id\r\nX-Evil: 1", False), ("", False), ("ïd", False)],
)  # fmt: skip
def test_a_callers_request_id_is_kept_only_when_short_and_safe(sent: str, kept: bool) -> None:
    got = logs.RequestIds().of(sent.encode("utf-8"))
    if kept:
        assert got == sent
    else:
        assert got != sent and len(got) == 16 and all(c in "0123456789abcdef" for c in got)


def test_every_answer_carries_the_request_id_and_its_lines_do_too(
    app: FastAPI, shop: domain.BusinessUnit, lines: io.StringIO
) -> None:
    with TestClient(app) as client:
        chatty = client.get("/test/chatty", headers={"X-Request-ID": "req-42"})
        assert chatty.headers["x-request-id"] == "req-42"
        widget = client.get("/widgets/test-shop/badge.html", headers={"X-Request-ID": "bad id"})
        generated = widget.headers["x-request-id"]
        assert widget.status_code == 200 and generated != "bad id" and len(generated) == 16
        missing = client.get("/widgets/no-such-shop/badge.html")
        assert missing.status_code == 404 and missing.headers["x-request-id"]
        unknown = client.get("/nowhere")
        assert unknown.status_code == 404 and unknown.headers["x-request-id"]
        assert client.get("/metrics").headers["x-request-id"]
    worked = next(line for line in parsed(lines) if line["message"] == "working on it")
    assert worked["request_id"] == "req-42" and worked["level"] == "warning" and worked["logger"] == "reviews.test"
    routes = {line["request_id"]: line for line in access_lines(lines)}
    assert routes["req-42"]["route"] == "/test/chatty"
    badge = routes[generated]
    assert (badge["method"], badge["route"], badge["status"]) == ("GET", "/widgets/{bu}/badge.html", 200)
    assert badge["client"] == "testclient" and isinstance(badge["duration_ms"], float)
    assert set(badge) >= {"time", "level", "logger", "message", "request_id"}
    assert routes[unknown.headers["x-request-id"]]["route"] == "unmatched"


def test_an_unhandled_error_is_a_500_with_its_request_id_in_the_answer_and_the_log(
    app: FastAPI, lines: io.StringIO
) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/test/broken", headers={"X-Request-ID": "req-500"})
        assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["x-request-id"] == "req-500"
        metrics = client.get("/metrics").text
    logged = [line for line in parsed(lines) if line["request_id"] == "req-500"]
    bug = next(line for line in logged if line["message"] == "unhandled error")
    assert "RuntimeError: a bug" in bug["exception"]
    assert any(line.get("status") == 500 and line.get("route") == "/test/broken" for line in logged)
    assert 'reviews_http_requests_total{method="GET",route="/test/broken",status="500"} 1.0' in metrics


def test_form_links_and_query_strings_never_reach_the_logs(app: FastAPI, lines: io.StringIO) -> None:
    with TestClient(app) as client:
        client.get(f"/r/{TOKEN}?email={EMAIL}&token={TOKEN}")
        client.post(f"/r/{TOKEN}", data={"email": EMAIL})
        client.get(f"/widgets/x/badge.html?email={EMAIL}")
    text = lines.getvalue()
    assert {line["route"] for line in access_lines(lines)} >= {"/r/{token}", "/widgets/{bu}/badge.html"}
    assert TOKEN not in text and "secret-form-token" not in text and EMAIL not in text and "?" not in text


def test_text_lines_for_people_carry_the_id_too() -> None:
    record = logging.LogRecord("reviews.api", logging.WARNING, "", 0, "database unavailable", (), None)
    token = logs.REQUEST_ID.set("req-7")
    try:
        assert logs.TextFormatter().format(record) == "WARNING reviews.api: database unavailable [req-7]"
    finally:
        logs.REQUEST_ID.reset(token)
    assert logs.TextFormatter().format(record) == "WARNING reviews.api: database unavailable"


@pytest.mark.parametrize(
    ("asked", "env", "expected"),
    [(None, "production", "json"), (None, "development", "text"), (None, "test", "text"),
     ("text", "production", "text"), ("json", "development", "json")],
)  # fmt: skip
def test_the_log_format_follows_the_setting_else_the_environment(asked: str | None, env: str, expected: str) -> None:
    settings = make_settings(REVIEWS_ENV=env, REVIEWS_LOG_FORMAT=asked) if env != "production" else None
    if settings is not None:
        assert logs.format_for(settings.log_format, settings.env) == expected
    assert logs.format_for(asked, env) == expected


def test_reviews_serve_logs_one_json_object_per_line(tmp_path: Path) -> None:
    """The real server, REVIEWS_LOG_FORMAT=json: uvicorn's lines and ours are JSON, access lines name templates."""
    port = free_port()
    err = tmp_path / "serve.err"
    with err.open("w") as stderr, (tmp_path / "serve.out").open("w") as stdout:
        proc = subprocess.Popen(
            [*REVIEWS, "serve", "--port", str(port), "--log-level", "info"],
            env=_env(REVIEWS_LOG_FORMAT="json"), stdout=stdout, stderr=stderr, text=True,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(proc, f"{url}/health", 90, "reviews serve", err.read_text)
            badge = httpx.get(f"{url}/widgets/flinders-nl/badge.html", headers={"X-Request-ID": "from-nginx-1"})
            assert badge.status_code == 200 and badge.headers["x-request-id"] == "from-nginx-1"
            httpx.get(f"{url}/r/{TOKEN}?email={EMAIL}")
            metrics = httpx.get(f"{url}/metrics").text
        finally:
            stop_process(proc)
    text = err.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is one JSON object
    assert any(r["logger"].startswith("uvicorn") for r in records)
    access = [r for r in records if r["logger"] == logs.ACCESS_LOGGER]
    badge_line = next(r for r in access if r["request_id"] == "from-nginx-1")
    assert badge_line["route"] == "/widgets/{bu}/badge.html" and badge_line["client"] == "127.0.0.1"
    assert any(r["route"] == "/r/{token}" for r in access)
    assert TOKEN not in text and EMAIL not in text
    assert 'route="/widgets/{bu}/badge.html",status="200"' in metrics


def test_fresh_request_ids_do_not_repeat() -> None:
    ids, other = logs.RequestIds(), logs.RequestIds()
    made = [ids.new() for _ in range(10_000)]
    assert len(set(made)) == len(made) and all(len(i) == 16 for i in made)
    assert not {other.new() for _ in range(1000)} & set(made)  # another instance (app, replica): its own prefix

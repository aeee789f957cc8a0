"""The `reviews` command as a user runs it: real processes, a real server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from reviews_service import demo
from tests.conftest import LIVE_ADMIN_TOKEN as TOKEN
from tests.conftest import REVIEWS, _env


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*REVIEWS, *args], capture_output=True, text=True, timeout=120, env=env or _env())


@pytest.mark.parametrize(
    "args",
    [
        ["demo"],
        ["import", "reviews.csv", "--business-unit", "flinders-nl"],
        ["rebuild-summaries"],
        ["admin-token", "create", "--name", "ci"],
        ["scheduler"],
    ],
)
def test_commands_that_would_lose_their_writes_refuse_on_the_embedded_store(args: list[str], tmp_path: Path) -> None:
    if args[0] == "import":
        (tmp_path / "reviews.csv").write_text("id,rating\n1,5\n")
        args = ["import", str(tmp_path / "reviews.csv"), *args[2:]]
    result = _run(*args)
    assert result.returncode == 2
    assert "throw-away in-memory store" in result.stderr
    assert "MONGODB_URL" in result.stderr


def test_a_placeholder_secret_is_refused_in_production() -> None:
    result = _run("demo", env=_env(REVIEWS_ENV="production", REVIEWS_SECRET_KEY="changeme"))
    assert result.returncode == 2
    assert "REVIEWS_SECRET_KEY" in result.stderr


@pytest.fixture
def server(live_server: str) -> str:
    """The session's `reviews serve` process (tests/conftest.py), shared with the browser tests."""
    return live_server


def test_serve_runs_the_demo_shop_on_the_embedded_store(server: str) -> None:
    url = server
    health = httpx.get(f"{url}/health").json()
    assert health == {"status": "ok", "version": health["version"], "store": "embedded", "persistent": False}
    data = demo.dataset()
    for unit in data["business_units"]:
        shop_reviews = [r for r in data["reviews"][unit["slug"]] if r["product"] is None]
        summary = httpx.get(f"{url}/v1/business-units/{unit['slug']}/summary").json()
        assert summary["review_count"] == len(shop_reviews)
        assert summary["display"]["scale"] == unit["display_scale"]
        assert summary["histogram"]["1"] == sum(1 for r in shop_reviews if r["rating"] == 1) > 0
    page = httpx.get(f"{url}/v1/business-units/flinders-be/reviews", params={"product": "*", "limit": 100})
    assert {r["language"] for r in page.json()["items"]} >= {"nl", "fr"}
    assert "@example" not in page.text
    assert httpx.get(f"{url}/docs").status_code == 200


def test_import_through_a_running_service_with_progress(server: str, tmp_path: Path) -> None:
    url = server
    before = httpx.get(f"{url}/v1/business-units/flinders-nl/summary").json()["review_count"]
    csv_file = tmp_path / "reviews.csv"
    rows = ["external_id,rating,title,text,author,created_at"]
    rows += [
        f"cli-{i},{1 + i % 5},Titel {i},Prima stoel nummer {i},Jan {i},2026-05-0{1 + i % 9}T10:00:00Z"
        for i in range(30)
    ]
    rows.append("cli-bad,9,Bad,Out of range,Jan,2026-05-01T10:00:00Z")
    csv_file.write_text("\n".join(rows) + "\n")
    args = ["import", str(csv_file), "-b", "flinders-nl", "--format", "generic-csv", "--url", url]
    first = _run(*args, env=_env(REVIEWS_ADMIN_TOKEN=TOKEN))
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"inserted": 30, "updated": 0, "unchanged": 0, "rejected": 1}
    assert "rejected line 32: rating must be a whole number from 1 to 5, not 9" in first.stderr
    assert "chunk" in first.stderr  # the progress bar
    again = _run(*args, env=_env(REVIEWS_ADMIN_TOKEN=TOKEN))
    assert json.loads(again.stdout)["unchanged"] == 30
    after = httpx.get(f"{url}/v1/business-units/flinders-nl/summary").json()["review_count"]
    assert after == before + 30
    wrong_token = _run(*args, "--token", "nope")
    assert wrong_token.returncode == 2 and "401" in wrong_token.stderr


@pytest.mark.skipif(not os.environ.get("MONGODB_URL"), reason="needs a real MongoDB: set MONGODB_URL")
def test_admin_tokens_and_imports_on_a_real_mongodb(tmp_path: Path) -> None:
    env = {**os.environ}
    created = _run("admin-token", "create", "--name", "cli-test", env=env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().startswith("rvw_")
    listed = _run("admin-token", "list", env=env)
    assert "cli-test" in listed.stdout and "active" in listed.stdout

"""The `reviews` command as a user runs it: real processes, a real server on 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reviews_service import demo
from tests.conftest import LIVE_ADMIN_TOKEN as TOKEN
from tests.conftest import REVIEWS, _env, free_port, stop_process, wait_until_up


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
        ["collect", "trustpilot", "--business-unit", "flinders-nl"],
        ["rescore"],
    ],
)
def test_commands_that_would_lose_their_writes_refuse_on_the_in_memory_store(args: list[str], tmp_path: Path) -> None:
    if args[0] == "import":
        (tmp_path / "reviews.csv").write_text("id,rating\n1,5\n")
        args = ["import", str(tmp_path / "reviews.csv"), *args[2:]]
    result = _run(*args)  # REVIEWS_DATA_DIR=:memory: (see _env); with a data directory they write into it
    assert result.returncode == 2
    assert "throw-away in-memory store" in result.stderr
    assert "REVIEWS_DATA_DIR" in result.stderr and "MONGODB_URL" in result.stderr


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
    assert health == {"status": "ok", "version": health["version"], "store": "embedded", "persistent": True}
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
    # With REVIEWS_PUBLIC_URL unset, links in e-mails point at this very server (not a default port).
    auth = {"Authorization": f"Bearer {TOKEN}"}
    digest = httpx.get(f"{url}/v1/admin/business-units/flinders-nl/digests/2026-11-30", headers=auth).json()
    assert digest["links"]["page"].startswith(f"{url}/digests/flinders-nl/2026-11-30?")


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
    assert first.returncode == 1, first.stderr  # some records were rejected
    counts = {"inserted": 30, "updated": 0, "unchanged": 0, "rejected": 1, "ignored_fields": {}, "status_kept": 0}
    assert json.loads(first.stdout) == counts
    assert "rejected line 32: rating must be a whole number from 1 to 5, not 9" in first.stderr
    assert "1 of 31 records rejected" in first.stderr and "the other 30 are stored" in first.stderr
    assert re.search(r"31/31 .*review", first.stderr), first.stderr  # the progress bar counts reviews
    assert "chunk" not in first.stderr
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


# --- reviews import: what a user sees when something is off ----------------------------------------


@pytest.fixture(scope="module")
def import_unit(live_server: str) -> str:
    """A business unit of its own on the live server, so that these imports change no other test's counts."""
    answer = httpx.post(
        f"{live_server}/v1/admin/business-units",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"slug": "cli-imports", "name": "CLI imports", "locales": ["nl"], "display_scale": 5},
    )
    assert answer.status_code in (200, 201), answer.text
    return "cli-imports"


def _count(url: str, unit: str) -> int:
    count: int = httpx.get(f"{url}/v1/business-units/{unit}/summary").json()["review_count"]
    return count


def test_import_through_a_service_without_a_token_says_the_token_is_missing(
    live_server: str, import_unit: str, tmp_path: Path
) -> None:
    csv_file = tmp_path / "reviews.csv"
    csv_file.write_text("external_id,rating,created_at\nno-token-1,5,2026-05-01T10:00:00Z\n")
    env = {k: v for k, v in _env().items() if k != "REVIEWS_ADMIN_TOKEN"}
    args = ["import", str(csv_file), "-b", import_unit, "-f", "generic-csv", "--url", live_server]
    result = _run(*args, env=env)
    assert result.returncode == 2
    assert "Illegal header value" not in result.stderr and "Could not reach" not in result.stderr
    assert "No admin token for --url" in result.stderr
    assert "--token" in result.stderr and "REVIEWS_ADMIN_TOKEN" in result.stderr
    pasted = _run(*args, "--token", "rvw_abc def", env=env)
    assert pasted.returncode == 2 and "spaces" in pasted.stderr
    assert _count(live_server, import_unit) == 0


@pytest.mark.parametrize(
    ("fmt", "content", "says"),
    [
        ("jsonl", "external_id,rating,created_at\nx-1,5,2026-05-01T10:00:00Z\n", "It looks like CSV"),
        ("jsonl", '[{"external_id": "x-1", "rating": 5}]\n', "It looks like a JSON array"),
        ("trustpilot-csv", '{"external_id": "x-1", "rating": 5, "created_at": "2026-05-01"}\n', "It looks like JSON"),
        ("generic-csv", "id,filtered,pending,text,rating,title,likes,experienced,published\n", "trustpilot-csv file"),
    ],
)
def test_a_file_in_another_format_is_refused_before_anything_is_sent(
    live_server: str, import_unit: str, tmp_path: Path, fmt: str, content: str, says: str
) -> None:
    path = tmp_path / "reviews.txt"
    path.write_text(content)
    result = _run("import", str(path), "-b", import_unit, "-f", fmt, "--url", live_server, "--token", TOKEN)
    assert result.returncode == 2, result.stderr
    assert f"This is not a {fmt} file" in result.stderr and says in result.stderr
    assert "rejected line" not in result.stderr and result.stdout == ""
    # the endpoint refuses such a file the same way, as a whole
    answer = httpx.post(
        f"{live_server}/v1/admin/business-units/{import_unit}/imports",
        params={"format": fmt},
        content=content.encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"},
    )
    assert answer.status_code == 400 and says in answer.json()["detail"]
    assert _count(live_server, import_unit) == 0


def test_rejections_in_later_chunks_name_the_files_own_lines(
    live_server: str, import_unit: str, tmp_path: Path
) -> None:
    rows = ["external_id,rating,title,text,created_at"]
    rows.append('chunk-0,4,Twee regels,"eerste regel\ntweede regel",2026-05-01T10:00:00Z')  # one record, lines 2-3
    rows += [f"chunk-{i},{1 + i % 5},Titel,Tekst {i},2026-05-02T10:00:00Z" for i in range(1, 1500)]
    rows[1400] = "chunk-bad,0,Bad,Out of range,2026-05-02T10:00:00Z"  # record 1400 starts on file line 1402
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n")
    result = _run("import", str(path), "-b", import_unit, "-f", "generic-csv", "--url", live_server, "--token", TOKEN)
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["rejected"] == 1
    assert "rejected line 1402: rating must be a whole number from 1 to 5, not 0" in result.stderr
    assert "1500/1500" in result.stderr


def test_an_import_through_a_service_reports_the_fields_it_ignored(
    live_server: str, import_unit: str, tmp_path: Path
) -> None:
    path = tmp_path / "reviews.jsonl"
    lines = [
        json.dumps({"external_id": f"ign-{i}", "rating": 4, "created_at": "2026-05-03T10:00:00Z", "colour": "oak"})
        for i in range(1500)  # more than one chunk: the counts of every chunk add up
    ]
    path.write_text("\n".join(lines) + "\n")
    result = _run("import", str(path), "-b", import_unit, "-f", "jsonl", "--url", live_server, "--token", TOKEN)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ignored_fields"] == {"colour": 1500}


# --- --help -------------------------------------------------------------------------------------------


def _commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, (*prefix, name))


def test_every_commands_help_says_what_each_argument_is_and_shows_its_default() -> None:
    from reviews_service.cli import build_parser

    checked = 0
    for words, parser in _commands(build_parser()):
        result = _run(*words, "--help")
        assert result.returncode == 0, result.stderr
        text = " ".join(result.stdout.split())  # argparse wraps lines
        assert parser.description is None or " ".join(parser.description.split()) in text
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"reviews {' '.join(words)}: {action.dest} has no help"
            assert " ".join(action.help.split()) in text
            for choice in getattr(action, "_choices_actions", []):  # each subcommand's summary
                assert choice.help and " ".join(choice.help.split()) in text
            if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings:
                assert f"(default: {action.default})" in text, f"reviews {' '.join(words)} {action.dest}"
            checked += 1
    assert checked >= 15
    serve = _run("serve", "--help").stdout
    assert "(default: 127.0.0.1)" in serve and "(default: 8000)" in serve
    assert "exit status: 0 when every record was stored; 1 when some were rejected" in _run("import", "--help").stdout


# --- reviews serve: the first minutes ---------------------------------------------------------------


def test_serve_without_a_token_mints_one_and_says_once_what_it_runs_on(tmp_path: Path) -> None:
    port = free_port()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    env = {k: v for k, v in _env().items() if k != "REVIEWS_ADMIN_TOKEN"}
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen([*REVIEWS, "serve", "--port", str(port)], stdout=stdout, stderr=stderr, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(proc, f"{url}/health", 60, "reviews serve", lambda: out.read_text() + err.read_text())
            printed = out.read_text()
            [token] = re.findall(r"^admin token: (rvw_\S+)$", printed, re.M)
            tokens = httpx.get(f"{url}/v1/admin/tokens", headers={"Authorization": f"Bearer {token}"})
            assert tokens.status_code == 200
            [minted] = [t["name"] for t in tokens.json()["items"]]
            assert minted == f"reviews serve start-up {socket.gethostname()}:{proc.pid}"
            shop = httpx.get(f"{url}/v1/business-units/flinders-nl/summary").json()["review_count"]
        finally:
            stop_process(proc)
    everything = out.read_text() + err.read_text()
    assert everything.count(token) == 1, everything  # printed once, never logged
    assert everything.count("IN-MEMORY") == 1, everything  # the embedded-store warning, once
    assert "lost when it stops" in printed
    data = demo.dataset()["reviews"]["flinders-nl"]
    in_products = sum(1 for r in data if r["product"] is not None)
    assert f"flinders-nl: {shop} shop reviews and {in_products} product reviews" in printed
    assert shop == sum(1 for r in data if r["product"] is None)
    for line in (f"demo:        {url}/demo", f"API docs:    {url}/docs", f"health:      {url}/health"):
        assert line in printed


def test_serve_with_a_bootstrap_token_mints_none(live_server: str) -> None:
    tokens = httpx.get(f"{live_server}/v1/admin/tokens", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert not [t for t in tokens["items"] if t["name"].startswith("reviews serve start-up")]


def _serve_minting(data: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """`reviews serve` on `data` with no bootstrap token: its process, URL and the token it printed."""
    port = free_port()
    env = {k: v for k, v in _env(REVIEWS_DATA_DIR=str(data)).items() if k != "REVIEWS_ADMIN_TOKEN"}
    with log.open("w") as out:
        proc = subprocess.Popen([*REVIEWS, "serve", "--port", str(port)], stdout=out, stderr=out, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, f"{url}/health", 90, "reviews serve", log.read_text)
    [token] = re.findall(r"^admin token: (rvw_\S+)$", log.read_text(), re.M)
    return proc, url, token


def test_a_start_up_token_dies_with_its_run_even_after_kill_9(tmp_path: Path) -> None:
    """A run killed before it could revoke its token: the next start-up on that data directory revokes it."""
    first, url, old = _serve_minting(tmp_path / "data", tmp_path / "first.log")
    try:
        assert httpx.get(f"{url}/v1/admin/tokens", headers={"Authorization": f"Bearer {old}"}).status_code == 200
    finally:
        first.kill()  # SIGKILL: no `finally` of its own runs
        first.wait(30)
    second, url, new = _serve_minting(tmp_path / "data", tmp_path / "second.log")
    try:
        assert httpx.get(f"{url}/v1/admin/tokens", headers={"Authorization": f"Bearer {old}"}).status_code == 401
        listed = httpx.get(f"{url}/v1/admin/tokens", headers={"Authorization": f"Bearer {new}"}).json()["items"]
        alive = [t["name"] for t in listed if t.get("revoked_at") is None]
        assert alive == [f"reviews serve start-up {socket.gethostname()}:{second.pid}"]
        assert "indexed:" in (tmp_path / "second.log").read_text()
    finally:
        stop_process(second)

"""The embedded store on disk: what the service acknowledged survives `kill -9`, `serve`, `scheduler` and the CLI
share one data directory without losing writes, and production refuses a throw-away store. Real processes."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from reviews_service import demo, documents, ingest, repository, store
from reviews_service.config import Settings
from tests.conftest import REVIEWS, _env, free_port, serving, stop_process

TOKEN = "embedded-test-admin-token-0123456789"
SECRET = "a-long-enough-secret-key-for-tests"
UNIT = "flinders-nl"


def _run(*args: str, data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*REVIEWS, *args], capture_output=True, text=True, timeout=180, env=_env(REVIEWS_DATA_DIR=str(data), **env)
    )


@contextmanager
def _serving(data: Path, log_path: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`reviews serve` on `data`; yields its base URL and process (the test may kill it first)."""
    with serving(log_path, REVIEWS_DATA_DIR=str(data), REVIEWS_ADMIN_TOKEN=TOKEN, **env) as running:
        yield running


@contextmanager
def _reading(data: Path) -> Iterator[None]:
    """This test process connected to the data directory, as one more reader."""
    store.connect(Settings(REVIEWS_ENV="test", REVIEWS_DATA_DIR=str(data), MONGODB_URL=None))  # type: ignore[call-arg]
    try:
        yield
    finally:
        store.disconnect()


def _assert_summaries_equal_a_rebuild(unit: str) -> None:
    """The stored summaries are exactly what counting the stored reviews from scratch gives."""
    stored = repository.all_summaries(unit)
    fresh = ingest.compute_summaries(repository.iter_reviews(unit))
    assert set(stored) == set(fresh)
    for key, summary in fresh.items():
        assert ingest.same_figures(stored[key], summary), (key, stored[key], summary)


def _records(prefix: str, count: int, rating: int, sku: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "source": "api",
            "external_id": f"{prefix}-{i}",
            "rating": 1 + (rating + i) % 5,
            "title": f"{prefix} {i}",
            "text": f"Stevige stoel, goed geleverd ({prefix} {i}).",
            "author": f"Klant {i}",
            "created_at": f"2026-10-{1 + i % 28:02d}T10:00:00Z",
            **({"product": sku} if sku else {}),
        }
        for i in range(count)
    ]


def test_what_serve_acknowledged_survives_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    admin = {"Authorization": f"Bearer {TOKEN}"}
    sku = demo.dataset()["products"][UNIT][0]["sku"]
    with _serving(data, tmp_path / "first.log") as (url, proc):
        first_log = (tmp_path / "first.log").read_text()
        assert f"data:        the embedded store in {data.resolve()}" in first_log
        assert "demo shop:" in first_log  # an empty store gets the demo shop
        before = httpx.get(f"{url}/v1/business-units/{UNIT}/products/{sku}/summary").json()["review_count"]
        answer = httpx.post(
            f"{url}/v1/admin/business-units/{UNIT}/reviews", json=_records("k9", 25, 0, sku), headers=admin
        )
        assert answer.status_code == 200 and answer.json()["inserted"] == 25, answer.text
        page = httpx.get(f"{url}/v1/business-units/{UNIT}/reviews", params={"product": sku, "limit": 100}).json()
        hidden = next(r for r in page["items"] if r["title"] == "k9 3")
        moderated = httpx.patch(
            f"{url}/v1/admin/reviews/{hidden['id']}", json={"status": "hidden", "reason": "Spam"}, headers=admin
        )
        assert moderated.status_code == 200, moderated.text
        proc.kill()  # SIGKILL: no shutdown, no flush
        proc.wait(timeout=10)
    with _serving(data, tmp_path / "second.log") as (url, _):
        assert "demo shop:" not in (tmp_path / "second.log").read_text()  # not loaded again over the data
        summary = httpx.get(f"{url}/v1/business-units/{UNIT}/products/{sku}/summary").json()
        assert summary["review_count"] == before + 24  # 25 ingested, one hidden
        page = httpx.get(f"{url}/v1/business-units/{UNIT}/reviews", params={"product": sku, "limit": 100}).json()
        titles = {r["title"] for r in page["items"]}
        assert {f"k9 {i}" for i in range(25) if i != 3} <= titles and "k9 3" not in titles
        assert httpx.get(f"{url}/health").json()["persistent"] is True
    with _reading(data):
        _assert_summaries_equal_a_rebuild(UNIT)


def _csv(path: Path, prefix: str, shared: int, own: int, shift: int) -> Path:
    """A generic-csv file: `shared` ids every writer has (with ratings of its own) and `own` only this one has."""
    rows = ["source,external_id,rating,title,text,author,created_at"]
    ids = [f"both-{i}" for i in range(shared)] + [f"{prefix}-{i}" for i in range(own)]
    for i, external_id in enumerate(ids):
        day = f"2026-09-{1 + i % 28:02d}T10:00:00Z"
        rows.append(f"api,{external_id},{1 + (i + shift) % 5},Titel {i},Tekst {prefix} {i},Jan {i},{day}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_serve_scheduler_and_cli_share_one_data_dir_without_losing_writes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    loaded = _run("demo", data=data)
    assert loaded.returncode == 0, loaded.stderr
    shop_demo = sum(1 for r in demo.dataset()["reviews"][UNIT] if r["product"] is None)
    files = [_csv(tmp_path / f"{name}.csv", name, 150, 120, shift) for shift, name in enumerate(("a", "b", "c"))]
    with _serving(data, tmp_path / "serve.log") as (url, _):
        assert "demo shop:" not in (tmp_path / "serve.log").read_text()  # the CLI loaded it already
        scheduler = subprocess.Popen(
            [*REVIEWS, "scheduler"],
            env=_env(REVIEWS_DATA_DIR=str(data), REVIEWS_SECRET_KEY=SECRET),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        api_answers: list[int] = []

        def post_through_the_api() -> None:  # the API edits the shared ids too, in batches
            with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
                for round_ in range(4):
                    body = [{**r, "external_id": f"both-{i}"} for i, r in enumerate(_records("api", 150, round_))]
                    body += _records(f"api{round_}", 30, round_)
                    answer = http.post(f"{url}/v1/admin/business-units/{UNIT}/reviews", json=body)
                    api_answers.append(answer.status_code)

        poster = threading.Thread(target=post_through_the_api)
        imports = [
            subprocess.Popen(
                [*REVIEWS, "import", str(path), "-b", UNIT, "--format", "generic-csv"],
                env=_env(REVIEWS_DATA_DIR=str(data)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for path in files
        ]
        poster.start()
        minted = _run("admin-token", "create", "--name", "ci", data=data)
        results = [proc.communicate(timeout=240) for proc in imports]
        poster.join(timeout=240)
        stop_process(scheduler)
        assert minted.returncode == 0, minted.stderr
        for proc, (out, err) in zip(imports, results, strict=True):
            assert proc.returncode == 0, err
            assert json.loads(out)["rejected"] == 0
        assert api_answers == [200] * 4
        # a token minted by the CLI works at once on the running server
        token = minted.stdout.strip()
        units = httpx.get(f"{url}/v1/admin/business-units/{UNIT}", headers={"Authorization": f"Bearer {token}"})
        assert units.status_code == 200, units.text
    rebuilt = _run("rebuild-summaries", "-b", UNIT, data=data)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["differed"] == []  # every summary already equalled a count from scratch
    with _reading(data):
        _assert_summaries_equal_a_rebuild(UNIT)
        expected = shop_demo + 150 + 3 * 120 + 4 * 30  # every distinct id once, none lost
        assert repository.all_summaries(UNIT)[UNIT].count == expected
        assert documents.ReviewDoc.objects(business_unit=UNIT, product=None).count() == expected


def _increment(data: str, times: int) -> None:
    """One process's share of the race: `$inc` the same counter `times` times."""
    store.connect(Settings(REVIEWS_ENV="test", REVIEWS_DATA_DIR=data, MONGODB_URL=None))  # type: ignore[call-arg]
    collection = documents.SummaryDoc._get_collection()
    for _ in range(times):
        collection.update_one({"_id": "race"}, {"$inc": {"n": 1}}, upsert=True)
    store.disconnect()


def test_concurrent_increments_from_several_processes_all_count(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_increment, args=(str(tmp_path), 150)) for _ in range(3)]
    for worker in workers:
        worker.start()
    threads = [threading.Thread(target=_increment_here, args=(tmp_path, 100)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    for thread in threads:
        thread.join(timeout=120)
    with _reading(tmp_path):
        assert documents.SummaryDoc._get_collection().find_one({"_id": "race"})["n"] == 3 * 150 + 2 * 100


_here = threading.Lock()


def _increment_here(data: Path, times: int) -> None:
    """Threads of this process race too, on one connection (the API's threadpool does that)."""
    with _here:
        if store.current() is None:
            store.connect(Settings(REVIEWS_ENV="test", REVIEWS_DATA_DIR=str(data), MONGODB_URL=None))  # type: ignore[call-arg]
    collection = documents.SummaryDoc._get_collection()
    for _ in range(times):
        collection.update_one({"_id": "race"}, {"$inc": {"n": 1}}, upsert=True)


def test_production_refuses_a_throw_away_store(tmp_path: Path) -> None:
    run = _run(
        "serve", "--port", str(free_port()), data=Path(":memory:"), REVIEWS_ENV="production", REVIEWS_SECRET_KEY=SECRET
    )
    assert run.returncode == 2
    assert "REVIEWS_DATA_DIR is :memory:" in run.stderr and "throw-away" in run.stderr, run.stderr
    assert "MONGODB_URL" in run.stderr


def test_production_on_the_embedded_store_says_it_is_single_machine(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with _serving(tmp_path / "data", log, REVIEWS_ENV="production", REVIEWS_SECRET_KEY=SECRET) as (url, _):
        assert httpx.get(f"{url}/health").status_code == 200
    text = log.read_text()
    assert f"the embedded store in {(tmp_path / 'data').resolve()}" in text
    assert "single-machine" in text and "several API replicas use MongoDB" in text


def test_commands_write_into_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _run("demo", data=data).returncode == 0
    minted = _run("admin-token", "create", "--name", "ci", data=data)
    assert minted.returncode == 0, minted.stderr
    listed = _run("admin-token", "list", data=data)
    assert "ci" in listed.stdout and "active" in listed.stdout
    rebuilt = _run("rebuild-summaries", data=data)
    assert rebuilt.returncode == 0 and json.loads(rebuilt.stdout)["differed"] == []
    with _reading(data):
        assert {u.slug for u in repository.list_business_units()} >= {UNIT}


def test_string_equality_and_in_answer_as_mongodb_does(connected: store.StoreInfo) -> None:
    """The adapter tests string `$in` with a set: arrays, missing fields and other types still match as in MongoDB."""
    collection = documents.SummaryDoc._get_collection()
    stored = [{"_id": "a", "tag": "x"}, {"_id": "b", "tag": ["x", "y"]}, {"_id": "c", "tag": "z"}, {"_id": "d"}]
    collection.insert_many([*stored, {"_id": "e", "tag": 5}])

    def ids(query: dict[str, Any]) -> list[str]:
        return sorted(doc["_id"] for doc in collection.find(query))

    assert ids({"tag": {"$in": ["x"]}}) == ["a", "b"]
    assert ids({"tag": "y"}) == ["b"]
    assert ids({"_id": {"$in": ["a", "c", "nope"]}}) == ["a", "c"]
    assert ids({"_id": {"$in": ["a", "b"]}, "tag": "x"}) == ["a", "b"]
    assert ids({"tag": {"$in": []}}) == []
    assert collection.count_documents({"_id": {"$in": ["d", "e"]}}) == 2
    assert collection.update_many({"tag": {"$in": ["z", "y"]}}, {"$set": {"seen": True}}).modified_count == 2


def _edit_elsewhere(data: str) -> None:
    """Another process: change one document, delete one, add one."""
    store.connect(Settings(REVIEWS_ENV="test", REVIEWS_DATA_DIR=data, MONGODB_URL=None))  # type: ignore[call-arg]
    collection = documents.SummaryDoc._get_collection()
    collection.update_one({"_id": "a"}, {"$set": {"tag": "changed"}})
    collection.delete_one({"_id": "b"})
    collection.insert_one({"_id": "c", "tag": "new"})
    store.disconnect()


def test_a_process_reads_what_another_process_wrote_since_it_last_looked(tmp_path: Path) -> None:
    with _reading(tmp_path):
        collection = documents.SummaryDoc._get_collection()
        collection.insert_many([{"_id": "a", "tag": "old"}, {"_id": "b", "tag": "old"}])
        assert sorted(d["_id"] for d in collection.find({"tag": "old"})) == ["a", "b"]  # indexed and cached here
        worker = multiprocessing.get_context("spawn").Process(target=_edit_elsewhere, args=(str(tmp_path),))
        worker.start()
        worker.join(timeout=60)
        assert worker.exitcode == 0
        assert list(collection.find({"tag": "old"})) == []
        assert {d["_id"]: d["tag"] for d in collection.find()} == {"a": "changed", "c": "new"}
        assert collection.find_one({"_id": {"$in": ["b", "c"]}}) == {"_id": "c", "tag": "new"}

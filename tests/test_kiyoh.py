"""Kiyoh: the parser on golden files, and whole syncs against the fake Kiyoh (a real HTTP server) through its
faults, each ending with the store equal to the platform's truth: same ids, scores, texts and replies, nothing
extra, nothing counted twice on a rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from collectors.base import CollectReport, collect_now
from collectors.fakes.kiyoh import FakeKiyoh
from collectors.http import Backoff, Timeouts
from collectors.kiyoh import KiyohCollector
from collectors.kiyoh_parse import parse
from reviews_service import domain, repository, source_store, store
from reviews_service.config import Settings
from reviews_service.errors import SourceConfigError, SourceError
from reviews_service.normalize import stars_on_scale
from reviews_service.state import ServiceState
from tests.conftest import make_settings

FIXTURES = Path(__file__).parent / "fixtures" / "kiyoh"
TOKEN = "fake-kiyoh-token-0123456789"


def _parsed_json(payload: Any) -> list[dict[str, Any]]:
    return [{**asdict(r), "updated": r.updated.isoformat() if r.updated else None} for r in parse(payload)]


def test_the_parser_reads_the_golden_page() -> None:
    """Score rule, title/text/reply, private order reference, custom and IMAGE answers, an unknown language."""
    payload = json.loads((FIXTURES / "page.json").read_text())
    assert _parsed_json(payload) == json.loads((FIXTURES / "page.expected.json").read_text())


def test_an_answer_without_reviews_is_a_source_error() -> None:
    """A host that is not the publication API answers something else: said so, not taken as zero reviews."""
    with pytest.raises(SourceError, match="KIYOH_API_URL"):
        parse({"httpCode": 200})


def test_one_to_ten_maps_to_stars_by_ceil_of_half() -> None:
    """1-2 -> 1 ... 9-10 -> 5; monotonic on every tenth; 1-5 stays as it is."""
    assert [stars_on_scale(score, 10) for score in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    tenths = [stars_on_scale(n / 10, 10) for n in range(10, 101)]
    assert tenths == sorted(tenths) and set(tenths) == {1, 2, 3, 4, 5}
    assert [stars_on_scale(score, 5) for score in range(1, 6)] == [1, 2, 3, 4, 5]


@pytest.fixture
def fake() -> Any:
    with FakeKiyoh(token=TOKEN) as server:
        server.retry_after = 0
        yield server


@pytest.fixture
def kiyoh_settings() -> Settings:
    return make_settings(KIYOH_API_TOKEN=TOKEN)


def _unit(state: ServiceState, fake: FakeKiyoh, scale: int = 10, **config: Any) -> domain.BusinessUnit:
    source = {"location_id": fake.location_id, "host": fake.url, "page_size": 20, **config}
    unit = domain.BusinessUnit(
        slug="eik-nl", name="De Eik", locales=("nl",), display_scale=scale, sources={"kiyoh": source}
    )
    repository.save_business_unit(state, unit)
    return unit


def _collect(state: ServiceState, settings: Settings, attempts: int = 5) -> CollectReport:
    """One sync with a read timeout of 1 s and retries 10 ms apart (the fake's slow answer takes 2 s)."""
    timeouts, backoff = Timeouts(read=1.0, total=30.0), Backoff(attempts=attempts, initial=0.01, jitter=0.01)
    collector = {"kiyoh": lambda: KiyohCollector(timeouts=timeouts, backoff=backoff)}
    return collect_now(state, settings, collector, "eik-nl", "kiyoh")  # type: ignore[arg-type]


def _assert_store_is_the_truth(state: ServiceState, fake: FakeKiyoh) -> None:
    stored = {r.external_id: r for r in repository.iter_reviews("eik-nl")}
    truth = fake.truth()
    assert set(stored) == set(truth)  # same ids, nothing extra
    for review_id, expected in truth.items():
        got = stored[review_id]
        assert (got.source_rating, got.source_scale, got.title, got.text, got.reply) == (
            expected["score"], 10, expected["title"], expected["text"], expected["reply"],
        )  # fmt: skip
        assert got.rating == stars_on_scale(expected["score"], 10)
    summary = repository.get_summary(state, "eik-nl")
    assert summary.count == len(truth)
    assert sum(r * c for r, c in summary.histogram.items()) == sum(r.rating for r in stored.values())


@pytest.mark.parametrize(
    "faults",
    [("429", "429"), ("500", "503", "500"), ("slow",), ("torn",), ("cut",), ("ok", "503", "ok", "torn", "500")],
    ids=["429-retry-after", "5xx-burst", "slower-than-timeout", "torn-json", "cut-body", "mixed-mid-sync"],
)
def test_a_sync_through_faults_ends_equal_to_the_platform(
    connected: object, state: ServiceState, kiyoh_settings: Settings, fake: FakeKiyoh, faults: tuple[str, ...]
) -> None:
    """Every fault is retried; the store ends equal to the fake's truth, and a rerun changes nothing."""
    fake.slow_seconds = 2.0
    fake.add(90, same_instant=4)
    _unit(state, fake)
    fake.fail(*faults)
    report = _collect(state, kiyoh_settings)
    assert report.inserted == 90 and report.retries >= len([f for f in faults if f != "ok"])
    _assert_store_is_the_truth(state, fake)
    again = _collect(state, kiyoh_settings)
    assert (again.inserted, again.updated, again.calls) == (0, 0, 1)
    _assert_store_is_the_truth(state, fake)


def test_equal_timestamps_across_pages_are_neither_lost_nor_doubled(
    connected: object, state: ServiceState, kiyoh_settings: Settings, fake: FakeKiyoh
) -> None:
    """Seven reviews share each instant and pages hold five; a page wholly at one seen instant grows the page."""
    fake.add(70, same_instant=7)
    fake.add(12, seed=2, same_instant=12)  # more at one instant than a page holds
    _unit(state, fake, page_size=5)
    report = _collect(state, kiyoh_settings)
    assert (report.inserted, report.updated, report.rejected) == (82, 0, [])
    _assert_store_is_the_truth(state, fake)
    checkpoint = source_store.get_source_state("eik-nl", "kiyoh").checkpoint
    assert len(checkpoint["ids"]) == 12  # the newest instant's ids
    assert _collect(state, kiyoh_settings).inserted == 0


def test_edits_between_runs_arrive_as_updates(
    connected: object, state: ServiceState, kiyoh_settings: Settings, fake: FakeKiyoh
) -> None:
    """A new score, title, text or reply on the platform moves the stored review (and its stars) on the next run."""
    ids = fake.add(30)
    _unit(state, fake)
    _collect(state, kiyoh_settings)
    fake.edit(ids[0], score=2, reply="Excuses, we bellen u vandaag nog.")
    fake.edit(ids[1], title="Toch tevreden", text="Na de reparatie is alles in orde.")
    fake.edit(ids[2], score=fake.reviews[ids[2]].score)  # touched, nothing changed
    fake.add(5, seed=3)
    report = _collect(state, kiyoh_settings)
    assert (report.inserted, report.updated, report.unchanged) == (5, 2, 1)
    _assert_store_is_the_truth(state, fake)
    assert repository.get_review(f"eik-nl:kiyoh:{ids[0]}").rating == 1


def test_a_sync_that_fails_midway_resumes_without_loss_or_doubles(
    connected: object, state: ServiceState, kiyoh_settings: Settings, fake: FakeKiyoh
) -> None:
    """Page 3 fails past every retry: pages 1-2 stay stored and checkpointed, the next run does the rest."""
    fake.add(100, same_instant=3)
    _unit(state, fake)
    fake.fail("ok", "ok", "500", "500")
    with pytest.raises(SourceError, match="500"):
        _collect(state, kiyoh_settings, attempts=2)
    failed = source_store.get_source_state("eik-nl", "kiyoh")
    assert failed.last_outcome == "failed" and "answered HTTP 500" in (failed.last_error or "")
    kept = len(list(repository.iter_reviews("eik-nl")))
    assert 0 < kept < 100
    report = _collect(state, kiyoh_settings)
    assert report.inserted == 100 - kept
    _assert_store_is_the_truth(state, fake)


def test_a_wrong_token_is_a_config_error_with_kiyohs_message(
    connected: object, state: ServiceState, fake: FakeKiyoh
) -> None:
    """Kiyoh's 401 is shown as the refused token, with the message Kiyoh gave; no retry, nothing stored."""
    fake.add(3)
    _unit(state, fake)
    with pytest.raises(SourceConfigError) as caught:
        _collect(state, make_settings(KIYOH_API_TOKEN="not-the-token"))
    assert caught.value.status == 422
    assert "refused the publication API token (KIYOH_API_TOKEN)" in caught.value.detail
    assert "not valid for this location" in caught.value.detail
    assert fake.calls == 1 and not list(repository.iter_reviews("eik-nl"))


def test_other_bad_configuration_is_refused_before_any_call(
    connected: object, state: ServiceState, kiyoh_settings: Settings, fake: FakeKiyoh
) -> None:
    """No token, no location, a host that is no URL; an unknown location gets Kiyoh's own message."""
    _unit(state, fake)
    with pytest.raises(SourceConfigError, match="KIYOH_API_TOKEN is not set"):
        _collect(state, make_settings())
    for config, words in (({"location_id": ""}, "needs `location_id`"), ({"host": "ftp:/x"}, "not an http")):
        _unit(state, fake, **config)
        with pytest.raises(SourceConfigError, match=words):
            _collect(state, kiyoh_settings)
    assert fake.calls == 0
    _unit(state, fake, location_id="999")
    with pytest.raises(SourceConfigError, match="Kiyoh knows no location 999"):
        _collect(state, kiyoh_settings)


def test_the_public_answer_shows_the_score_on_ten_and_never_the_order_reference(
    client: TestClient, state: ServiceState, kiyoh_settings: Settings, fake: FakeKiyoh
) -> None:
    """A shop shown on 10 sees Kiyoh's 8 / 10 beside the 4 stars; a shop on 5 sees stars only."""
    (first,) = fake.add(1)
    fake.edit(first, score=8, reference="ORD-SECRET-1")
    _unit(state, fake)
    _collect(state, kiyoh_settings)
    page = client.get("/v1/business-units/eik-nl/reviews").json()
    (item,) = page["items"]
    assert (item["rating"], item["score"]) == (4, {"value": 8.0, "scale": 10})
    assert "ORD-SECRET-1" not in json.dumps(page)
    repository.update_business_unit(state, "eik-nl", {"display_scale": 5})
    (item,) = client.get("/v1/business-units/eik-nl/reviews").json()["items"]
    assert (item["rating"], item["score"]) == (4, None)


SYNC = """
from collectors.base import collect_now
from collectors.http import Backoff, Timeouts
from collectors.kiyoh import KiyohCollector
from reviews_service import store
from reviews_service.config import Settings
from reviews_service.state import ServiceState

settings = Settings()
store.connect(settings)
collect_now(ServiceState(), settings, {"kiyoh": KiyohCollector}, "eik-nl", "kiyoh")
"""


def test_kill_9_in_the_middle_of_a_sync_then_a_restart(tmp_path: Path, fake: FakeKiyoh) -> None:
    """A sync process killed between pages keeps what it checkpointed; the restarted one finishes, nothing twice."""
    fake.add(120, same_instant=3)
    env = {**os.environ, "REVIEWS_DATA_DIR": str(tmp_path), "KIYOH_API_TOKEN": TOKEN, "REVIEWS_ENV": "test"}
    on_disk = make_settings(REVIEWS_DATA_DIR=str(tmp_path), MONGODB_URL=None)
    env.pop("MONGODB_URL", None)
    env["MONGODB_DB"] = on_disk.mongodb_db
    store.connect(on_disk)
    try:
        state = ServiceState()
        _unit(state, fake, page_size=10)
        fake.delay = 0.3
        proc = subprocess.Popen([sys.executable, "-c", SYNC], env=env, cwd=Path(__file__).parents[1])
        deadline = time.monotonic() + 30
        while fake.calls < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        kept = {r.external_id for r in repository.iter_reviews("eik-nl")}
        assert 0 < len(kept) < 120
        checkpoint = source_store.get_source_state("eik-nl", "kiyoh").checkpoint
        assert checkpoint["updated_since"]
        fake.delay = 0.0
        restarted = subprocess.run([sys.executable, "-c", SYNC], env=env, cwd=Path(__file__).parents[1], timeout=60)
        assert restarted.returncode == 0
        state = ServiceState()  # a fresh instance: nothing cached from before the other processes wrote
        _assert_store_is_the_truth(state, fake)
    finally:
        store.disconnect()


def test_a_review_edited_while_paging_moves_to_the_end_and_is_stored_as_edited(
    connected: object, state: ServiceState, kiyoh_settings: Settings, fake: FakeKiyoh
) -> None:
    """Edited after page 1 was read, a review of page 1 and one of a later page both end up in their edited form."""
    ids = fake.add(60)

    def edit_midway(number: int) -> None:
        if number == 2:
            fake.edit(ids[3], score=1, text="Toch kapot na een week.")
            fake.edit(ids[45], title="Gewijzigd tijdens het lezen")

    fake.before_answer = edit_midway
    _unit(state, fake)
    report = _collect(state, kiyoh_settings)
    assert (report.inserted, report.updated) == (60, 1)  # ids[45] arrived once, already edited
    _assert_store_is_the_truth(state, fake)

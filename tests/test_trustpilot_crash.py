"""`kill -9` of a `reviews collect trustpilot` process in the middle of a sync, then a rerun: the rerun resumes
after the last saved page, and the store ends equal to the fake's truth (nothing lost, nothing twice)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.fakes.trustpilot import FakeTrustpilot
from reviews_service import domain, repository, source_store, store
from reviews_service.state import ServiceState
from tests.conftest import REVIEWS, _env, make_settings
from tests.trustpilot_helpers import RECENT, stored, truth

SETUP = """
from reviews_service import domain, repository, store
from reviews_service.config import Settings
from reviews_service.state import ServiceState
store.connect(Settings())
unit = domain.BusinessUnit(slug="test-shop", name="Test Shop", domain="shop.example", locales=("en",),
                           sources={"trustpilot": {"domain": "shop.example", "every_minutes": 15}})
repository.save_business_unit(ServiceState(), unit)
"""


@pytest.fixture
def fake() -> Iterator[FakeTrustpilot]:
    with FakeTrustpilot() as server:
        server.add(1000, newest=RECENT)
        yield server


def test_kill_9_mid_sync_then_a_rerun_resumes_without_loss_or_doubles(tmp_path: Path, fake: FakeTrustpilot) -> None:
    env = _env(REVIEWS_DATA_DIR=str(tmp_path / "data"), TRUSTPILOT_API_URL=fake.url, TRUSTPILOT_API_KEY=fake.api_key)
    subprocess.run([REVIEWS[0], "-c", SETUP], env=env, check=True, timeout=60)
    fake.faults.hold_after_page = 4  # the process waits for page 5, with pages 1-4 stored and checkpointed
    first = subprocess.Popen([*REVIEWS, "collect", "trustpilot", "-b", "test-shop"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while fake.calls("reviews?") < 5 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3)  # it is now blocked on page 5
        assert first.poll() is None, first.communicate()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    fake.faults.hold_after_page = None
    fake.faults.release.set()
    rerun = subprocess.run([*REVIEWS, "collect", "trustpilot", "-b", "test-shop"], env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert report["pages"] == 10 - 4  # resumed at page 5 of 10: pages 1-4 were not read again
    assert report["inserted"] == 1000 - 400
    store.connect(make_settings(REVIEWS_DATA_DIR=str(tmp_path / "data"), MONGODB_URL=None, MONGODB_DB="reviews"))
    try:
        assert stored() == truth(fake)
        summary = repository.get_summary(ServiceState(), "test-shop")
        assert summary.count == 1000
        assert summary.histogram == {n: sum(1 for r in fake.reviews.values() if r.stars == n) for n in domain.RATINGS}
        assert "sync" not in source_store.get_source_state("test-shop", "trustpilot").checkpoint
    finally:
        store.disconnect()

"""The sources endpoints: each source's state (credentials never shown), and one collection now, refused with a
409 while another runner holds its lease and with a 422 naming the known sources for an unknown one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain, repository, source_store
from reviews_service.collection import Registry, lease_key
from reviews_service.state import ServiceState
from tests.counting_collector import REGISTRY

UNITS = "/v1/admin/business-units"


@pytest.fixture
def registry() -> Registry:
    return REGISTRY


@pytest.fixture
def counted(shop: domain.BusinessUnit, state: ServiceState, tmp_path: Path) -> Path:
    """The shop with the counting source (every 30 minutes, a key beside it); the file it counts runs in."""
    log = tmp_path / "runs.log"
    config = {"log": str(log), "every_minutes": 30, "api_key": "k-never-shown", "auth": {"password": "pw"}}
    repository.update_business_unit(state, shop.slug, {"sources": {"counting": config}})
    return log


def _sources(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"{UNITS}/test-shop/sources", headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_collect_now_answers_its_report_and_the_sources_show_it(
    client: TestClient, admin: dict[str, str], counted: Path
) -> None:
    before = _sources(client, admin)
    assert before["known_sources"] == ["counting"]
    [fresh] = before["items"]
    assert (fresh["source"], fresh["last_outcome"], fresh["next_run_at"], fresh["running"]) == (
        "counting", None, None, None,
    )  # fmt: skip
    response = client.post(f"{UNITS}/test-shop/collect/counting", headers=admin)
    assert response.status_code == 200, response.text
    assert (response.json()["fetched"], response.json()["inserted"]) == (1, 1)
    assert counted.read_text().count("end ") == 1
    body = client.get(f"{UNITS}/test-shop/sources", headers=admin)
    [item] = body.json()["items"]
    assert (item["last_outcome"], item["failures"], item["last_error"], item["every_minutes"]) == ("ok", 0, None, 30)
    assert item["checkpoint"] == {"runs": 1, "api_token": "[redacted]"}
    assert item["config"]["api_key"] == item["config"]["auth"] == "[redacted]"
    assert item["last_report"]["inserted"] == 1 and item["next_run_at"] is not None
    assert "never-shown" not in body.text and '"pw"' not in body.text


def test_collect_while_the_scheduler_runs_it_is_a_409_naming_the_holder(
    client: TestClient, admin: dict[str, str], counted: Path
) -> None:
    key = lease_key("test-shop", "counting")
    assert source_store.take_lease(key, "scheduler:h:1:x", now=datetime.now(UTC), seconds=60)  # leases: real time
    response = client.post(f"{UNITS}/test-shop/collect/counting", headers=admin)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Collecting counting for test-shop is running right now (by scheduler:h:1:x" in response.json()["detail"]
    assert not counted.exists()  # nothing ran
    assert _sources(client, admin)["items"][0]["running"]["owner"] == "scheduler:h:1:x"


def test_an_unknown_or_unconfigured_source_is_a_422_naming_the_known_ones(
    client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit
) -> None:
    unknown = client.post(f"{UNITS}/test-shop/collect/trustpilt", headers=admin)
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "unknown source 'trustpilt'; known sources: counting"
    unconfigured = client.post(f"{UNITS}/test-shop/collect/counting", headers=admin)
    assert unconfigured.status_code == 422
    assert "test-shop has no 'counting' source configured" in unconfigured.json()["detail"]
    assert client.post(f"{UNITS}/no-such-shop/collect/counting", headers=admin).status_code == 404
    assert client.get(f"{UNITS}/no-such-shop/sources", headers=admin).status_code == 404


def test_a_failing_collection_is_a_problem_and_is_recorded(
    client: TestClient, admin: dict[str, str], state: ServiceState, counted: Path
) -> None:
    repository.update_business_unit(
        state, "test-shop", {"sources": {"counting": {"log": str(counted), "fail": "source"}}}
    )
    response = client.post(f"{UNITS}/test-shop/collect/counting", headers=admin)
    assert response.status_code == 502
    assert response.json()["detail"] == "the counting platform answered 503 three times"
    [item] = _sources(client, admin)["items"]
    assert (item["last_outcome"], item["failures"]) == ("failed", 1)
    assert item["last_error"] == "the counting platform answered 503 three times"


def test_the_sources_need_an_admin_token(client: TestClient, counted: Path) -> None:
    assert client.get(f"{UNITS}/test-shop/sources").status_code == 401
    assert client.post(f"{UNITS}/test-shop/collect/counting").status_code == 401
    assert not counted.exists()

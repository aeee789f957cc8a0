"""Sources checked when a unit is saved, against the fake Trustpilot and the fake Kiyoh (real servers on
127.0.0.1): a configuration that cannot work is a 422 naming the problem and saves nothing; one that cannot be
checked now (platform down, credential not set yet) is saved with a warning."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from collectors.fakes.kiyoh import FakeKiyoh
from collectors.fakes.trustpilot import FakeTrustpilot
from reviews_service import domain, source_store, store
from reviews_service.app import create_app
from reviews_service.state import ServiceState
from tests.conftest import ADMIN_TOKEN, free_port, make_settings
from tests.trustpilot_helpers import collect

KIYOH_TOKEN = "fake-kiyoh-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def trustpilot() -> Iterator[FakeTrustpilot]:
    with FakeTrustpilot() as server:
        yield server


@pytest.fixture
def kiyoh() -> Iterator[FakeKiyoh]:
    with FakeKiyoh(token=KIYOH_TOKEN) as server:
        server.retry_after = 0
        yield server


def app_client(state: ServiceState, **env: Any) -> TestClient:
    """The whole app with these settings (the platforms' URLs and credentials), on the test's store."""
    return TestClient(create_app(make_settings(**env), connect=False, state=state))


def save(client: TestClient, sources: dict[str, Any], slug: str = "test-shop", **fields: Any) -> Any:
    """POST the unit with these sources; the answer."""
    body = {"slug": slug, "name": "Test Shop", "sources": sources, **fields}
    return client.post("/v1/admin/business-units", json=body, headers=ADMIN)


def stored_sources(client: TestClient, slug: str = "test-shop") -> Any:
    return client.get(f"/v1/admin/business-units/{slug}", headers=ADMIN).json()["sources"]


def test_a_wrong_trustpilot_key_is_refused_and_nothing_is_saved(
    shop: domain.BusinessUnit, state: ServiceState, trustpilot: FakeTrustpilot
) -> None:
    client = app_client(state, TRUSTPILOT_API_URL=trustpilot.url, TRUSTPILOT_API_KEY="not-the-key")
    answer = save(client, {"trustpilot": {"domain": "shop.example"}}, domain="other.example")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["detail"].startswith("the Trustpilot API key was refused")
    patched = client.patch(
        "/v1/admin/business-units/test-shop", json={"sources": {"trustpilot": {"domain": "x.example"}}}, headers=ADMIN
    )
    assert patched.status_code == 422 and "API key was refused" in patched.json()["detail"]
    unit = client.get("/v1/admin/business-units/test-shop", headers=ADMIN).json()
    assert unit["sources"] == {} and unit["domain"] == "shop.example"  # nothing of either request was saved
    assert source_store.source_states("test-shop") == {}


def test_an_unknown_domain_or_id_is_refused_naming_it(
    shop: domain.BusinessUnit, state: ServiceState, trustpilot: FakeTrustpilot
) -> None:
    client = app_client(state, TRUSTPILOT_API_URL=trustpilot.url, TRUSTPILOT_API_KEY=trustpilot.api_key)
    answer = save(client, {"trustpilot": {"domain": "nowhere.example"}})
    assert answer.status_code == 422
    assert "Trustpilot knows no business unit for the domain 'nowhere.example'" in answer.json()["detail"]
    answer = save(client, {"trustpilot": {"business_unit_id": "0000000000000000000000ff"}})
    assert answer.status_code == 422 and "'0000000000000000000000ff'" in answer.json()["detail"]
    assert stored_sources(client) == {}


def test_a_good_trustpilot_config_is_saved_without_warnings_and_keeps_the_id_it_found(
    connected: store.StoreInfo, state: ServiceState, trustpilot: FakeTrustpilot
) -> None:
    client = app_client(state, TRUSTPILOT_API_URL=trustpilot.url, TRUSTPILOT_API_KEY=trustpilot.api_key)
    answer = save(client, {"trustpilot": {"every_minutes": 15}}, slug="new-shop", domain="shop.example")
    assert answer.status_code == 201, answer.text
    assert answer.json()["warnings"] == [] and answer.json()["sources"] == {"trustpilot": {"every_minutes": 15}}
    assert trustpilot.calls("/business-units/find") == 1
    collect(state, trustpilot, unit="new-shop")  # the first run uses the id the save found: no second look-up
    assert trustpilot.calls("/business-units/find") == 1
    assert source_store.get_source_state("new-shop", "trustpilot").checkpoint["business_unit_id"] == (
        trustpilot.business_unit_id
    )
    by_id = {"trustpilot": {"business_unit_id": trustpilot.business_unit_id}}
    patched = client.patch("/v1/admin/business-units/new-shop", json={"sources": by_id}, headers=ADMIN)
    assert patched.status_code == 200 and patched.json()["warnings"] == []
    assert trustpilot.calls(f"/business-units/{trustpilot.business_unit_id}") >= 1


def test_a_platform_that_is_down_or_failing_still_saves_with_a_warning(
    shop: domain.BusinessUnit, state: ServiceState, trustpilot: FakeTrustpilot
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    client = app_client(state, TRUSTPILOT_API_URL=closed, TRUSTPILOT_API_KEY="some-key")
    started = time.monotonic()
    answer = save(client, {"trustpilot": {"domain": "shop.example"}})
    assert time.monotonic() - started < 5  # a save does not wait long on a platform that is down
    assert answer.status_code == 200, answer.text
    [warning] = answer.json()["warnings"]
    assert warning["source"] == "trustpilot" and "could not reach Trustpilot" in warning["message"]
    assert stored_sources(client) == {"trustpilot": {"domain": "shop.example"}}
    trustpilot.faults.fail_share = 1.0  # every call a 500
    client = app_client(state, TRUSTPILOT_API_URL=trustpilot.url, TRUSTPILOT_API_KEY=trustpilot.api_key)
    answer = save(client, {"trustpilot": {"domain": "shop.example", "every_minutes": 30}})
    assert answer.status_code == 200 and "HTTP 500" in answer.json()["warnings"][0]["message"]
    assert trustpilot.calls("/business-units/find") == 2  # one retry, no more


def test_credentials_not_set_yet_save_with_a_warning_saying_what_to_set(
    shop: domain.BusinessUnit, state: ServiceState
) -> None:
    client = app_client(state)
    answer = save(client, {"trustpilot": {"domain": "shop.example"}, "kiyoh": {"location_id": "1064321"}})
    assert answer.status_code == 200
    messages = {w["source"]: w["message"] for w in answer.json()["warnings"]}
    assert "TRUSTPILOT_API_KEY is not set" in messages["trustpilot"]
    assert "KIYOH_API_TOKEN is not set" in messages["kiyoh"]
    assert set(stored_sources(client)) == {"trustpilot", "kiyoh"}


def test_kiyoh_refused_token_and_unknown_location_are_refused_a_good_one_saved(
    shop: domain.BusinessUnit, state: ServiceState, kiyoh: FakeKiyoh
) -> None:
    wrong = app_client(state, KIYOH_API_URL=kiyoh.url, KIYOH_API_TOKEN="not-the-token")
    answer = save(wrong, {"kiyoh": {"location_id": kiyoh.location_id}})
    assert answer.status_code == 422
    assert "Kiyoh refused the publication API token (KIYOH_API_TOKEN)" in answer.json()["detail"]
    client = app_client(state, KIYOH_API_URL=kiyoh.url, KIYOH_API_TOKEN=KIYOH_TOKEN)
    answer = save(client, {"kiyoh": {"location_id": "999"}})
    assert answer.status_code == 422 and "Kiyoh knows no location 999" in answer.json()["detail"]
    assert stored_sources(client) == {}
    answer = save(client, {"kiyoh": {"location_id": kiyoh.location_id}})
    assert answer.status_code == 200 and answer.json()["warnings"] == []
    assert stored_sources(client) == {"kiyoh": {"location_id": kiyoh.location_id}}


def test_one_bad_source_saves_none_of_the_others(
    shop: domain.BusinessUnit, state: ServiceState, trustpilot: FakeTrustpilot
) -> None:
    client = app_client(state, TRUSTPILOT_API_URL=trustpilot.url, TRUSTPILOT_API_KEY=trustpilot.api_key)
    answer = save(client, {"trustpilot": {"domain": "shop.example"}, "structured-data": {}})
    assert answer.status_code == 422 and "structured-data source needs `urls` or `files`" in answer.json()["detail"]
    assert stored_sources(client) == {}
    assert source_store.source_states("test-shop") == {}  # the id the Trustpilot probe found is not kept either


def test_the_openapi_document_describes_the_warnings(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for method, path in (("post", "/v1/admin/business-units"), ("patch", "/v1/admin/business-units/{bu}")):
        schema = paths[path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["properties"]["warnings"]["items"]["required"] == ["source", "message"]

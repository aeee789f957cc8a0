"""Business-unit settings over HTTP: a partial update keeps what it leaves out; bad settings are a 422."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from collectors.registry import REGISTRY
from reviews_service import domain
from reviews_service.collection import Registry
from tests.counting_collector import Counting

UNITS = "/v1/admin/business-units"
FULL = {
    "slug": "flinders-nl",
    "name": "Flinders NL",
    "domain": "flinders.example",
    "locales": ["nl", "nl-BE"],
    "timezone": "Europe/Amsterdam",
    "display_scale": 10,
    "sources": {"kiyoh": {"location_id": "1234", "every_minutes": 60}},
}


@pytest.fixture
def registry() -> Registry:
    """These tests configure kiyoh and trustpilot sources: the app knows both names (none of them runs here)."""
    return {"kiyoh": Counting, "trustpilot": Counting, **REGISTRY}


@pytest.fixture
def flinders(client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit) -> dict[str, Any]:
    created = client.post(UNITS, json=FULL, headers=admin)
    assert created.status_code == 201, created.text
    return dict(created.json())


def _save_sources_three_ways(client: TestClient, admin: dict[str, str], sources: dict[str, Any]) -> list[Any]:
    """The answers to giving `sources` by renaming POST, by PATCH, and with a new unit."""
    return [
        client.post(UNITS, json={"slug": "flinders-nl", "name": "Other", "sources": sources}, headers=admin),
        client.patch(f"{UNITS}/flinders-nl", json={"sources": sources}, headers=admin),
        client.post(UNITS, json={"slug": "brand-new", "name": "New", "sources": sources}, headers=admin),
    ]


def _assert_nothing_changed(client: TestClient, admin: dict[str, str]) -> None:
    assert settings_of(client.get(f"{UNITS}/flinders-nl", headers=admin).json()) == settings_of(FULL)
    assert client.get(f"{UNITS}/brand-new", headers=admin).status_code == 404


def settings_of(unit: dict[str, Any]) -> dict[str, Any]:
    return {k: unit[k] for k in ("name", "domain", "locales", "timezone", "display_scale", "sources")}


def test_renaming_with_post_keeps_every_other_setting(
    client: TestClient, admin: dict[str, str], flinders: dict[str, Any]
) -> None:
    renamed = client.post(UNITS, json={"slug": "flinders-nl", "name": "Flinders Design NL"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["created"] is False
    expected = settings_of(FULL) | {"name": "Flinders Design NL"}
    assert settings_of(renamed.json()) == expected
    assert settings_of(client.get(f"{UNITS}/flinders-nl", headers=admin).json()) == expected
    # what a shop's visitors see did not switch language or scale
    assert client.get("/v1/business-units/flinders-nl/summary").json()["display"]["scale"] == 10
    badge = client.get("/widgets/flinders-nl/badge.html")
    assert badge.status_code == 200 and 'lang="nl"' in badge.text


def test_patch_changes_only_the_fields_given(
    client: TestClient, admin: dict[str, str], flinders: dict[str, Any]
) -> None:
    patched = client.patch(f"{UNITS}/flinders-nl", json={"display_scale": 5, "locales": ["de"]}, headers=admin)
    assert patched.status_code == 200, patched.text
    expected = settings_of(FULL) | {"display_scale": 5, "locales": ["de"]}
    assert settings_of(patched.json()) == expected
    assert settings_of(client.get(f"{UNITS}/flinders-nl", headers=admin).json()) == expected
    assert client.get("/v1/business-units/flinders-nl/summary").json()["display"]["scale"] == 5
    nothing = client.patch(f"{UNITS}/flinders-nl", json={}, headers=admin)
    assert nothing.status_code == 200 and settings_of(nothing.json()) == expected


def test_unknown_unit_is_a_404_problem_for_get_and_patch(client: TestClient, admin: dict[str, str], shop: Any) -> None:
    for response in (
        client.get(f"{UNITS}/no-such-shop", headers=admin),
        client.patch(f"{UNITS}/no-such-shop", json={"name": "X"}, headers=admin),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert "no-such-shop" in response.json()["detail"]
    assert client.get("/v1/business-units/no-such-shop/summary").status_code == 404  # PATCH created nothing


def test_creating_needs_a_name(client: TestClient, admin: dict[str, str], shop: Any) -> None:
    response = client.post(UNITS, json={"slug": "nameless", "locales": ["nl"]}, headers=admin)
    assert response.status_code == 422 and "name" in response.json()["detail"]
    assert client.get(f"{UNITS}/nameless", headers=admin).status_code == 404


def test_a_new_unit_gets_the_documented_defaults(client: TestClient, admin: dict[str, str], shop: Any) -> None:
    created = client.post(UNITS, json={"slug": "plain", "name": "Plain"}, headers=admin)
    assert created.status_code == 201, created.text
    assert settings_of(created.json()) == {
        "name": "Plain",
        "domain": "",
        "locales": ["en"],
        "timezone": "UTC",
        "display_scale": 5,
        "sources": {},
    }


UNSTORABLE = [
    pytest.param({"trustpilot": {"$where": "1"}}, "$where", id="dollar-key"),
    pytest.param({"trustpilot": {"a.b": 1}}, "a.b", id="dot-key"),
    pytest.param({"trustpilot": {"deep": {"deeper": {"x.y": 1}}}}, "x.y", id="dot-key-deep"),
    pytest.param({"trustpilot": {"deep": [{"$set": 1}]}}, "$set", id="dollar-key-in-list"),
    pytest.param({"trustpilot": {"id": "a\x00b"}}, "NUL", id="nul-value"),
    pytest.param({"trustpilot": {"i\x00d": "ab"}}, "NUL", id="nul-key"),
    pytest.param({"kiyoh": {"location_id": 2**64}}, "64 bits", id="int-over-64-bits"),
    pytest.param({"kiyoh": {"n": [-(2**63) - 1]}}, "64 bits", id="int-under-64-bits"),
]


@pytest.mark.parametrize(("sources", "named"), UNSTORABLE)
def test_sources_mongodb_cannot_store_are_a_422_and_change_nothing(
    client: TestClient, admin: dict[str, str], flinders: dict[str, Any], sources: dict[str, Any], named: str
) -> None:
    for response in _save_sources_three_ways(client, admin, sources):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert named in response.json()["detail"]
    _assert_nothing_changed(client, admin)


def test_a_64_bit_number_is_stored(client: TestClient, admin: dict[str, str], flinders: dict[str, Any]) -> None:
    sources = {"kiyoh": {"location_id": 2**63 - 1, "min": -(2**63)}}
    assert client.patch(f"{UNITS}/flinders-nl", json={"sources": sources}, headers=admin).status_code == 200
    assert client.get(f"{UNITS}/flinders-nl", headers=admin).json()["sources"] == sources


@pytest.mark.parametrize("locales", [["es"], ["nl", "xx"], ["es-ES"], ["nl\n"], ["NL"], ["nl-be"]])
def test_locales_the_widgets_do_not_speak_are_a_422_naming_the_supported_ones(
    client: TestClient, admin: dict[str, str], flinders: dict[str, Any], locales: list[str]
) -> None:
    for response in (
        client.post(UNITS, json={"slug": "flinders-nl", "locales": locales}, headers=admin),
        client.patch(f"{UNITS}/flinders-nl", json={"locales": locales}, headers=admin),
    ):
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert "nl, en, de, fr" in detail and "is not supported" in detail
    assert client.get(f"{UNITS}/flinders-nl", headers=admin).json()["locales"] == FULL["locales"]


def test_a_reviews_url_with_a_line_break_is_a_422(
    client: TestClient, admin: dict[str, str], flinders: dict[str, Any]
) -> None:
    response = client.patch(f"{UNITS}/flinders-nl", json={"reviews_url": "https://a.example/r\n"}, headers=admin)
    assert response.status_code == 422 and "http(s) URL" in response.json()["detail"]


def test_the_openapi_document_describes_the_locales_it_accepts(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["BusinessUnitChange"]
    locales = schema["properties"]["locales"]["anyOf"][0]["items"]
    assert locales["pattern"] == "^(nl|en|de|fr)(-[A-Z]{2})?$"


@pytest.mark.parametrize(
    ("sources", "named"),
    [
        pytest.param({"trustpilt": {"domain": "x.example"}}, "unknown source 'trustpilt'", id="unknown-name"),
        pytest.param({"kiyoh": {"every_minutes": 0}}, "every_minutes must be a number", id="every-zero"),
        pytest.param({"kiyoh": {"every_minutes": "15"}}, "every_minutes must be a number", id="every-text"),
        pytest.param({"kiyoh": {"every_minutes": True}}, "every_minutes must be a number", id="every-bool"),
    ],
)
def test_a_source_that_cannot_run_is_refused_when_configured(
    client: TestClient,
    admin: dict[str, str],
    flinders: dict[str, Any],
    registry: Registry,
    sources: dict[str, Any],
    named: str,
) -> None:
    """An unknown source name (or a period it cannot run at) is a 422 naming the known ones, and changes nothing."""
    for response in _save_sources_three_ways(client, admin, sources):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert named in response.json()["detail"]
        if "unknown" in named:
            assert response.json()["detail"].endswith(f"known sources: {', '.join(sorted(registry))}")
    _assert_nothing_changed(client, admin)

"""GET .../complaints and the per-unit taxonomy (GET/PUT .../taxonomy, `taxonomy` on the unit): auth, 404, bounds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from reviews_service import complaints, documents, domain
from reviews_service.state import ServiceState
from tests.conftest import NOW, review
from tests.test_query_shapes import _key, _serves, record

COMPLAINTS = "/v1/admin/business-units/test-shop/complaints"
TAXONOMY = "/v1/admin/business-units/test-shop/taxonomy"
REVIEWS = "/v1/admin/business-units/test-shop/reviews"


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")


def ingest(client: TestClient, admin: dict[str, str], records: list[dict[str, object]]) -> None:
    answer = client.post(REVIEWS, json=records, headers=admin)
    assert answer.status_code == 200 and answer.json()["rejected"] == 0, answer.text


def late(n: int, days_ago: float) -> dict[str, object]:
    return review(f"late-{n}", 1, text="De kast is nog steeds niet geleverd.", created_at=at(days_ago), language="nl")


def problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    return body


def test_topics_with_counts_trend_labels_and_examples(
    client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit
) -> None:
    ingest(client, admin, [*(late(n, 1 + n) for n in range(4)), late(9, 40), review("happy", 5, created_at=at(2))])
    body = client.get(COMPLAINTS, headers=admin).json()
    assert (body["days"], body["complaints"], body["previous_complaints"], body["capped"]) == (30, 4, 1, False)
    delivery = next(t for t in body["topics"] if t["id"] == "delivery")
    assert delivery["label"] == "Levering"  # the unit's first locale is nl
    assert (delivery["source"], delivery["count"], delivery["previous_count"], delivery["trend"]) == (
        "taxonomy", 4, 1, "up",
    )  # fmt: skip
    assert delivery["examples"] == [f"test-shop:api:late-{n}" for n in range(4)]
    assert not delivery["recurring"] and delivery["windows"] == [4, 1, 0, 0]
    german = client.get(COMPLAINTS, params={"locale": "de", "examples": 1}, headers=admin).json()
    delivery = next(t for t in german["topics"] if t["id"] == "delivery")
    assert (delivery["label"], len(delivery["examples"])) == ("Lieferung", 1)


def test_a_unit_s_own_taxonomy_counts_its_own_aspects(
    client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit
) -> None:
    text = "De bank stinkt naar chemicaliën."
    ingest(client, admin, [review(f"smell-{n}", 2, text=text, created_at=at(3), language="nl") for n in range(3)])
    assert not any(t["id"] == "smell" for t in client.get(COMPLAINTS, headers=admin).json()["topics"])
    override = {"aspects": {"smell": {"label": "Smell", "labels": {"nl": "Geur"}, "phrases": {"nl": ["stinkt"]}}}}
    saved = client.put(TAXONOMY, json=override, headers=admin)
    assert saved.status_code == 200 and saved.json()["override"] == override
    assert "smell" in saved.json()["effective"]["aspects"] and "delivery" in saved.json()["effective"]["aspects"]
    smell = next(t for t in client.get(COMPLAINTS, headers=admin).json()["topics"] if t["id"] == "smell")
    assert (smell["label"], smell["count"]) == ("Geur", 3)
    # the same through PATCH of the unit, and {} goes back to the default
    patched = client.patch("/v1/admin/business-units/test-shop", json={"taxonomy": {}}, headers=admin)
    assert patched.status_code == 200 and patched.json()["taxonomy"] == {}
    assert not any(t["id"] == "smell" for t in client.get(COMPLAINTS, headers=admin).json()["topics"])


@pytest.mark.parametrize(
    ("override", "where"),
    [
        ({"aspects": {"Bad Id": {}}}, "is not an id"),
        ({"aspects": {"smell": {"phrases": {"nl": ["... stinkt"]}}}}, "aspects.smell.phrases.nl[0]"),
        ({"aspects": {"smell": {"phrases": {"nl": "stinkt"}}}}, "expected a list"),
        ({"aspects": {"smell": {"phrases": {"nl": ["stinkt\x00"]}}}}, "NUL"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_a_bad_taxonomy_is_a_422_that_saves_nothing(
    client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit, override: dict[str, object], where: str
) -> None:
    assert where in str(problem(client.put(TAXONOMY, json=override, headers=admin), 422)["detail"])
    patch = client.patch("/v1/admin/business-units/test-shop", json={"taxonomy": override}, headers=admin)
    assert where in str(problem(patch, 422))
    assert client.get(TAXONOMY, headers=admin).json()["override"] == {}


@pytest.mark.parametrize(
    "params",
    [{"days": "0"}, {"days": "366"}, {"days": "many"}, {"locale": "xx"}, {"examples": "21"}],
)
def test_out_of_bounds_parameters_are_422(
    client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit, params: dict[str, str]
) -> None:
    problem(client.get(COMPLAINTS, params=params, headers=admin), 422)


def test_auth_and_unknown_units(client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit) -> None:
    problem(client.get(COMPLAINTS), 401)
    problem(client.get(TAXONOMY), 401)
    problem(client.put(TAXONOMY, json={}), 401)
    problem(client.get("/v1/admin/business-units/nope/complaints", headers=admin), 404)
    problem(client.put("/v1/admin/business-units/nope/taxonomy", json={}, headers=admin), 404)
    client.post("/v1/admin/business-units", json={"slug": "other-shop", "name": "Other"}, headers=admin)
    minted = client.post("/v1/admin/tokens", json={"name": "other", "business_unit": "other-shop"}, headers=admin)
    other = {"Authorization": f"Bearer {minted.json()['token']}"}
    problem(client.get(COMPLAINTS, headers=other), 403)
    problem(client.put(TAXONOMY, json={}, headers=other), 403)


def test_the_read_is_bounded_and_served_by_an_index(
    client: TestClient,
    admin: dict[str, str],
    shop: domain.BusinessUnit,
    state: ServiceState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(client, admin, [late(n, 1 + n) for n in range(5)])
    recorder = record(monkeypatch, documents.ReviewDoc)
    found = complaints.complaint_topics(state, "test-shop", now=NOW, days=30, max_reviews=3)
    assert (found.reviews_read, found.capped, found.report.complaints) == (3, True, 3)
    assert found.oldest == NOW - timedelta(days=3)
    (find,) = [f for f in recorder.finds if "created_at" in f.filter]
    assert find.limit == 4
    indexes = [_key(info["key"]) for info in documents.ReviewDoc._get_collection().index_information().values()]
    equal = {k for k, v in find.filter.items() if not isinstance(v, dict)}
    assert any(_serves(index, equal) for index in indexes), (find.filter, indexes)

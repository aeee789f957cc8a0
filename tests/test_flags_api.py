"""The flags endpoints: a unit's list (auth, 404, filters, keyset pages, reasons per language) and resolving one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from reviews_service import domain, ingest, repository, tokens
from reviews_service.state import ServiceState
from tests.conftest import NOW, review

BU = "test-shop"
RECENT = (NOW - timedelta(hours=2)).isoformat()
ANGRY = "Kapot aangekomen en nog steeds geen geld terug. Nooit meer!"  # a text that agrees with one star


def _one_stars(state: ServiceState, count: int) -> None:
    records = [
        review(
            f"r{i}", rating=1, text=ANGRY, created_at=(NOW - timedelta(minutes=i)).isoformat(), email=f"k{i}@example.nl"
        )
        for i in range(count)
    ]
    ingest.ingest(state, BU, records, now=NOW)


def _get(client: TestClient, admin: dict[str, str], query: str = "", bu: str = BU) -> Any:
    return client.get(f"/v1/admin/business-units/{bu}/flags{query}", headers=admin)


def test_the_list_needs_a_token_and_a_known_unit(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    assert client.get(f"/v1/admin/business-units/{BU}/flags").status_code == 401
    missing = _get(client, admin, bu="no-such-shop")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert _get(client, admin).json() == {"items": [], "next_cursor": None, "locale": "nl"}


def test_a_scoped_token_sees_only_its_unit(client: TestClient, shop: domain.BusinessUnit, state: ServiceState) -> None:
    other = domain.BusinessUnit(slug="other-shop", name="Other")
    repository.save_business_unit(state, other)
    secret, _ = tokens.mint(state, "moderator", "other-shop", NOW)
    answer = _get(client, {"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 403


def test_newest_first_in_pages_that_never_skip_or_repeat(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    _one_stars(state, 7)
    ingest.ingest(state, BU, [review("later", rating=1, text=ANGRY, created_at=RECENT)], now=NOW + timedelta(seconds=1))
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        page = _get(client, admin, f"?limit=3{cursor}").json()
        seen += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(seen) == 8 == len(set(seen))
    assert seen[0] == f"{BU}:one-star:{BU}:api:later"  # flagged last: first
    first = _get(client, admin, "?limit=1").json()["items"][0]
    assert first["kind"] == "one-star" and first["review"]["rating"] == 1
    assert "email" not in first["review"] and "k0@example.nl" not in str(first)
    assert first["reason"] == "1 ster"  # the unit's first language (nl); no norm yet in a new shop


def test_filters_and_reasons_in_the_asked_language(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    old = (NOW - timedelta(days=20)).isoformat()
    ingest.ingest(state, BU, [review(f"g{i}", rating=5, created_at=old) for i in range(30)], now=NOW)
    pair = [review("low", rating=2, text=ANGRY, created_at=RECENT), review("one", rating=1, text=ANGRY)]
    ingest.ingest(state, BU, pair, now=NOW)
    # each is measured against the shop's other reviews: the thirty 5s and the other one of the pair
    [outlier] = _get(client, admin, "?kind=outlier&locale=de").json()["items"]
    assert outlier["reason"] == "2 Sterne, weit unter dem Durchschnitt des Shops (4,9 aus 31 Bewertungen)"
    [one] = _get(client, admin, "?kind=one-star&locale=en").json()["items"]
    assert one["reason"] == "1 star, against the shop's average of 4.9 over 31 reviews"
    assert _get(client, admin, "?locale=fr").json()["locale"] == "fr"
    assert _get(client, admin, "?status=resolved").json()["items"] == []


def test_bad_queries_are_422(client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]) -> None:
    for query in ("?status=closed", "?kind=spam", "?limit=0", "?limit=101", "?cursor=nonsense", "?locale=<x>"):
        answer = _get(client, admin, query)
        assert answer.status_code == 422, query
        assert answer.headers["content-type"] == "application/problem+json"


def test_a_moderator_resolves_and_reopens(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    _one_stars(state, 1)
    flag_id = _get(client, admin).json()["items"][0]["id"]
    url = f"/v1/admin/flags/{flag_id}"
    resolved = client.patch(
        url, json={"status": "resolved", "note": "Klant gebeld, nieuwe stoel gestuurd."}, headers=admin
    )
    assert resolved.status_code == 200
    body = resolved.json()
    assert body["status"] == "resolved" and body["note"] == "Klant gebeld, nieuwe stoel gestuurd."
    assert body["resolved_by"] == "bootstrap"  # the bootstrap token's name
    assert body["resolved_at"] == "2026-11-20T12:00:00.000Z"
    assert _get(client, admin).json()["items"] == []
    assert [i["id"] for i in _get(client, admin, "?status=resolved").json()["items"]] == [flag_id]
    reopened = client.patch(url, json={"status": "open"}, headers=admin).json()
    assert reopened["status"] == "open" and reopened["resolved_at"] is None
    assert reopened["note"] == "Klant gebeld, nieuwe stoel gestuurd."  # no note sent: the note stays


def test_bad_changes_are_422_and_unknown_flags_404(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    _one_stars(state, 1)
    flag_id = _get(client, admin).json()["items"][0]["id"]
    url = f"/v1/admin/flags/{flag_id}"
    for body in ({"status": "done"}, {}, {"status": "resolved", "note": "x" * 2001}, {"status": "open", "extra": 1}):
        answer = client.patch(url, json=body, headers=admin)
        assert answer.status_code == 422, body
    assert client.patch(url, json={"status": "resolved"}).status_code == 401
    unknown = client.patch("/v1/admin/flags/test-shop:one-star:nope", json={"status": "resolved"}, headers=admin)
    assert unknown.status_code == 404
    assert _get(client, admin).json()["items"][0]["status"] == "open"  # nothing changed by the bad requests

"""What a collector may say beyond the basics: the shop's reply as the platform shows it, and "removed at the
source": such a review leaves the summaries and the public list but stays stored, even over a moderator."""

from __future__ import annotations

from fastapi.testclient import TestClient

from reviews_service import domain, ingest, repository
from reviews_service.state import ServiceState
from tests.conftest import NOW, review


def test_a_sources_reply_is_stored_and_an_edit_of_it_is_an_update(
    shop: domain.BusinessUnit, state: ServiceState
) -> None:
    record = review("r1", source="trustpilot", reply="Thanks, Sanne!", replied_at="2026-10-02T08:00:00Z")
    assert ingest.ingest(state, "test-shop", [record], now=NOW).inserted == 1
    stored = repository.get_review("test-shop:trustpilot:r1")
    assert (stored.reply, stored.replied_at and stored.replied_at.isoformat()) == (
        "Thanks, Sanne!", "2026-10-02T08:00:00+00:00",
    )  # fmt: skip
    assert ingest.ingest(state, "test-shop", [record], now=NOW).unchanged == 1
    edited = {**record, "reply": "Thanks, Sanne! New legs are on their way."}
    assert ingest.ingest(state, "test-shop", [edited], now=NOW).updated == 1
    assert repository.get_review("test-shop:trustpilot:r1").reply == "Thanks, Sanne! New legs are on their way."


def test_removed_at_the_source_leaves_the_summary_and_list_but_stays_stored(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    ingest.ingest(state, "test-shop", [review("r1", rating=2), review("r2", rating=5)], now=NOW)
    moderated = client.patch("/v1/admin/reviews/test-shop:api:r1", json={"status": "published"}, headers=admin)
    assert moderated.status_code == 200
    gone = review("r1", rating=2, status="removed")
    assert ingest.ingest(state, "test-shop", [gone], now=NOW).rejected  # only a collector may say so
    report = ingest.ingest(state, "test-shop", [gone], now=NOW, collector=True)
    assert report.updated == 1
    assert repository.get_review("test-shop:api:r1").status == "removed"  # the platform's word beats the moderator's
    summary = client.get("/v1/business-units/test-shop/summary").json()
    assert (summary["review_count"], summary["histogram"]["2"]) == (1, 0)
    assert [r["id"] for r in client.get("/v1/business-units/test-shop/reviews").json()["items"]] == ["test-shop:api:r2"]
    back = ingest.ingest(state, "test-shop", [review("r1", rating=2)], now=NOW)  # it is back on the platform
    assert back.updated == 1 and client.get("/v1/business-units/test-shop/summary").json()["review_count"] == 2


def test_a_record_without_a_reply_keeps_the_moderators(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    ingest.ingest(state, "test-shop", [review("r1")], now=NOW)
    client.patch("/v1/admin/reviews/test-shop:api:r1", json={"reply": "Dank je!"}, headers=admin)
    ingest.ingest(state, "test-shop", [review("r1", text="Edited text, same stars.")], now=NOW)
    assert repository.get_review("test-shop:api:r1").reply == "Dank je!"

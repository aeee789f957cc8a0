"""Trustpilot's parser on golden files (invented reviews): each payload -> the records beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from collectors import trustpilot_parse as tp

FIXTURES = Path(__file__).parent / "fixtures" / "trustpilot"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_a_service_reviews_page_gives_its_records_and_the_next_page() -> None:
    """Reply and its time come along; a language we do not show is left to guess; a non-active status is removed."""
    payload, expected = load("service_page.json"), load("service_page.expected.json")
    assert tp.parse(payload) == expected["records"]
    assert tp.next_page(payload) == expected["next_page"]


def test_a_product_reviews_page_is_read_tolerantly() -> None:
    """`content` or `text`, `displayName` or `name`, the review's own sku or the one asked for, a locale."""
    payload, expected = load("product_page.json"), load("product_page.expected.json")
    assert tp.parse(payload, sku=expected["sku"]) == expected["records"]
    assert tp.next_page(payload) is None


def test_the_business_units_own_figures_are_read_as_trustpilots() -> None:
    assert tp.business_unit_score(load("business_unit.json")) == {
        "trust_score": 4.3, "stars": 4.5, "number_of_reviews": 1287, "display_name": "Shop Example",
    }  # fmt: skip


def test_webhook_events_become_upserts_and_deletes_and_unknown_events_are_skipped() -> None:
    parsed = [tp.parse_event(e) for e in load("events.json")["events"]]
    assert [p[0] if p else None for p in parsed] == ["upsert", "delete", "upsert", None]
    created, deleted, product = (p[1] for p in parsed if p)
    assert (created["external_id"], created["author"], created["rating"]) == ("65b0000000000000000000e1", "Ilse", 5)
    assert deleted["external_id"] == "65a1f0c0d1e2f3a4b5c6d7e8"
    assert (product["product"], product["text"]) == ("oak-chair", "Nog steeds mooi, een poot wiebelt wat.")


def test_shapes_it_does_not_know_give_nothing_rather_than_an_error() -> None:
    assert tp.parse(None) == [] and tp.parse({"reviews": "nope"}) == [] and tp.parse([1, 2]) == []
    assert tp.parse({"reviews": [1, {"id": "x", "stars": 3}]})[0]["external_id"] == "x"
    assert tp.next_page({"links": [{"rel": "next-page", "href": 3}]}) is None
    assert tp.parse_event({"eventName": "service-review-created", "eventData": "?"}) == (
        "upsert",
        tp.service_review({}),
    )

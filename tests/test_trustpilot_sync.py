"""The Trustpilot collector against the fake Trustpilot (a real server on 127.0.0.1): after every fault, the
store equals the fake's truth: same ids, ratings, texts, replies; nothing extra."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from collectors.fakes.trustpilot import FakeTrustpilot
from reviews_service import domain, source_store
from reviews_service.errors import SourceConfigError
from reviews_service.state import ServiceState
from tests.trustpilot_helpers import RECENT, assert_store_is_truth, collect, configure, removed, stored


@pytest.fixture
def fake() -> Iterator[FakeTrustpilot]:
    with FakeTrustpilot() as server:
        server.add(250, newest=RECENT)
        server.add(3, newest=RECENT - timedelta(minutes=3), sku="oak-chair")
        yield server


@pytest.fixture
def unit(shop: domain.BusinessUnit, state: ServiceState) -> domain.BusinessUnit:
    return configure(state, shop)


def test_first_sync_reads_everything_finds_the_unit_and_keeps_trustpilots_score(
    unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    report = collect(state, fake)
    assert_store_is_truth(state, fake)
    assert report.inserted == 253 and report.pages == 3 + 1  # 3 service pages, 1 product page
    assert fake.calls("/business-units/find") == 1
    assert all("apikey" not in r for r in fake.requests)  # the key travels in a header only
    checkpoint = source_store.get_source_state("test-shop", "trustpilot").checkpoint
    assert checkpoint["business_unit_id"] == fake.business_unit_id
    says = checkpoint["trustpilot_says"]
    assert says["number_of_reviews"] == 250 and says["trust_score"] is not None
    assert "sync" not in checkpoint  # finished
    # replies came along, as Trustpilot shows them
    assert any(values[4] for values in stored().values())


def test_incremental_sync_after_new_reviews_reads_a_handful_of_pages(
    shop: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    configure(state, shop, domain="shop.example", overlap_hours=1)
    collect(state, fake)
    fake.add(5, newest=RECENT + timedelta(minutes=30))
    before = fake.calls("/reviews")
    report = collect(state, fake)
    assert report.inserted == 5
    assert fake.calls("/reviews") - before <= 3  # stops after a page wholly before the high-water mark - overlap
    assert_store_is_truth(state, fake)
    assert fake.calls("/business-units/find") == 1  # the id found once is kept


def test_429_with_retry_after_is_waited_out(
    unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    fake.faults.rate_limited, fake.faults.retry_after = 2, "1"
    started = time.monotonic()
    report = collect(state, fake)
    assert time.monotonic() - started >= 2.0
    assert report.retries == 2
    assert_store_is_truth(state, fake)


def test_500_and_503_bursts_are_retried(unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot) -> None:
    fake.faults.errors = 4
    report = collect(state, fake)
    assert report.retries == 4
    assert_store_is_truth(state, fake)


def test_answers_slower_than_the_timeout_are_retried(
    unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    fake.faults.slow, fake.faults.slow_seconds = 2, 1.5
    report = collect(state, fake)
    assert report.retries == 2
    assert_store_is_truth(state, fake)


def test_a_torn_json_body_is_read_again(unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot) -> None:
    fake.faults.torn = 2
    report = collect(state, fake)
    assert report.retries == 2
    assert_store_is_truth(state, fake)


def test_reviews_arriving_while_paging_push_others_down_without_loss_or_doubles(
    unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    fake.faults.insert_after_page, fake.faults.shift = 1, 3  # 3 new on top: page 2 repeats 3 of page 1
    report = collect(state, fake)
    assert report.unchanged == 3  # read twice, stored once
    collect(state, fake)  # the next sync brings the 3 that arrived on top meanwhile
    assert_store_is_truth(state, fake)


def test_a_review_deleted_while_paging_and_one_pulled_past_us_are_set_right_by_the_full_resync(
    unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    fake.faults.delete_after_page = 1  # one of page 1 vanishes: the first of page 2 moves up to page 1
    collect(state, fake)
    report = collect(state, fake, full=True)
    assert report.removed == 1
    assert_store_is_truth(state, fake)


def test_edits_and_deletions_between_runs_are_caught_by_the_full_resync(
    unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    collect(state, fake)
    service = fake.ordered()
    old, deleted = service[-1], service[-2]  # the oldest: far below any incremental sync's floor
    fake.edit(old.id, stars=1, text="Changed my mind: the legs wobble.", reply="We are sending new legs.")
    fake.delete(deleted.id)
    product = next(r for r in fake.reviews.values() if r.sku)
    fake.delete(product.id)
    report = collect(state, fake, full=True)
    assert report.removed == 2 and report.updated >= 1
    assert removed() == {deleted.id, product.id}  # kept, marked removed at the source
    assert_store_is_truth(state, fake)  # ... and out of the summaries


def test_a_wrong_key_says_the_key_was_refused(
    unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    with pytest.raises(SourceConfigError, match="the Trustpilot API key was refused") as caught:
        collect(state, fake, key="not-the-key")
    assert caught.value.status == 422
    recorded = source_store.get_source_state("test-shop", "trustpilot")
    assert recorded.last_outcome == "failed" and "API key was refused" in (recorded.last_error or "")


def test_a_domain_trustpilot_does_not_know_says_so(
    shop: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    configure(state, shop, domain="nowhere.example")
    with pytest.raises(SourceConfigError, match=r"Trustpilot knows no business unit for the domain 'nowhere\.example'"):
        collect(state, fake)


def test_an_unknown_source_name_is_refused_with_the_known_ones(
    unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    from collectors.base import collect_now
    from collectors.registry import REGISTRY
    from tests.conftest import make_settings

    with pytest.raises(SourceConfigError, match=r"unknown source 'trustpliot'; known sources: .*trustpilot"):
        collect_now(state, make_settings(), REGISTRY, "test-shop", "trustpliot")


def test_the_keys_call_budget_is_shared_by_every_unit_using_it(unit: domain.BusinessUnit, state: ServiceState) -> None:
    """Two units on one key draw from one budget: the second is refused with when to try again, not banned."""
    from dataclasses import replace

    from reviews_service import repository
    from reviews_service.errors import SourceError

    other = replace(unit, slug="other-shop")
    repository.save_business_unit(state, other)
    with FakeTrustpilot() as small:
        small.add(50, newest=RECENT)
        budget = [(6, 60.0)]
        assert collect(state, small, budget=budget).calls == 4  # find, unit, 1 page of reviews, 1 of products
        with pytest.raises(SourceError, match="call budget is used up") as caught:
            collect(state, small, unit="other-shop", budget=budget)
        assert caught.value.status == 502
        assert small.calls() == 6  # never more than the budget

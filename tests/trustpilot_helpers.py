"""What the Trustpilot tests share: a unit configured for the fake, one collection, and store == truth."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.base import CollectReport, collect_now
from collectors.fakes.trustpilot import FakeTrustpilot
from collectors.http import Backoff, Timeouts
from collectors.trustpilot import TrustpilotCollector
from reviews_service import domain, repository, source_store
from reviews_service.state import ServiceState
from tests.conftest import make_settings

FAST_TIMEOUTS = Timeouts(connect=1.0, read=0.5, write=1.0, pool=1.0, total=20.0)
FAST_BACKOFF = Backoff(attempts=6, initial=0.01, maximum=0.05, jitter=0.01, max_retry_after=3)
RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def configure(state: ServiceState, unit: domain.BusinessUnit, **config: Any) -> domain.BusinessUnit:
    """The unit with a trustpilot source (by domain unless `config` says otherwise)."""
    configured = replace(unit, sources={"trustpilot": config or {"domain": "shop.example", "every_minutes": 15}})
    repository.save_business_unit(state, configured)
    return configured


def collect(
    state: ServiceState, fake: FakeTrustpilot, *, full: bool = False, key: str | None = None,
    unit: str = "test-shop", secret: str | None = None, **options: Any,
) -> CollectReport:  # fmt: skip
    """One collection from the fake, with timeouts and backoff short enough for tests (`secret`: the private API)."""
    settings = make_settings(
        TRUSTPILOT_API_URL=fake.url, TRUSTPILOT_API_KEY=key or fake.api_key, TRUSTPILOT_API_SECRET=secret
    )
    options = {"timeouts": FAST_TIMEOUTS, "backoff": FAST_BACKOFF, **options}
    registry = {"trustpilot": lambda: TrustpilotCollector(**options)}
    return collect_now(state, settings, registry, unit, "trustpilot", full=full)  # type: ignore[arg-type]


def truth(fake: FakeTrustpilot) -> dict[str, tuple[Any, ...]]:
    """The fake's reviews as (rating, title, text, author, reply, product)."""
    return {
        r.id: (r.stars, r.title, r.text, r.author, r.reply, r.sku)
        for r in fake.reviews.values()
    }  # fmt: skip


def stored(business_unit: str = "test-shop") -> dict[str, tuple[Any, ...]]:
    """The Trustpilot reviews the store shows (every status but removed), in the same shape as `truth`."""
    return {
        r.external_id: (r.rating, r.title, r.text, r.author, r.reply, r.product)
        for r in source_store.source_reviews(business_unit, "trustpilot")
        if r.status != "removed"
    }


def removed(business_unit: str = "test-shop") -> set[str]:
    """The external ids of Trustpilot reviews marked removed at the source."""
    return {r.external_id for r in source_store.source_reviews(business_unit, "trustpilot") if r.status == "removed"}


def assert_store_is_truth(state: ServiceState, fake: FakeTrustpilot) -> None:
    """Same ids, ratings, texts, replies, products; nothing extra; and the summaries count exactly those."""
    assert stored() == truth(fake)
    service = [r for r in fake.reviews.values() if r.sku is None]
    summary = repository.get_summary(state, "test-shop")
    assert summary.count == len(service)
    assert summary.histogram == {n: sum(1 for r in service if r.stars == n) for n in domain.RATINGS}

"""With TRUSTPILOT_API_SECRET, incremental syncs use the private endpoint (startDateTime) with an OAuth token
that is fetched once and reused until it expires; a refused secret says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from collectors.fakes.trustpilot import FakeTrustpilot
from reviews_service import domain
from reviews_service.errors import SourceConfigError
from reviews_service.state import ServiceState
from tests.trustpilot_helpers import RECENT, assert_store_is_truth, collect, configure

TOKEN = "oauth-business-users-for-applications/accesstoken"


@pytest.fixture
def fake() -> Iterator[FakeTrustpilot]:
    with FakeTrustpilot() as server:
        server.add(300, newest=RECENT, step=timedelta(hours=1))
        yield server


@pytest.fixture
def unit(shop: domain.BusinessUnit, state: ServiceState) -> domain.BusinessUnit:
    return configure(state, shop, domain="shop.example", products=False)


def test_incremental_syncs_ask_the_private_endpoint_with_one_reused_token(
    unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    collect(state, fake, secret=fake.api_secret)  # the first sync reads everything, on the public endpoint
    assert fake.calls("/private/") == 0 and fake.calls(TOKEN) == 0
    for round_ in range(2):
        fake.add(3, newest=RECENT + timedelta(minutes=10 * (round_ + 1)), step=timedelta(minutes=1))
        report = collect(state, fake, secret=fake.api_secret)
        assert report.inserted == 3
    assert fake.calls(TOKEN) == 1  # fetched once, reused by the next sync
    private = [r for r in fake.requests if "/private/" in r]
    assert len(private) == 2 and all("startDateTime=" in r and "createdat.asc" in r for r in private)
    assert_store_is_truth(state, fake)


def test_an_expired_token_is_replaced(unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot) -> None:
    fake.token_seconds = 30  # under the 60 s margin: never reused
    collect(state, fake, secret=fake.api_secret)
    for _ in range(2):
        collect(state, fake, secret=fake.api_secret)
    assert fake.calls(TOKEN) == 2


def test_a_refused_secret_says_which_settings_to_check(
    unit: domain.BusinessUnit, state: ServiceState, fake: FakeTrustpilot
) -> None:
    collect(state, fake, secret="wrong-secret")  # public endpoint: the secret is not used yet
    with pytest.raises(
        SourceConfigError, match="refused the key and secret; check TRUSTPILOT_API_KEY and TRUSTPILOT_API_SECRET"
    ):
        collect(state, fake, secret="wrong-secret")

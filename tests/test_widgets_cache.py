"""The widget cache under hostile and sloppy requests: junk shares entries, a full cache evicts the least
recently used, and one unknown sku or product never hides the rest of a page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain
from reviews_service import state as state_module
from reviews_service.state import ServiceState
from tests.conftest import review
from widgets import service

BADGE = "/widgets/test-shop/badge.html"
DATA = "/widgets/test-shop/data.json"
INGEST = "/v1/admin/business-units/test-shop/reviews"


def hit(state: ServiceState, path: str, query: str) -> bool:
    """Whether this exact request is answered from the hot path (a dict lookup, no rendering)."""
    return service.lookup(state, path, query.encode()) is not None


@pytest.fixture
def small_cache(state: ServiceState) -> Iterator[None]:
    saved = state.widgets.maxsize
    state.widgets.maxsize = 30
    yield
    state.widgets.maxsize = saved


def test_junk_values_of_known_parameters_share_the_entry_they_render_to(
    client: TestClient, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    for ttl in ("CHANGE_TTL", "SAFETY_TTL"):  # the loop outlasts the expiry, which is not tested here
        monkeypatch.setattr(state_module, ttl, 3600.0)
    real = client.get(f"{BADGE}?locale=nl")
    data = client.get(f"{DATA}?locale=nl&badge=1&skus=oak-chair")
    assert hit(state, BADGE, "locale=nl") and hit(state, DATA, "locale=nl&badge=1&skus=oak-chair")
    entries = len(state.widgets._entries)
    for n in range(500):  # 2,000 junk requests in all
        junk_locale = client.get(f"{BADGE}?locale=x{n}")
        junk_theme = client.get(f"{BADGE}?locale=nl&theme=t{n}")
        junk_frame = client.get(f"{BADGE}?locale=nl&frame=f{n}")
        junk_sku = client.get(f"{DATA}?locale=nl&badge=1&skus=oak-chair,junk-{n}")
        for junk in (junk_locale, junk_theme, junk_frame):
            assert junk.status_code == 200 and junk.headers["etag"] == real.headers["etag"]
        assert junk_sku.json()["products"][f"junk-{n}"] is None
        assert junk_sku.json()["products"]["oak-chair"] == data.json()["products"]["oak-chair"]
    assert len(state.widgets._entries) <= entries + 2  # at most the one frame=... spelling each
    assert hit(state, BADGE, "locale=nl") and hit(state, DATA, "locale=nl&badge=1&skus=oak-chair")


def test_spellings_of_one_rendering_get_a_few_aliases_not_one_each(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:
    client.get(f"{BADGE}?locale=nl")
    entries = len(state.widgets._entries)
    spellings = ["", "locale=nl&theme=", "theme=&locale=nl", "locale=n%6C", "locale=%6El", "locale=NL", "locale=nl-NL"]
    spellings += [f"locale=nl&{'&'.join(['locale=nl'] * n)}" for n in range(1, 40)]
    for query in spellings:
        assert client.get(f"{BADGE}?{query}").status_code == 200
    assert len(state.widgets._entries) <= entries + 8


def test_a_full_cache_evicts_the_least_recently_used_not_every_shop(
    client: TestClient, shop: domain.BusinessUnit, small_cache: None, state: ServiceState
) -> None:
    client.get(f"{BADGE}?locale=nl")
    for n, (limit, rating) in enumerate((limit, rating) for limit in range(1, 21) for rating in range(1, 6)):
        assert client.get(f"/widgets/test-shop/reviews.html?limit={limit}&rating={rating}").status_code == 200
        assert len(state.widgets._entries) <= 30
        if n % 10 == 9:  # the shop's badge is requested all the time: it stays
            assert hit(state, BADGE, "locale=nl"), n
            client.get(f"{BADGE}?locale=nl")
    assert hit(state, BADGE, "locale=nl")


def test_an_unknown_sku_or_product_is_null_and_the_rest_renders(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    client.post(INGEST, json=[review("s1", 4), review("p1", 5, product="oak-chair")], headers=admin)
    answer = client.get(f"{DATA}?locale=nl&skus=oak-chair,gone-sku,%3Cscript%3E&reviews=3&product=gone-sku")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["products"]["gone-sku"] is None and data["products"]["<script>"] is None
    assert data["product_summaries"]["gone-sku"] is None
    assert 'role="img"' in data["products"]["oak-chair"] and 'role="img"' in data["badge"]
    assert data["reviews"] is None  # that list falls back; the badge and stars above do not
    assert "<script>" not in answer.text  # an echoed sku is never markup, whatever reads it
    known = client.get(f"{DATA}?locale=nl&skus=oak-chair&reviews=3&product=oak-chair").json()
    assert known["reviews"].count('class="rw-review"') == 1
    assert client.get("/widgets/test-shop/reviews.html?product=gone-sku").status_code == 404  # a fragment alone


def test_data_json_filters_the_list_as_the_fragment_does(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    records = [review("a", 5, language="nl"), review("b", 2, language="en"), review("c", 5, language="en")]
    client.post(INGEST, json=records, headers=admin).raise_for_status()
    fives = client.get(f"{DATA}?reviews=5&rating=5").json()["reviews"]
    assert "Review a" in fives and "Review c" in fives and "Review b" not in fives
    english = client.get(f"{DATA}?reviews=5&language=en").json()["reviews"]
    assert "Review b" in english and "Review c" in english and "Review a" not in english
    both = client.get(f"{DATA}?reviews=5&rating=5&language=en").json()["reviews"]
    assert both.count('class="rw-review"') == 1 and "Review c" in both
    assert client.get(f"{DATA}?reviews=5&rating=9").status_code == 422


@pytest.mark.parametrize(
    ("path", "query"),
    [
        (DATA, "locale=nl&badge=1&skus=oak-chair,walnut-table&reviews=5&product=oak-chair"),  # as the loader asks
        (DATA, "locale=en&badge=0&skus=oak-chair&reviews=3&rating=5&language=en"),
        (BADGE, ""),
        (BADGE, "theme=dark&frame=1&locale=nl"),
        ("/widgets/test-shop/reviews.html", "limit=3"),
        ("/widgets/test-shop/products/oak-chair/stars.html", "locale=en"),
    ],
)
def test_what_pages_really_ask_is_a_hot_path_hit_the_second_time(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, path: str, query: str
) -> None:
    first = client.get(f"{path}?{query}" if query else path)
    assert first.status_code == 200
    assert hit(state, path, query)
    assert client.get(f"{path}?{query}" if query else path).headers["etag"] == first.headers["etag"]

"""A missed widget is rendered once however many requests for it arrive meanwhile: after a change drops a unit's
widgets, a crowd of visitors waits for one render instead of queueing one render each behind the thread pool."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain, ingest
from reviews_service import state as state_module
from reviews_service.cache import IN_BACKGROUND
from reviews_service.errors import NotFound
from reviews_service.state import WIDGET_GRACE, ServiceState
from tests.conftest import NOW
from widgets import service


def _counting(monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> list[str]:
    real = service.render
    calls: list[str] = []
    lock = threading.Lock()

    def slow(state: Any, path: str, query: bytes, base_url: str = "") -> service.Rendered | None:
        with lock:
            calls.append(path)
        time.sleep(0.3)  # every request below arrives while this render runs
        if fail:
            raise NotFound("No business unit 'test-shop'.")
        return real(state, path, query, base_url)

    monkeypatch.setattr(service, "render", slow)
    return calls


def test_a_crowd_asking_for_one_missed_widget_gets_one_render(
    client: TestClient, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: client.get("/widgets/test-shop/badge.html"), range(12)))
    assert [a.status_code for a in answers] == [200] * 12
    assert len({a.headers["etag"] for a in answers}) == 1
    assert calls == ["/widgets/test-shop/badge.html"]
    # another widget is another render; the answer is cached afterwards: no render at all
    assert client.get("/widgets/test-shop/reviews.html").status_code == 200
    assert client.get("/widgets/test-shop/badge.html").status_code == 200
    assert calls == ["/widgets/test-shop/badge.html", "/widgets/test-shop/reviews.html"]


def test_the_crowd_shares_the_render_s_error_too(
    client: TestClient, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch, fail=True)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: client.get("/widgets/test-shop/badge.html"), range(6)))
    assert [a.status_code for a in answers] == [404] * 6
    assert all(a.headers["content-type"] == "application/problem+json" for a in answers)
    assert len(calls) == 1


def _review(n: int, rating: int) -> dict[str, Any]:
    return {"source": "api", "external_id": f"swr-{n}", "rating": rating, "text": "Prima stoel.", "author": "Ans",
            "created_at": f"2026-11-0{n}T10:00:00Z"}  # fmt: skip


def _written_in_background(state: ServiceState, n: int, rating: int) -> None:
    """A review stored as a scheduler job stores it: nobody waits to read it back."""
    token = IN_BACKGROUND.set(True)
    try:
        assert ingest.ingest(state, "test-shop", [_review(n, rating)], now=NOW).inserted == 1
    finally:
        IN_BACKGROUND.reset(token)


def _badge_changes(client: TestClient, before: str, within: float) -> float:
    started = time.monotonic()
    while client.get("/widgets/test-shop/badge.html").text == before:
        assert time.monotonic() - started < within, "the new badge never came"
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.parametrize("elsewhere", ["background job", "another process"])
def test_a_change_made_elsewhere_is_answered_with_the_last_badge_while_the_new_one_renders(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str],
    monkeypatch: pytest.MonkeyPatch, elsewhere: str,
) -> None:  # fmt: skip
    """A scheduler job's write, or another process's (the poller tells the feed): the visitors of that moment get
    the badge they had at once instead of waiting for the render; one render runs, the next visitors get the new
    badge."""
    posted = client.post("/v1/admin/business-units/test-shop/reviews", json=[_review(1, 5)], headers=admin)
    assert posted.json()["inserted"] == 1
    before = client.get("/widgets/test-shop/badge.html").text
    if elsewhere == "background job":
        _written_in_background(state, 2, 1)
    else:
        token = IN_BACKGROUND.set(True)  # stored here without telling the widgets, then "seen in the store"
        try:
            monkeypatch.setattr(state.widgets, "invalidate", lambda *_a, **_k: None)
            assert ingest.ingest(state, "test-shop", [_review(2, 1)], now=NOW).inserted == 1
        finally:
            IN_BACKGROUND.reset(token)
            monkeypatch.undo()
        state.changes.receive("test-shop")
    calls = _counting(monkeypatch)  # every render takes 0.3 s from now on
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.get("/widgets/test-shop/badge.html"), range(8)))
    assert time.monotonic() - started < 0.25, "the crowd waited for the render"
    assert {a.status_code for a in answers} == {200} and {a.text for a in answers} == {before}
    assert _badge_changes(client, before, within=WIDGET_GRACE + 1) < WIDGET_GRACE + 0.5
    assert calls == ["/widgets/test-shop/badge.html"]  # one render for the whole crowd


def test_a_write_by_a_request_here_shows_in_the_next_answer(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin who just hid or added a review reads the widget back: never the bytes from before."""
    client.post("/v1/admin/business-units/test-shop/reviews", json=[_review(1, 5)], headers=admin)
    before = client.get("/widgets/test-shop/badge.html").text
    client.post("/v1/admin/business-units/test-shop/reviews", json=[_review(2, 1)], headers=admin)
    calls = _counting(monkeypatch)
    assert client.get("/widgets/test-shop/badge.html").text != before
    assert calls == ["/widgets/test-shop/badge.html"]


def test_the_last_badge_is_served_no_longer_than_the_grace(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A render that never came back in time (a slow store): once the grace is over, visitors wait for the new
    answer rather than getting the old one for ever."""
    monkeypatch.setattr(state_module, "WIDGET_GRACE", 0.2)
    client.post("/v1/admin/business-units/test-shop/reviews", json=[_review(1, 5)], headers=admin)
    before = client.get("/widgets/test-shop/badge.html").text
    _written_in_background(state, 2, 1)
    time.sleep(0.3)  # no visitor in the grace: no render started
    _counting(monkeypatch)
    assert client.get("/widgets/test-shop/badge.html").text != before


def test_a_change_to_one_product_renders_again_only_the_answers_that_show_it(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A moderator hides an oak chair review: the oak chair's stars and the pages listing it render anew (and
    show it), while the badge and the walnut table's widgets stay cached: fewer visitors wait after a change."""
    records = [{**_review(1, 5), "product": "oak-chair"}, {**_review(2, 2), "product": "walnut-table"}, _review(3, 4)]
    posted = client.post("/v1/admin/business-units/test-shop/reviews", json=records, headers=admin)
    assert posted.json()["inserted"] == 3
    oak, walnut = (
        "/widgets/test-shop/products/oak-chair/stars.html",
        "/widgets/test-shop/products/walnut-table/stars.html",
    )
    paths = ["/widgets/test-shop/badge.html", oak, walnut, "/widgets/test-shop/data.json?skus=oak-chair,walnut-table",
             "/widgets/test-shop/data.json?skus=walnut-table&product=walnut-table&reviews=5"]  # fmt: skip
    before = {path: client.get(path).text for path in paths}
    hidden = client.patch("/v1/admin/reviews/test-shop:api:swr-1", json={"status": "hidden", "reason": "Spam"},
                          headers=admin)  # fmt: skip
    assert hidden.status_code == 200, hidden.text
    calls = _counting(monkeypatch)
    after = {path: client.get(path).text for path in paths}
    assert sorted(calls) == sorted([oak, "/widgets/test-shop/data.json"])
    assert after[oak] != before[oak] and after[paths[3]] != before[paths[3]]  # the hidden review's star is gone
    assert {p: after[p] for p in (paths[0], walnut, paths[4])} == {p: before[p] for p in (paths[0], walnut, paths[4])}

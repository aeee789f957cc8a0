"""A missed widget is rendered once however many requests for it arrive meanwhile: after a change drops a unit's
widgets, a crowd of visitors waits for one render instead of queueing one render each behind the thread pool."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain
from reviews_service.errors import NotFound
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

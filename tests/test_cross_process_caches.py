"""A write in one `reviews serve` process reaches another's caches within 2 s: two real processes, one data dir.

Process B's widget, summary, catalogue and business-unit caches are warmed; process A then hides a
review, ingests one, adds a product and changes the business unit through its admin API, and B must
show each change within 2 s (B's caches live for a minute as a safety net: only its poller can bring
the change in time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.test_embedded_store import TOKEN, _serving

PROMISE = 2.0  # seconds: what the README promises for a change to reach every process
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def _within(promise: float, seen: Callable[[], bool]) -> float:
    """Seconds until `seen()` holds; fails when it does not within twice `promise` (bounded loop)."""
    start = time.monotonic()
    for _ in range(400):
        if seen():
            return time.monotonic() - start
        if time.monotonic() - start > 2 * promise:
            break
        time.sleep(0.02)
    raise AssertionError(f"not seen within {2 * promise:.0f} s")


def _json(client: httpx.Client, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response.json()


def test_a_write_in_one_process_reaches_the_other_within_two_seconds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with (
        _serving(data, tmp_path / "a.log") as (url_a, _),
        _serving(data, tmp_path / "b.log") as (url_b, _),
        httpx.Client(base_url=url_a, headers=ADMIN, timeout=30) as a,
        httpx.Client(base_url=url_b, timeout=30) as b,
    ):
        unit = _json(a, "/v1/admin/business-units")["items"][0]["slug"]
        summary = f"/v1/business-units/{unit}/summary"
        listing = f"/v1/business-units/{unit}/reviews?limit=100"

        # Warm B: its summary, review list, badge and data.json (twice, so the second is a cache hit).
        for _ in range(2):
            before = _json(b, summary)
            shown = _json(b, listing)["items"]
            badge = b.get(f"/widgets/{unit}/badge.html").text
            widget_data = _json(b, f"/widgets/{unit}/data.json")
        victim = shown[0]["id"]

        # A moderator hides a review on A: B's summary, list and widgets follow.
        hidden = a.patch(f"/v1/admin/reviews/{victim}", json={"status": "hidden", "reason": "Spam"})
        assert hidden.status_code == 200, hidden.text
        assert _within(PROMISE, lambda: _json(b, summary)["review_count"] == before["review_count"] - 1) < PROMISE
        assert _within(PROMISE, lambda: victim not in {r["id"] for r in _json(b, listing)["items"]}) < PROMISE
        # B may answer a widget with its last bytes for a moment while it renders the new ones (WIDGET_GRACE)
        assert _within(PROMISE, lambda: b.get(f"/widgets/{unit}/badge.html").text != badge) < PROMISE
        assert _within(PROMISE, lambda: _json(b, f"/widgets/{unit}/data.json") != widget_data) < PROMISE

        # An ingest on A: B counts it.
        _json(b, summary)
        record = {"source": "api", "external_id": "cross-1", "rating": 1, "text": "Kapot aangekomen.", "author": "Ria"}
        record["created_at"] = "2026-11-01T10:00:00Z"
        posted = a.post(f"/v1/admin/business-units/{unit}/reviews", json=[record])
        assert posted.status_code == 200 and posted.json()["inserted"] == 1, posted.text
        assert _within(PROMISE, lambda: _json(b, summary)["review_count"] == before["review_count"]) < PROMISE

        # A new product on A: B's catalogue knows it (its summary was a 404 on B a moment ago).
        product = f"/v1/business-units/{unit}/products/cross-sku/summary"
        assert b.get(product).status_code == 404
        added = a.post(f"/v1/admin/business-units/{unit}/products", json={"sku": "cross-sku", "name": "Cross"})
        assert added.status_code == 200, added.text
        assert _within(PROMISE, lambda: b.get(product).status_code == 200) < PROMISE

        # A business-unit change on A: B's summaries use the new display scale.
        scale = 10 if before["display"]["scale"] == 5 else 5
        changed = a.patch(f"/v1/admin/business-units/{unit}", json={"display_scale": scale})
        assert changed.status_code == 200, changed.text
        assert _within(PROMISE, lambda: _json(b, summary)["display"]["scale"] == scale) < PROMISE

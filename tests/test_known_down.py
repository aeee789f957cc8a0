"""While the store is known to be down (StoreHealth says so), in one process: what answers at once and how.

The outage is told to the instance's StoreHealth as the poller or a failing request would; the store itself
stays up, so a request that did ask it would answer fresh (and these tests would see it).
"""

from __future__ import annotations

import logging

from fastapi.testclient import TestClient

from reviews_service import domain, logs
from reviews_service.state import ServiceState


def test_junk_widget_names_during_an_outage_are_404s_and_add_no_metric_series(
    client: TestClient, state: ServiceState, shop: domain.BusinessUnit
) -> None:
    assert client.get(f"/widgets/{shop.slug}/badge.html").status_code == 200
    state.store_health.failed("test: the store is down")
    for i in range(20):
        answer = client.get(f"/widgets/{shop.slug}/junk{i}.html")
        assert answer.status_code == 404, answer.text
        assert "x-reviews-stale" not in answer.headers
    assert client.get(f"/widgets/{shop.slug}/badge.html").headers["x-reviews-stale"] == "store-unavailable"
    state.store_health.ok()
    exposition = client.get("/metrics").text
    assert "junk" not in exposition
    routes = {line.split('route="')[1].split('"')[0] for line in exposition.splitlines() if 'route="' in line}
    assert routes <= {"/widgets/{bu}/badge.html", "unmatched", "/metrics"}, routes


def test_a_message_with_a_newline_is_one_text_line() -> None:
    forged = "GET /widgets/shop/x\nINFO reviews.access: GET /admin 200 forged"
    record = logging.LogRecord("reviews.api", logging.WARNING, "", 0, "not found: %s", (forged,), None)
    text = logs.TextFormatter().format(record)
    assert text == "WARNING reviews.api: not found: GET /widgets/shop/x\\nINFO reviews.access: GET /admin 200 forged"
    assert "\n" not in text

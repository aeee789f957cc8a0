"""GET /metrics: Prometheus' text format, per-instance counters, route templates only, the jobs' counts too."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from reviews_service import collection, digests, domain, ingest, invitation_store, jobs, repository, store
from reviews_service.app import create_app
from reviews_service.errors import SourceError
from reviews_service.state import ServiceState
from tests.conftest import NOW, make_settings, review
from tests.counting_collector import Counting
from tests.mail_server import MailServer
from tests.test_digest_delivery import AT_EIGHT
from tests.test_digest_delivery import mail_settings as digest_settings
from tests.test_digest_delivery import shop as digest_shop
from tests.test_invitation_mailer import day, invitation
from tests.test_invitation_mailer import mail_settings as invitation_settings

BADGE = "/widgets/{bu}/badge.html"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition by (name, labels); parsing it also proves the format is Prometheus'."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value, 0 when the series is absent (a counter never incremented)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def scrape(client: TestClient) -> str:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text


def test_requests_are_counted_by_route_template_and_status_with_widget_cache_hits(
    client: TestClient, shop: domain.BusinessUnit
) -> None:
    for _ in range(3):
        assert client.get("/widgets/test-shop/badge.html").status_code == 200
    assert client.head("/widgets/test-shop/badge.html").status_code == 200
    assert client.get("/widgets/no-such-shop/badge.html").status_code == 404
    assert client.get("/v1/business-units/test-shop/summary?x=1").status_code == 200
    text = scrape(client)
    assert value(text, "reviews_http_requests_total", route=BADGE, method="GET", status="200") == 3
    assert value(text, "reviews_http_requests_total", route=BADGE, method="HEAD", status="200") == 1
    assert value(text, "reviews_http_requests_total", route=BADGE, method="GET", status="404") == 1
    summary = "/v1/business-units/{bu}/summary"
    assert value(text, "reviews_http_requests_total", route=summary, method="GET", status="200") == 1
    # the first badge was rendered, the next three (HEAD too) came from the cache; the 404 is neither
    assert value(text, "reviews_widget_cache_requests_total", result="miss") == 1
    assert value(text, "reviews_widget_cache_requests_total", result="hit") == 3
    assert value(text, "reviews_widget_cache_entries") >= 1
    assert "test-shop" not in text and "no-such-shop" not in text and "x=1" not in text


def test_latency_histograms_have_millisecond_buckets(client: TestClient, shop: domain.BusinessUnit) -> None:
    client.get("/widgets/test-shop/badge.html")
    client.get("/widgets/test-shop/badge.html")
    text = scrape(client)
    name = "reviews_http_request_duration_seconds"
    assert value(text, f"{name}_count", route=BADGE) == 2
    bounds = [le for (n, labels), _ in samples(text).items() if n == f"{name}_bucket" for k, le in labels if k == "le"]
    assert {"0.001", "0.0025", "0.005", "0.01", "0.1", "1.0", "2.5", "+Inf"} <= set(bounds)
    assert value(text, f"{name}_bucket", route=BADGE, le="2.5") == 2


def test_junk_paths_and_methods_make_no_new_series(client: TestClient, shop: domain.BusinessUnit) -> None:
    for n in range(20):
        assert client.get(f"/no/such/path/{n}").status_code == 404
        assert client.request(f"JUNK{n}", "/health").status_code in (400, 405)
    assert client.get("/r/a-secret-form-token").status_code == 404
    text = scrape(client)
    assert value(text, "reviews_http_requests_total", route="unmatched", method="GET", status="404") == 20
    series = [labels for (name, labels) in samples(text) if name == "reviews_http_requests_total"]
    assert len(series) <= 4, series  # unmatched GET 404, /health other 405, /r/{token} GET 404, (metrics itself)
    assert value(text, "reviews_http_requests_total", route="/r/{token}", method="GET", status="404") == 1
    assert "a-secret-form-token" not in text and "/no/such" not in text and "JUNK" not in text


def test_two_instances_count_apart(connected: store.StoreInfo, shop: domain.BusinessUnit) -> None:
    settings = make_settings()
    first, second = (create_app(settings, connect=False, state=ServiceState()) for _ in range(2))
    with TestClient(first) as a, TestClient(second) as b:
        for _ in range(3):
            a.get("/widgets/test-shop/badge.html")
        b.get("/widgets/test-shop/badge.html")
        assert value(scrape(a), "reviews_http_requests_total", route=BADGE, method="GET", status="200") == 3
        assert value(scrape(b), "reviews_http_requests_total", route=BADGE, method="GET", status="200") == 1


def test_an_expired_widget_alias_is_refreshed_so_hits_resume(client: TestClient, shop: domain.BusinessUnit) -> None:
    """A widget whose cached answer outlived the TTL is rendered once more, then answered from the cache again."""
    state: ServiceState = client.app.state.service_state  # type: ignore[attr-defined]
    client.get("/widgets/test-shop/badge.html")
    for entry in state.widgets._entries.values():  # as if the TTL had passed (monotonic clock: no fake time)
        entry.stored -= 3600
    for _ in range(3):
        assert client.get("/widgets/test-shop/badge.html").status_code == 200
    text = scrape(client)
    assert value(text, "reviews_widget_cache_requests_total", result="miss") == 2  # the first and the expired one
    assert value(text, "reviews_widget_cache_requests_total", result="hit") == 2


def test_ingest_counts_by_path_and_outcome(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], state: ServiceState
) -> None:
    url = "/v1/admin/business-units/test-shop/reviews"
    assert client.post(url, json=[review("a"), review("b")], headers=admin).status_code == 200
    edited = review("b", rating=2)
    assert client.post(url, json=[review("a"), edited, {"rating": 9}], headers=admin).status_code == 200
    ingest.ingest(state, "test-shop", [review("c")], now=NOW, default_source="csv")
    text = scrape(client)
    assert value(text, "reviews_ingest_records_total", source="api", outcome="inserted") == 2
    assert value(text, "reviews_ingest_records_total", source="api", outcome="unchanged") == 1
    assert value(text, "reviews_ingest_records_total", source="api", outcome="updated") == 1
    assert value(text, "reviews_ingest_records_total", source="api", outcome="rejected") == 1
    assert value(text, "reviews_ingest_records_total", source="csv", outcome="inserted") == 1


def test_collector_runs_and_failures_by_source(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, tmp_path: Path
) -> None:
    registry = {"counting": Counting}
    settings = make_settings()
    log = str(tmp_path / "runs.log")

    def configure(**extra: str) -> None:
        unit = repository.get_business_unit(state, "test-shop")
        repository.save_business_unit(state, replace(unit, sources={"counting": {"log": log, **extra}}))

    configure(fail="source")
    with pytest.raises(SourceError):
        collection.run_source(state, settings, registry, "test-shop", "counting", owner="test")
    configure()
    collection.run_source(state, settings, registry, "test-shop", "counting", owner="test")
    text = scrape(client)
    assert value(text, "reviews_collector_runs_total", source="counting") == 2
    assert value(text, "reviews_collector_failures_total", source="counting") == 1
    assert value(text, "reviews_ingest_records_total", source="counting", outcome="inserted") == 1


def test_digest_sends_and_failures_are_counted(connected: store.StoreInfo, state: ServiceState) -> None:
    with MailServer() as smtp:
        settings = digest_settings(smtp)
        digest_shop(state, "winkel", "nl")
        smtp.inbox.refuse = "451 4.3.0 mailbox busy, try later"
        assert digests.send_due(state, settings, now=AT_EIGHT, owner="a") == []
        smtp.inbox.refuse = None
        assert digests.send_due(state, settings, now=AT_EIGHT + digests.RETRY_AFTER, owner="a") != []
    text = state.metrics.exposition().decode()
    assert value(text, "reviews_digests_total", outcome="failed") == 1
    assert value(text, "reviews_digests_total", outcome="sent") == 1


def test_the_invitation_job_counts_the_mailers_outcomes(shop: domain.BusinessUnit, state: ServiceState) -> None:
    with MailServer() as smtp:
        settings = invitation_settings(smtp)
        invitation_store.add_invitations([invitation("ORD-1"), invitation("ORD-2")])
        assert jobs.send_invitations(state, settings, set(), now=day(3) + timedelta(seconds=30))["sent"] == 2
        smtp.inbox.wait_for(2)
    text = state.metrics.exposition().decode()
    assert value(text, "reviews_invitation_mails_total", outcome="sent") == 2
    assert "jan@example.nl" not in text and "ORD-1" not in text


def test_a_metrics_token_closes_the_endpoint_to_others(connected: store.StoreInfo, state: ServiceState) -> None:
    token = "scrape-token-0123456789abcdef"
    app = create_app(make_settings(REVIEWS_METRICS_TOKEN=token), connect=False, state=state)
    with TestClient(app) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert "REVIEWS_METRICS_TOKEN" in refused.json()["detail"]
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and "reviews_http_requests_total" in answer.text


def test_nginx_refuses_metrics_from_outside_and_still_proxies_widgets(live_server: str, nginx_binary: str) -> None:
    from tests.test_nginx_cache import nginx_in_front

    assert httpx.get(f"{live_server}/metrics", timeout=10).status_code == 200  # the API's own port: Prometheus
    with nginx_in_front(nginx_binary, live_server) as url:
        for path in ("/metrics", "/metrics/", "//metrics", "/%6detrics", "/metrics?format=x"):
            assert httpx.get(f"{url}{path}", timeout=10).status_code == 403, path
        first, second = (httpx.get(f"{url}/widgets/flinders-nl/badge.html", timeout=10) for _ in range(2))
        assert first.status_code == second.status_code == 200 and second.headers["x-cache-status"] == "HIT"
        # nginx's id for each request, the one it sent the API: a HIT does not repeat the filling request's id
        ids = [first.headers.get_list("x-request-id"), second.headers.get_list("x-request-id")]
        assert all(len(i) == 1 and len(i[0]) == 32 for i in ids) and ids[0] != ids[1], ids

"""The service's Prometheus metrics: one CollectorRegistry per ServiceState, never prometheus_client's global one.

Two instances side by side (two apps in a test, replicas in one process) each count their own requests and jobs.
Every label has a bounded set of values: routes are templates (`/widgets/{bu}/badge.html`, never the raw path,
`unmatched` for paths no route knows), methods are the HTTP ones (else `other`), sources are the names our code
passes in (collector names, `api`, `csv`, `form`...), never anything a request spells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from reviews_service import __version__

if TYPE_CHECKING:
    from reviews_service.domain import IngestReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # the text exposition format, as Prometheus asks for it
# A widget from the cache answers in well under a millisecond, an admin import can take seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # every path no route answers: one label value, whatever junk is asked for


class Metrics:
    """The counters and histograms of one service instance, and their text exposition."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no `*_created` twin of every series: Prometheus' text format does not use them
        self.registry = CollectorRegistry(auto_describe=True)
        on = self.registry
        self.requests = Counter(
            "reviews_http_requests", "HTTP answers by route template, method and status.",
            ("route", "method", "status"), registry=on,
        )  # fmt: skip
        self.latency = Histogram(
            "reviews_http_request_duration_seconds", "Time to answer, from the request to the last body byte.",
            ("route",), buckets=LATENCY_BUCKETS, registry=on,
        )  # fmt: skip
        self.widget_answers = Counter(
            "reviews_widget_cache_requests", "Widget requests answered from cached bytes (hit) or rendered (miss).",
            ("result",), registry=on,
        )  # fmt: skip
        self.widget_hit = self.widget_answers.labels("hit")
        self.widget_miss = self.widget_answers.labels("miss")
        self.ingested = Counter(
            "reviews_ingest_records", "Records ingested, by the path they came in by and what became of them.",
            ("source", "outcome"), registry=on,
        )  # fmt: skip
        self.collector_runs = Counter(
            "reviews_collector_runs", "Collector runs started, by source.", ("source",), registry=on
        )
        self.collector_failures = Counter(
            "reviews_collector_failures", "Collector runs that failed, by source.", ("source",), registry=on
        )
        self.digests = Counter("reviews_digests", "Daily digest e-mails, sent or failed.", ("outcome",), registry=on)
        self.invitation_mails = Counter(
            "reviews_invitation_mails", "Invitation e-mails and reminders: sent, reminded, failed, skipped.",
            ("outcome",), registry=on,
        )  # fmt: skip
        self.alerts = Counter("reviews_alerts_sent", "One-star alerts delivered.", registry=on)
        info = Gauge("reviews_build_info", "The running version (always 1).", ("version",), registry=on)
        info.labels(__version__).set(1)
        # (route, method, status) -> the two children to bump: labels() takes a lock and builds a tuple per call
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answer and its latency (the hot path: two dict reads and two increments)."""
        if method not in METHODS:
            method = "other"
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = self.requests.labels(route, method, str(status)), self.latency.labels(route)
            self._children[key] = children  # bounded: routes x METHODS x statuses, all from our own code
        children[0].inc()
        children[1].observe(seconds)

    def count_ingest(self, source: str, report: IngestReport) -> None:
        """Count what one ingest did, under the path the records came in by (`api`, `csv`, a collector...)."""
        for outcome, count in (
            ("inserted", report.inserted),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("rejected", len(report.rejected)),
        ):
            if count:
                self.ingested.labels(source, outcome).inc(count)

    def count_invitation_mails(self, counts: Mapping[str, int]) -> None:
        """Add the invitation mailer's counts of one look (sent, reminded, failed, skipped)."""
        for outcome, count in counts.items():
            if count:
                self.invitation_mails.labels(outcome).inc(count)

    def watch(self, name: str, help_text: str, read: Callable[[], float], kind: str = "gauge") -> None:
        """Expose a figure some object keeps itself (a cache's size), read at each scrape."""
        self.registry.register(_Reading(name, help_text, read, kind))

    def exposition(self) -> bytes:
        """Everything in Prometheus' text exposition format."""
        return generate_latest(self.registry)


class _Reading(Collector):
    """One number read from its owner at scrape time: nothing to update on the hot path."""

    def __init__(self, name: str, help_text: str, read: Callable[[], float], kind: str) -> None:
        self.name, self.help_text, self.read, self.kind = name, help_text, read, kind

    def collect(self) -> Iterable[Metric]:
        """The current value, as a gauge or a counter."""
        if self.kind == "counter":
            return [CounterMetricFamily(self.name, self.help_text, value=self.read())]
        return [GaugeMetricFamily(self.name, self.help_text, value=self.read())]

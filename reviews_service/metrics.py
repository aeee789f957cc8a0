"""The service's Prometheus metrics: one CollectorRegistry per ServiceState, never prometheus_client's global one.

Two instances side by side (two apps in a test, replicas in one process) each count their own requests and jobs.
Every label has a bounded set of values: routes are templates (`/widgets/{bu}/badge.html`, never the raw path,
`unmatched` for paths no route knows), methods are the HTTP ones (else `other`), sources are the names our code
passes in (collector names, `api`, `csv`, `form`...), never anything a request spells.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from itertools import accumulate
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
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
        # Requests are counted on the event loop's thread only (the ASGI layers), and scraped there too (an async
        # route): plain numbers, no lock per increment, turned into families at scrape time.
        self.requests = _Requests()
        on.register(self.requests)
        self.widget_hits = 0  # widget requests answered from cached bytes (WidgetFastPath)
        self.widget_misses = 0  # ... and those it had to render (or find by what they render to)
        self.widget_stale = 0  # ... and those answered with the last answer while a change elsewhere rendered anew
        on.register(_WidgetAnswers(self))
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

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answer and its latency (the hot path: a dict read, a bisect and three additions)."""
        self.requests.observe(route, method if method in METHODS else "other", status, seconds)

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


class _Series:
    """One (route, method, status): its count, the sum of its latencies and its latencies per bucket."""

    __slots__ = ("buckets", "count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one: over the largest bound


class _Requests(Collector):
    """HTTP answers by (route, method, status), as a counter and a latency histogram by route."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, int], _Series] = {}  # bounded: routes x METHODS x statuses

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Add one answer (on the event loop's thread)."""
        series = self._series.get((route, method, status))
        if series is None:
            series = self._series[(route, method, status)] = _Series()
        series.count += 1
        series.seconds += seconds
        series.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def collect(self) -> Iterable[Metric]:
        """The counter by route, method and status; the histogram by route (its methods and statuses summed)."""
        counter = CounterMetricFamily(
            "reviews_http_requests", "HTTP answers by route template, method and status.",
            labels=("route", "method", "status"),
        )  # fmt: skip
        by_route: dict[str, tuple[list[int], list[float]]] = {}
        for (route, method, status), series in list(self._series.items()):
            counter.add_metric((route, method, str(status)), series.count)
            buckets, total = by_route.setdefault(route, ([0] * len(series.buckets), [0.0]))
            for i, n in enumerate(series.buckets):
                buckets[i] += n
            total[0] += series.seconds
        histogram = HistogramMetricFamily(
            "reviews_http_request_duration_seconds", "Time to answer, from the request to the last body byte.",
            labels=("route",),
        )  # fmt: skip
        for route, (buckets, total) in by_route.items():
            bounds = [*(str(b) for b in LATENCY_BUCKETS), "+Inf"]
            histogram.add_metric((route,), list(zip(bounds, accumulate(buckets), strict=True)), total[0])
        return [counter, histogram]


class _WidgetAnswers(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        """Hits and misses of the widgets' fast path."""
        family = CounterMetricFamily(
            "reviews_widget_cache_requests",
            "Widget requests answered from cached bytes (hit), rendered (miss), or answered with the bytes from"
            " before a change made elsewhere while the new ones rendered (stale).",
            labels=("result",),
        )  # fmt: skip
        family.add_metric(("hit",), self.metrics.widget_hits)
        family.add_metric(("miss",), self.metrics.widget_misses)
        family.add_metric(("stale",), self.metrics.widget_stale)
        return [family]


class _Reading(Collector):
    """One number read from its owner at scrape time: nothing to update on the hot path."""

    def __init__(self, name: str, help_text: str, read: Callable[[], float], kind: str) -> None:
        self.name, self.help_text, self.read, self.kind = name, help_text, read, kind

    def collect(self) -> Iterable[Metric]:
        """The current value, as a gauge or a counter."""
        if self.kind == "counter":
            return [CounterMetricFamily(self.name, self.help_text, value=self.read())]
        return [GaugeMetricFamily(self.name, self.help_text, value=self.read())]

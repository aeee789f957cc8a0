"""The soak's background work: a collector ingesting at a set rate, and a moderator hiding reviews and timing
how long each stays visible in the latest-reviews widget, directly and through the nginx cache.

Ingest: every `every` seconds, `per_tick` new service reviews appear on the fake Trustpilot (dated now), and a
`reviews scheduler` process beside `reviews serve --no-scheduler` (as compose runs one beside the API) runs the
real Trustpilot collector at the source's `every_minutes` (the same period); what each run stored is read from
`GET /v1/admin/business-units/{bu}/sources`, polled every 0.25 s. Service reviews do not enter the products'
review lists, so a hidden product review leaves its widget because of the hide, not because newer reviews
pushed it out; but every batch moves the shop's summary, so every cached widget of the unit is dropped and
rendered again at the ingest rate.

Moderation: every `every` seconds the moderator takes a target review (a product review with a unique title,
ingested before the soak) that both the direct and the nginx answer of its product's data.json show, hides it
(with `"reason": "soak test"`; a build that refuses the field gets the hide without it, and the report says so),
and a watcher polls both answers until its title is gone (bounded: the documented bound plus a margin). The
times count from the PATCH's answer; a direct time includes the poll's own latency under the load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.widgets import client
from collectors.fakes.trustpilot import FakeTrustpilot


@dataclass
class Ingest:
    """New reviews on the platform every `every` seconds, collected by a `reviews scheduler` process beside
    `reviews serve` (as compose runs it); counts what the scheduler's runs stored, read from the sources endpoint."""

    fake: FakeTrustpilot
    admin: httpx.Client  # base_url = reviews serve, with the admin token
    business_unit: str
    per_tick: int
    every: float
    source: str = "trustpilot"
    inserted: int = 0
    ticks: int = 0  # batches put on the platform
    runs: int = 0  # the scheduler's runs seen (each records its start as last_run_at)
    failures: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # how long each run took, to the poll (0.25 s)
    last_tick_at: datetime | None = None
    _last_run: str | None = None
    _running_since: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    started_at: float = 0.0
    stopped_at: float = 0.0

    def tick(self) -> None:
        """One batch of reviews on the platform, dated over the last `every` seconds."""
        self.ticks += 1
        self.last_tick_at = datetime.now(UTC)
        self.fake.add(self.per_tick, newest=self.last_tick_at, step=timedelta(seconds=self.every / self.per_tick))

    def _item(self) -> dict[str, Any] | None:
        try:
            answer = self.admin.get(f"/v1/admin/business-units/{self.business_unit}/sources", timeout=30)
        except httpx.HTTPError:
            return None  # the next poll asks again; a run is recorded until the next one starts
        if answer.status_code != 200:
            return None
        return next((i for i in answer.json()["items"] if i["source"] == self.source), None)

    def observe(self) -> dict[str, Any] | None:
        """Poll the source's state once: count a run that ended since the last poll, note one that began."""
        item = self._item()
        if item is None:
            return None
        if item["running"] is not None and self._running_since is None:
            self._running_since = time.monotonic()
        if item["last_run_at"] is not None and item["last_run_at"] != self._last_run:
            if self._last_run is not None or self.started_at:  # the state before start() is the baseline
                self.runs += 1
                if item["last_outcome"] == "ok":
                    self.inserted += int((item["last_report"] or {}).get("inserted", 0))
                else:
                    self.failures.append(f"run at {item['last_run_at']}: {item['last_error']}")
                if self._running_since is not None:
                    self.seconds.append(time.monotonic() - self._running_since)
            self._last_run = item["last_run_at"]
            self._running_since = time.monotonic() if item["running"] is not None else None
        return item

    def first_sync(self, timeout: float) -> int:
        """Wait for the scheduler's first run (the shop's history); how many reviews it stored."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            item = self._item()
            if item is not None and item["last_run_at"] is not None and item["running"] is None:
                if item["last_outcome"] != "ok":
                    raise RuntimeError(f"the first collection failed: {item['last_error']}")
                self._last_run = item["last_run_at"]
                return int((item["last_report"] or {}).get("inserted", 0))
            time.sleep(0.25)
        raise RuntimeError(f"the scheduler made no first collection within {timeout:.0f} s")

    def _add_loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.tick()
            next_at += self.every
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _watch_loop(self) -> None:
        while not self._stop.is_set():
            self.observe()
            self._stop.wait(0.25)

    def start(self) -> None:
        """Put reviews on the platform, and watch the scheduler's runs, in background threads from now on."""
        self.started_at = time.monotonic()
        for target, name in ((self._add_loop, "soak-ingest"), (self._watch_loop, "soak-runs")):
            self._threads.append(threading.Thread(target=target, name=name, daemon=True))
            self._threads[-1].start()

    def stop(self, wait: bool = True) -> None:
        """No more reviews on the platform; with `wait`, until a run that began after the last batch has stored
        it (bounded: three periods and half a minute)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)
        self.stopped_at = time.monotonic()
        deadline = time.monotonic() + 3 * self.every + 30
        while wait and self.last_tick_at is not None and time.monotonic() < deadline:
            item = self.observe()
            if item is not None and item["running"] is None and item["last_run_at"] is not None:
                began = datetime.fromisoformat(item["last_run_at"])
                if (began if began.tzinfo else began.replace(tzinfo=UTC)) > self.last_tick_at:
                    return
            time.sleep(0.25)

    @property
    def per_minute(self) -> float:
        """Reviews stored per minute while it ran (each batch stands for `every` seconds of reviews, so a soak
        that stops right after a batch is not counted as faster)."""
        elapsed = max(self.stopped_at - self.started_at, self.ticks * self.every)
        return self.inserted * 60 / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True)
class Target:
    """A review the moderator may hide: its id, its product and the unique title that shows it in a widget."""

    review_id: str
    sku: str
    title: str


@dataclass
class Hide:
    """One hide: when the PATCH was answered, how long it took, and when the review was gone from each answer."""

    target: Target
    patch_ms: float
    gone_s: dict[str, float | None] = field(default_factory=dict)  # None: still visible when the watch gave up


def watch(urls: dict[str, str], title: str, since: float, limits: dict[str, float], polls: dict[str, float],
          hide: Hide) -> None:  # fmt: skip
    """Poll each of `urls` until its body no longer contains `title` (or its limit passes); record the times."""
    with client() as http:
        pending = dict(urls)
        due = dict.fromkeys(urls, since)
        while pending:
            name = min(pending, key=lambda n: due[n])
            time.sleep(max(0.0, due[name] - time.monotonic()))
            try:
                answer = http.get(pending[name])
                gone = answer.status_code == 200 and title not in answer.text
            except httpx.HTTPError:
                gone = False  # an unanswered poll proves nothing; the widget load counts errors itself
            elapsed = time.monotonic() - since
            if gone or elapsed > limits[name]:
                hide.gone_s[name] = elapsed if gone else None
                del pending[name]
            due[name] = time.monotonic() + polls[name]


@dataclass
class Moderator:
    """Hides one visible target every `every` seconds and starts a watcher for it."""

    admin: httpx.Client
    targets: list[Target]
    widget_urls: Callable[[str], dict[str, str]]  # sku -> {"direct": url, "nginx": url} of its latest reviews
    limits: dict[str, float]  # how long to watch each answer at most
    polls: dict[str, float]  # seconds between polls of each answer
    every: float
    reason: str = "soak test"
    hides: list[Hide] = field(default_factory=list)
    skipped: int = 0  # ticks with no target visible everywhere
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _send_reason: bool = True
    _stop: threading.Event = field(default_factory=threading.Event)
    _loop_thread: threading.Thread | None = None
    _threads: list[threading.Thread] = field(default_factory=list)

    def _visible(self, http: httpx.Client) -> Target | None:
        hidden = {h.target.review_id for h in self.hides}
        for sku in dict.fromkeys(t.sku for t in self.targets if t.review_id not in hidden):
            try:
                bodies = [http.get(url).text for url in self.widget_urls(sku).values()]
            except httpx.HTTPError:
                continue
            for target in self.targets:
                if target.sku == sku and target.review_id not in hidden and all(target.title in b for b in bodies):
                    return target
        return None

    def _patch(self, target: Target) -> httpx.Response:
        body = {"status": "hidden", "reason": self.reason} if self._send_reason else {"status": "hidden"}
        answer = self.admin.patch(f"/v1/admin/reviews/{target.review_id}", json=body, timeout=30)
        if answer.status_code == 422 and self._send_reason and "reason is not a field" in answer.text:
            self._send_reason = False  # a build from before the moderation reason: hide without one
            self.notes.append("this build refused the moderation `reason` (422); hid without it")
            return self._patch(target)
        return answer

    def tick(self, http: httpx.Client) -> None:
        """Hide one target that every answer shows, and start timing it."""
        target = self._visible(http)
        if target is None:
            self.skipped += 1
            return
        began = time.monotonic()
        try:
            answer = self._patch(target)
        except httpx.HTTPError as error:
            self.failures.append(f"PATCH {target.review_id}: {type(error).__name__}: {error}")
            return
        answered = time.monotonic()
        if answer.status_code != 200 or answer.json().get("status") != "hidden":
            self.failures.append(f"PATCH {target.review_id}: HTTP {answer.status_code}: {answer.text[:200]}")
            return
        hide = Hide(target, patch_ms=(answered - began) * 1000)
        self.hides.append(hide)
        args = (self.widget_urls(target.sku), target.title, answered, self.limits, self.polls, hide)
        thread = threading.Thread(target=watch, args=args, name=f"soak-watch-{len(self.hides)}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _loop(self) -> None:
        with client() as http:
            next_at = time.monotonic()
            while not self._stop.is_set():
                self.tick(http)
                next_at += self.every
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> None:
        """Moderate in a background thread from now on."""
        self._loop_thread = threading.Thread(target=self._loop, name="soak-moderator", daemon=True)
        self._loop_thread.start()

    def stop(self, wait: bool = True) -> None:
        """No more hides; with `wait`, wait (bounded by the watchers' own limits) until every watcher has its answer."""
        self._stop.set()
        if not wait:
            return
        if self._loop_thread is not None:
            self._loop_thread.join(timeout=90)  # the hide under way, if any, gets its watcher first
        deadline = time.monotonic() + max(self.limits.values()) + 30
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

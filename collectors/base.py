"""The collector interface: what every review source implements, and how one collection runs.

A source is one module with a class satisfying `Collector`: `check_config` answers at once whether a unit's
configuration can work, `collect` runs one sync through a `Run`, and an optional `probe` (see `Probing`) asks the
platform once, when a unit is saved, whether it knows the configuration. Inside, the module keeps I/O (`fetch...`,
through collectors.http) apart from pure parsing (`parse(payload) -> list of loose records`), so that parsers
are tested on golden files and fetchers against a real local server. Every record goes through the one ingest
path (reviews_service.ingest): idempotent by (source, external_id), so a page read twice counts once.

`collect_now` is what the CLI (`reviews collect`), the admin endpoint and the scheduler call: it checks the
configuration, runs the collector, and records the outcome in the source's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from reviews_service import domain, ingest, repository, source_store
from reviews_service.config import Settings
from reviews_service.errors import SourceConfigError, SourceError

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

Progress = Callable[[int, int | None], None]  # (records done so far, total if known)


@dataclass
class CollectReport:
    """What one collection did: API calls, records read, and what the ingest made of them."""

    business_unit: str
    source: str
    full: bool = False
    calls: int = 0
    retries: int = 0
    pages: int = 0
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0  # reviews the platform no longer has: kept, marked removed at the source
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def add(self, report: domain.IngestReport) -> None:
        """Count one ingest's outcome in."""
        self.inserted += report.inserted
        self.updated += report.updated
        self.unchanged += report.unchanged
        self.rejected.extend({"index": r.index, "reason": r.reason} for r in report.rejected[:50])

    def as_dict(self) -> dict[str, Any]:
        """JSON for the admin API, the CLI and the source's state."""
        return asdict(self)


@dataclass
class Run:
    """Everything one collection may use: the unit and its source settings, the store, the clock."""

    unit: domain.BusinessUnit
    source: str
    config: Mapping[str, Any]
    settings: Settings
    state: ServiceState
    report: CollectReport
    full: bool = False  # a full resync (catches edits and deletions), not an incremental one
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    progress: Progress = field(default=lambda done, total: None)

    def checkpoint(self) -> dict[str, Any]:
        """Where the last sync got to (empty before the first)."""
        return source_store.get_source_state(self.unit.slug, self.source).checkpoint

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Remember where this sync got to: call after every page, so a crash resumes without loss."""
        source_store.save_checkpoint(self.unit.slug, self.source, checkpoint)

    def ingest(self, records: Iterable[Mapping[str, Any]]) -> domain.IngestReport:
        """Store loose review records through the one ingest path, counted in the report."""
        result = ingest.ingest(
            self.state, self.unit.slug, records, now=self.now(), default_source=self.source, collector=True
        )
        self.report.add(result)
        return result


class Collector(Protocol):
    """One review source."""

    name: str

    def check_config(self, unit: domain.BusinessUnit, config: Mapping[str, Any], settings: Settings) -> None:
        """Raise SourceConfigError with a message a person can act on if this configuration cannot work."""
        ...

    def collect(self, run: Run) -> None:
        """Run one sync: fetch, parse, `run.ingest`, `run.save_checkpoint` after each page."""
        ...


class Probing(Protocol):
    """What a collector may add (optional, looked up with getattr): `probe`, one short live check of a
    configuration when a unit is saved (reviews_service.source_checks), after `check_config` passed."""

    def probe(
        self, unit: domain.BusinessUnit, config: Mapping[str, Any], settings: Settings, state: ServiceState
    ) -> dict[str, Any]:
        """One or two quick calls (collectors.http's PROBE_TIMEOUTS and PROBE_BACKOFF): SourceConfigError if the
        platform refuses the key or knows no such unit, SourceError if it cannot be reached; else what to keep
        in the source's checkpoint (e.g. the Trustpilot id found for a domain), saved only with the unit."""
        ...


def collect_now(
    state: ServiceState,
    settings: Settings,
    registry: Mapping[str, Callable[[], Collector]],
    business_unit: str,
    source: str,
    *,
    full: bool = False,
    progress: Progress | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CollectReport:
    """One collection of `source` for `business_unit`, now; its outcome is recorded in the source's state."""
    if source not in registry:
        known = ", ".join(sorted(registry)) or "none"
        raise SourceConfigError(f"unknown source {source!r}; known sources: {known}")
    unit = repository.get_business_unit(state, business_unit)
    config = unit.sources.get(source)
    if config is None:
        raise SourceConfigError(
            f"{business_unit} has no {source!r} source configured; add it to the unit's `sources` "
            f"(POST /v1/admin/business-units)"
        )
    collector = registry[source]()
    report = CollectReport(business_unit=business_unit, source=source, full=full)
    run = Run(unit, source, config, settings, state, report, full=full, now=now)
    if progress is not None:
        run.progress = progress
    previous = source_store.get_source_state(business_unit, source)
    started = now()
    try:
        collector.check_config(unit, config, settings)
        collector.collect(run)
    except SourceError as exc:
        source_store.record_run(
            business_unit, source, at=started, outcome="failed", error=exc.detail,
            report=report.as_dict(), failures=previous.failures + 1, next_run_at=None,
        )  # fmt: skip
        raise
    source_store.record_run(
        business_unit, source, at=started, outcome="ok", error=None,
        report=report.as_dict(), failures=0, next_run_at=None,
    )  # fmt: skip
    return report

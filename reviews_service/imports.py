"""Bulk imports (trustpilot-csv, generic-csv, jsonl) through the one ingest path."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from collectors import csv_import
from reviews_service import domain, repository
from reviews_service.ingest import ingest

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

DEFAULT_SOURCES = {"trustpilot-csv": "trustpilot", "generic-csv": "csv", "jsonl": "import"}


def run_import(
    state: ServiceState,
    business_unit: str,
    body: bytes,
    fmt: str,
    *,
    now: datetime,
    max_text: int = 20_000,
    progress: Callable[[int], object] | None = None,
) -> domain.IngestReport:
    """Parse a whole file, then ingest it; rejections carry the file's line numbers."""
    repository.get_business_unit(state, business_unit)
    parsed = list(csv_import.parse(body, fmt))  # a malformed header fails here, before anything is stored
    report = domain.IngestReport()
    records: list[tuple[int, Mapping[str, Any]]] = []
    for line, item in parsed:
        if isinstance(item, str):
            report.rejected.append(domain.Rejection(line, None, item))
        else:
            records.append((line, item))

    def counted() -> Iterator[tuple[int, Mapping[str, Any]]]:
        for n, pair in enumerate(records, start=1):
            yield pair
            if progress is not None and n % 500 == 0:
                progress(500)
        if progress is not None and len(records) % 500:
            progress(len(records) % 500)

    report.merge(
        ingest(
            state,
            business_unit,
            counted(),
            now=now,
            max_text=max_text,
            default_source=DEFAULT_SOURCES[fmt],
            numbered=True,
        )
    )
    report.rejected.sort(key=lambda r: r.index)
    return report

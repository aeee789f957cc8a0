"""Every review source by name: adding a source is one module and one line here (no import side effects)."""

from __future__ import annotations

from collections.abc import Callable

from collectors.base import Collector
from collectors.kiyoh import KiyohCollector
from collectors.structured_data import StructuredDataCollector
from collectors.trustpilot import TrustpilotCollector

REGISTRY: dict[str, Callable[[], Collector]] = {
    "kiyoh": KiyohCollector,
    "structured-data": StructuredDataCollector,
    "trustpilot": TrustpilotCollector,
}

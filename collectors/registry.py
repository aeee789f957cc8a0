"""Every review source by name: adding a source is one module and one line here (no import side effects)."""

from __future__ import annotations

from collections.abc import Callable

from collectors.base import Collector
from collectors.trustpilot import TrustpilotCollector

REGISTRY: dict[str, Callable[[], Collector]] = {
    "trustpilot": TrustpilotCollector,
}

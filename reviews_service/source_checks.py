"""The sources given when a unit is saved, checked at once: a configuration that cannot work is refused (422,
nothing saved); one that cannot be checked now is saved with a warning saying what will fail and how to fix it.

Per given source: the name and `every_minutes` (collection.check_sources), the collector's offline
`check_config`, then its optional live `probe` (collectors.base.Probing: one call, short timeouts, one retry).
A refused key or a unit/domain/location the platform does not know is a SourceConfigError: refused. A platform
that is down or answers 5xx (SourceError), or a credential not set in the environment yet (CredentialsMissing),
is a warning: a shop may configure its units before the key is set, and a save never waits on an outage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviews_service import domain, source_store
from reviews_service.collection import Registry, check_sources
from reviews_service.config import Settings
from reviews_service.errors import CredentialsMissing, SourceConfigError, SourceError

if TYPE_CHECKING:
    from reviews_service.state import ServiceState


@dataclass
class SourcesChecked:
    """What the checks found: warnings for the answer, and per source what its probe asks to keep."""

    warnings: list[dict[str, str]] = field(default_factory=list)
    keep: dict[str, dict[str, Any]] = field(default_factory=dict)

    def keep_found(self, business_unit: str) -> None:
        """Once the unit is saved: keep what the probes found (e.g. a Trustpilot id) for the first run."""
        for source, fields in self.keep.items():
            source_store.keep_in_checkpoint(business_unit, source, fields)


def unit_as_saved(current: domain.BusinessUnit | None, slug: str, fields: Mapping[str, Any]) -> domain.BusinessUnit:
    """The unit as it will be once these fields are set (nothing stored): what the checks look at."""
    known = {f.name for f in dataclasses.fields(domain.BusinessUnit)} - {"slug"}
    changes: dict[str, Any] = {k: (tuple(v) if k == "locales" else v) for k, v in fields.items() if k in known}
    return dataclasses.replace(current or domain.BusinessUnit(slug=slug, name=""), **changes)


def check_for_save(
    state: ServiceState,
    settings: Settings,
    registry: Registry,
    current: domain.BusinessUnit | None,
    slug: str,
    fields: Mapping[str, Any],
) -> SourcesChecked:
    """The `sources` among the fields to save checked on the unit as it will be (none given: nothing to do)."""
    sources = fields.get("sources")
    if not sources:
        return SourcesChecked()
    return check_given_sources(state, settings, registry, unit_as_saved(current, slug, fields), sources)


def check_given_sources(
    state: ServiceState,
    settings: Settings,
    registry: Registry,
    unit: domain.BusinessUnit,
    sources: Mapping[str, Any],
) -> SourcesChecked:
    """Check each given source now; raises SourceConfigError (the collector's message) if one cannot work."""
    check_sources(sources, registry)
    checked = SourcesChecked()
    for name, config in sources.items():
        collector = registry[name]()
        try:
            collector.check_config(unit, config, settings)
        except CredentialsMissing as exc:
            fix = "saved, but its collections fail until that is set in the service's environment (then restart)"
            checked.warnings.append(_warning(name, f"{exc.detail}; {fix}"))
            continue
        probe = getattr(collector, "probe", None)
        if probe is None:  # an offline check is all this source has (e.g. structured-data)
            continue
        try:
            keep = probe(unit, config, settings, state)
        except SourceConfigError:
            raise
        except SourceError as exc:  # down, 5xx, too slow: not the configuration's fault (as far as we know)
            later = "saved; the next collection tries again (its outcome: GET .../sources)"
            checked.warnings.append(_warning(name, f"could not check it now ({exc.detail}); {later}"))
            continue
        if keep:
            checked.keep[name] = dict(keep)
    return checked


def _warning(source: str, message: str) -> dict[str, str]:
    return {"source": source, "message": message}

"""Retention (REVIEWS_RETENTION_DAYS): invitations ordered longer ago are deleted, and reviews written before then lose
their e-mail address and order reference (the public part stays). Run nightly by reviews_service.jobs; the ingest
path applies the same cut to old records as they arrive (reviews_service.privacy.guarded)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from reviews_service import invitation_store, privacy_store
from reviews_service.config import Settings
from reviews_service.privacy import MAX_ROUNDS, without_contact

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

log = logging.getLogger("reviews.privacy")  # the same logger as erasure: one place for what happened to personal data


def apply_retention(state: ServiceState, settings: Settings, *, now: datetime) -> dict[str, int]:
    """Delete invitations ordered more than REVIEWS_RETENTION_DAYS ago, and take e-mail address and order reference
    out of reviews written before then (0 days: keep everything); the counts."""
    report = {"invitations": 0, "reviews": 0}
    if not settings.retention_days:
        return report
    cutoff = now - timedelta(days=settings.retention_days)
    for _ in range(MAX_ROUNDS):
        old = invitation_store.invitations_before(cutoff)
        if not old:
            break
        report["invitations"] += invitation_store.delete_invitations(old)
    touched: dict[str, set[str | None]] = {}
    for field in privacy_store.CONTACT_FIELDS:
        for _ in range(MAX_ROUNDS):
            found = privacy_store.reviews_keeping(field, cutoff)
            written = privacy_store.strip_personal([(r, without_contact(r).fingerprint) for r in found])
            for review in found:
                touched.setdefault(review.business_unit, set()).add(review.product)
            report["reviews"] += written
            if not written:  # none left (or all changed meanwhile: the next run takes them)
                break
    for unit, products in touched.items():
        state.changes.publish(unit, frozenset(products))
    if any(report.values()):
        log.info("retention (%d days): %d invitations deleted, %d reviews without contact data",
                 settings.retention_days, report["invitations"], report["reviews"])  # fmt: skip
    return report

"""REVIEWS_RETENTION_DAYS: invitations are deleted, and reviews lose their e-mail address and order reference, that
many days after the order / the review (0 keeps them); a nightly scheduler job, and a function taking `now=`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reviews_service import domain, ingest, invitation_store, jobs, repository, retention
from reviews_service.config import SettingsInvalid, load_settings
from reviews_service.state import ServiceState
from tests.conftest import NOW, make_settings, review
from tests.test_invitation_mailer import add, invitation

OLD = "2024-10-01T10:00:00Z"  # over 730 days before NOW
RECENT = "2025-12-01T10:00:00Z"
KEEP = make_settings(REVIEWS_RETENTION_DAYS="0")


def _store(state: ServiceState) -> None:
    """Reviews and invitations stored while retention was off (ingest drops contact data of old reviews otherwise)."""
    records = [
        review("old", 4, email="old@example.com", order_ref="ORD-1", created_at=OLD),
        review("old-ref", 3, order_ref="ORD-2", created_at=OLD),
        review("recent", 5, email="recent@example.com", order_ref="ORD-3", created_at=RECENT),
    ]
    assert ingest.ingest(state, "test-shop", records, now=NOW, settings=KEEP).inserted == 3
    add(
        invitation("OLD-1", ordered=NOW - timedelta(days=731), send_at=None),
        invitation("OLD-2", ordered=NOW - timedelta(days=900), send_at=None),
        invitation("NEW-1", ordered=NOW - timedelta(days=729)),
    )


def _contact(review_id: str) -> tuple[str | None, str | None]:
    stored = repository.get_review(review_id)
    return stored.email, stored.order_ref


def test_past_its_days_an_invitation_is_deleted_and_a_review_keeps_only_what_it_shows(
    shop: domain.BusinessUnit, state: ServiceState
) -> None:
    _store(state)
    settings = make_settings()
    assert settings.retention_days == 730
    before = repository.get_review("test-shop:api:old")
    assert retention.apply_retention(state, settings, now=NOW) == {"invitations": 2, "reviews": 2}
    assert _contact("test-shop:api:old") == _contact("test-shop:api:old-ref") == (None, None)
    assert _contact("test-shop:api:recent") == ("recent@example.com", "ORD-3")
    after = repository.get_review("test-shop:api:old")
    assert (after.text, after.author, after.rating) == (before.text, before.author, before.rating)
    secret = settings.secret_key.get_secret_value()
    kept = [invitation_store.find_invitation(invitation_store.invitation_id(secret, "test-shop", r)) for r in
            ("OLD-1", "OLD-2", "NEW-1")]  # fmt: skip
    assert [i is not None for i in kept] == [False, False, True]
    assert retention.apply_retention(state, settings, now=NOW) == {"invitations": 0, "reviews": 0}
    # an old export imported again does not bring the address back, and compares unchanged
    again = ingest.ingest(state, "test-shop", [review("old", 4, email="old@example.com", order_ref="ORD-1",
                                                        created_at=OLD)], now=NOW, settings=settings)  # fmt: skip
    assert again.unchanged == 1 and _contact("test-shop:api:old") == (None, None)


def test_zero_days_keeps_everything_and_the_days_are_checked(shop: domain.BusinessUnit, state: ServiceState) -> None:
    _store(state)
    assert retention.apply_retention(state, KEEP, now=NOW) == {"invitations": 0, "reviews": 0}
    assert _contact("test-shop:api:old") == ("old@example.com", "ORD-1")
    old = [review("older", 2, email="older@example.com", created_at=OLD)]
    ingest.ingest(state, "test-shop", old, now=NOW, settings=KEEP)
    assert _contact("test-shop:api:older") == ("older@example.com", None)
    ingest.ingest(state, "test-shop", [review("oldest", 2, email="oldest@example.com", created_at=OLD)], now=NOW)
    assert _contact("test-shop:api:oldest") == (None, None)  # with the default 730 days: dropped as it arrives
    short = make_settings(REVIEWS_RETENTION_DAYS="30")
    assert retention.apply_retention(state, short, now=NOW) == {"invitations": 3, "reviews": 4}
    for wrong in ("-1", "ten", "100000"):
        with pytest.raises(SettingsInvalid, match="REVIEWS_RETENTION_DAYS"):
            _load(wrong)


def _load(days: str) -> None:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REVIEWS_RETENTION_DAYS", days)
        load_settings()


def test_the_scheduler_runs_retention_nightly_under_a_lease(shop: domain.BusinessUnit, state: ServiceState) -> None:
    _store(state)
    scheduler = jobs.build_scheduler(make_settings(), state, registry={})
    try:
        (job,) = [j for j in scheduler.schedule.jobs if "retention" in j.tags]
        assert job.unit == "days" and str(job.at_time) == "04:00:00"
        assert jobs.apply_retention(state, scheduler.settings, now=NOW) == {"invitations": 2, "reviews": 2}
    finally:
        scheduler.close()

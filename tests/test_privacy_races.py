"""An erasure that runs while something else stores the reviewer's data (a form submission, an import) still takes
all of it: each side writes its own record before it looks for the other's, so one of the two always sees the
other, and nothing with her name, text or photo is left behind for a second erasure to miss."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from collectors.forms import review_id
from reviews_service import documents as docs
from reviews_service import domain, form_submit, ingest, privacy, repository
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import NOW, review
from tests.form_helpers import EMAIL, invite, photo

FORM = {
    "rating": "4",
    "title": "Snel",
    "text": "Bezorger Kees, groet Anna Bakker.",
    "rating.oak-chair": "5",
    "title.oak-chair": "Mooie stoel",
    "text.oak-chair": "Zit prettig.",
    "website": "",
}


def _nothing_of_hers(invitation: domain.Invitation) -> None:
    for sku in (None, "oak-chair"):
        stored = repository.get_review(review_id(invitation, sku))
        assert (stored.author, stored.title, stored.text, stored.photos) == ("", "", "", ()), stored
        assert stored.rating in (4, 5)  # the stars stay, anonymously
    assert docs.PhotoDoc._get_collection().count_documents({}) == 0


def test_an_erasure_while_a_form_submission_is_being_stored_takes_its_name_text_and_photo(
    client: TestClient,
    shop: domain.BusinessUnit,
    settings: Settings,
    state: ServiceState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The form was open and checked, its photo saved, when the erasure came: the reviews it stores are anonymous,
    the erasure itself deleted the photo, and an import of the same reviews later keeps them so."""
    invitation, token = invite(settings)
    real = form_submit.ingest.ingest
    erased: list[dict[str, int]] = []

    def erase_first(*args: Any, **kwargs: Any) -> domain.IngestReport:
        if not erased:
            erased.append(privacy.erase(state, settings, EMAIL, now=NOW).as_dict())
        return real(*args, **kwargs)

    monkeypatch.setattr(form_submit.ingest, "ingest", erase_first)
    files = [("photo.oak-chair", ("chair.jpg", photo(), "image/jpeg"))]
    answer = client.post(f"/r/{token}", data=FORM, files=files, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert erased == [{"reviews": 0, "invitations": 1, "photos": 1, "flags": 0}]
    _nothing_of_hers(invitation)
    assert client.get(f"/r/{token}").status_code == 410  # the form is closed for good


def test_an_erasure_between_a_submission_s_check_and_its_write_still_anonymises_what_it_wrote(
    client: TestClient,
    shop: domain.BusinessUnit,
    settings: Settings,
    state: ServiceState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process erases after this ingest checked the erasure records and before it wrote: the submission
    sees the invitation erased once it has stored, and erases what it wrote."""
    invitation, token = invite(settings)
    real = repository.write_reviews
    erased: list[dict[str, int]] = []

    def erase_first(*args: Any) -> set[str]:
        if not erased:
            erased.append(privacy.erase(ServiceState(), settings, EMAIL, now=NOW).as_dict())
        return real(*args)

    monkeypatch.setattr(repository, "write_reviews", erase_first)
    files = [("photo.oak-chair", ("chair.jpg", photo(), "image/jpeg"))]
    answer = client.post(f"/r/{token}", data=FORM, files=files, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    _nothing_of_hers(invitation)


def test_a_new_review_with_the_address_written_while_the_erasure_runs_is_erased(
    shop: domain.BusinessUnit, settings: Settings, state: ServiceState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process erases after this ingest checked the suppressions and before it inserted a new review with
    the address: the erasure's search cannot find it, so the ingest, looking again after its write, erases it; a
    later import of the same review without the address stays anonymous."""
    real = repository.write_reviews
    erased: list[dict[str, int]] = []

    def erase_first(*args: Any) -> set[str]:
        if not erased:
            erased.append(privacy.erase(ServiceState(), settings, EMAIL, now=NOW).as_dict())
        return real(*args)

    monkeypatch.setattr(repository, "write_reviews", erase_first)
    record = review("n1", 2, text="Met mijn naam Anna Bakker.", author="Anna Bakker", email=EMAIL)
    report = ingest.ingest(state, "test-shop", [record], now=NOW, settings=settings)
    assert erased == [{"reviews": 0, "invitations": 0, "photos": 0, "flags": 0}] and report.inserted == 1
    stored = repository.get_review("test-shop:api:n1")
    assert (stored.author, stored.text, stored.email, stored.rating) == ("", "", None, 2)
    again = review("n1", 2, text="Met mijn naam Anna Bakker.", author="Anna Bakker")
    ingest.ingest(state, "test-shop", [again], now=NOW, settings=settings)
    assert repository.get_review("test-shop:api:n1").text == ""


def test_a_form_review_written_while_the_erasure_runs_is_erased_by_the_ingest_itself(
    client: TestClient,
    shop: domain.BusinessUnit,
    settings: Settings,
    state: ServiceState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The erasure recorded the form's review ids before its search, and the submission's write came after that
    search: the ingest sees the records after its write (whatever the submission checks afterwards)."""
    invitation, token = invite(settings)
    real = repository.write_reviews
    erased: list[dict[str, int]] = []

    def erase_first(*args: Any) -> set[str]:
        if not erased:
            erased.append(privacy.erase(ServiceState(), settings, EMAIL, now=NOW).as_dict())
        return real(*args)

    monkeypatch.setattr(repository, "write_reviews", erase_first)
    monkeypatch.setattr(form_submit.invitation_store, "was_erased", lambda _id: False)  # its check came too early
    answer = client.post(f"/r/{token}", data=FORM, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    _nothing_of_hers(invitation)

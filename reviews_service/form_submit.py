"""A checked form submission stored: its photos, its reviews through the one ingest path, then the invitation's
count of submissions. A second submission of one form edits the reviews of the first (the same ids).

Order matters for what a reader can see: photos are saved before the reviews that name them, and a product's
replaced photos are deleted only after its review names the new ones. The caller holds the invitation's
submission lease (invitation_store.begin_submission) around store(), so two submissions of one form never
interleave their photos.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from collectors import forms
from reviews_service import domain, ingest, invitation_store, photo_store, photos, privacy, repository
from reviews_service.errors import ReviewsError
from reviews_service.form_input import Checked
from reviews_service.normalize import RecordRejected, normalize

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

MAX_TEXT = 20_000  # ingest's limit; the form's own (form_input.MAX_TEXT) is checked before and far below it


class SubmissionRefused(ReviewsError):
    """The reviews could not be stored as checked (the catalogue changed meanwhile): nothing was kept."""

    status = 409
    title = "Submission refused"
    type_slug = "submission-refused"


def earlier_reviews(invitation: domain.Invitation, skus: Iterable[str]) -> dict[str, domain.Review]:
    """The reviews an earlier submission of this invitation made, by id (none read before a first submission)."""
    if invitation.submissions == 0 and invitation.reviewed_at is None:
        return {}
    return repository.reviews_by_id(forms.review_ids(invitation, skus).values())


def store(
    state: ServiceState,
    bu: domain.BusinessUnit,
    invitation: domain.Invitation,
    checked: Checked,
    earlier: Mapping[str, domain.Review],
    products: Mapping[str, domain.Product],
    *,
    now: datetime,
) -> domain.Invitation:
    """Store one checked submission (its photos, then its reviews), count it, and return the invitation after."""
    new_ids = {sku: [photos.new_photo_id() for _ in processed] for sku, processed in checked.photos.items()}
    answers = [replace(a, photos=tuple(new_ids[a.sku])) if a.sku in new_ids else a for a in checked.answers]
    records = forms.records(invitation, answers, earlier=earlier, now=now)
    for record in records:  # ingest's own rules, once more before anything is written
        try:
            normalize(record, business_unit=bu, skus=products, now=now, max_text=MAX_TEXT)
        except RecordRejected as exc:
            raise SubmissionRefused(f"The review could not be stored: {exc}.") from None
    saved: list[str] = []
    for sku, processed in checked.photos.items():
        owner = forms.review_id(invitation, sku)
        for photo_id, photo in zip(new_ids[sku], processed, strict=True):
            photos.save_photo(photo_id, bu.slug, owner, photo, now)
            saved.append(photo_id)
    report = ingest.ingest(state, bu.slug, records, now=now, max_text=MAX_TEXT, default_source=forms.SOURCE)
    if report.rejected:  # only a product removed from the catalogue this very moment gets here
        photos.delete_photos(saved)
        raise SubmissionRefused(f"The review could not be stored: {report.rejected[0].reason}.")
    # every earlier photo of a product given new ones goes, whatever its status: one a moderator hid is no longer
    # in the review's list, and kept it could be published again over the buyer's replacement
    replaced = [
        photo.id
        for sku in new_ids
        for photo in photo_store.of_review(forms.review_id(invitation, sku))
        if photo.id not in saved
    ]
    photos.delete_photos(replaced)
    if invitation_store.was_erased(invitation.id):  # an erasure ran while this was stored and missed some of it
        privacy.erase_reviews(state, bu.slug, list(forms.review_ids(invitation, products).values()), now)
    return invitation_store.record_submission(invitation.id, now)

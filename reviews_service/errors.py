"""Our own exceptions; third-party errors are translated into these where they enter.

ReviewsError                 base: carries an HTTP status and a message a person can act on
├── NotFound                 unknown business unit, product, review or token (404)
├── InvalidInput             a payload we cannot use as a whole (400/422)
├── Unauthorized             missing or wrong admin token (401)
├── Forbidden                a valid token used outside its scope (403)
├── PayloadTooLarge          a body over the configured limit (413)
├── Busy                     a job another process is running right now (409)
├── EphemeralStoreRefused    a CLI write that would vanish with the in-memory store
└── SourceError              a review source (Trustpilot, Kiyoh, a web page) refused or failed (502)
    └── SourceConfigError    a source configured wrongly: unknown name, refused key, unknown domain (422)
        └── CredentialsMissing   the platform's key/token is not set in the environment yet (422 at a run)
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://reviews-service.dev/problems/"


def problem_document(status: int, title: str, detail: str, slug: str, **extra: Any) -> dict[str, Any]:
    """The body of an RFC 9457 `application/problem+json` answer."""
    return {"type": f"{PROBLEM_BASE}{slug}", "title": title, "status": status, "detail": detail, **extra}


class ReviewsError(Exception):
    """Base of every error this service raises on purpose."""

    status = 500
    title = "Internal error"
    type_slug = "internal"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ReviewsError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class InvalidInput(ReviewsError):
    status = 422
    title = "Invalid input"
    type_slug = "invalid-input"

    def __init__(self, detail: str, status: int = 422) -> None:
        super().__init__(detail)
        self.status = status


class Unauthorized(ReviewsError):
    status = 401
    title = "Unauthorized"
    type_slug = "unauthorized"


class Forbidden(ReviewsError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class PayloadTooLarge(ReviewsError):
    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class Busy(ReviewsError):
    """A job (a collection, a nightly rebuild) that another process holds the lease of right now."""

    status = 409
    title = "Busy"
    type_slug = "busy"


class EphemeralStoreRefused(ReviewsError):
    title = "Refused: in-memory store"
    type_slug = "ephemeral-store"


class SourceError(ReviewsError):
    """A platform we collect from refused or failed; the detail says which and what to do."""

    status = 502
    title = "Review source failed"
    type_slug = "source-failed"


class SourceConfigError(SourceError):
    """A source configured so that it cannot work (unknown name, a key the platform refuses, an unknown domain)."""

    status = 422
    title = "Review source misconfigured"
    type_slug = "source-config"


class CredentialsMissing(SourceConfigError):
    """The platform's credential (TRUSTPILOT_API_KEY, KIYOH_API_TOKEN) is not set: a unit may be configured first,
    with a warning, but no run can work until it is set."""

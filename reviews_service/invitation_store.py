"""Every query on invitations and on the suppression list (addresses never to be mailed again).

Invitations are the one place a buyer's e-mail address, name and order reference are kept. An invitation's id is
a keyed hash of (business unit, order reference): the same order sent twice (a retried call, a CSV imported
again) finds the invitation it made instead of making a second one, with no unique secondary index, and the id
says nothing about the order to anyone without REVIEWS_SECRET_KEY.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pymongo import ReturnDocument

from reviews_service import documents as docs
from reviews_service import domain, repository
from reviews_service.errors import NotFound
from reviews_service.normalize import normal_email

ID_CHARS = 24  # hex characters of the keyed hash: 96 bits, no collision among any shop's orders
SUBMITTING = timedelta(minutes=2)  # the most one submission (its photos decoded, its reviews ingested) may take


def _invitations() -> Any:
    return docs.InvitationDoc._get_collection()


def _suppressions() -> Any:
    return docs.SuppressionDoc._get_collection()


def invitation_id(secret: str, business_unit: str, order_ref: str) -> str:
    """The invitation id of one order of one unit (a keyed hash: stable, unguessable, nothing personal)."""
    message = f"invitation\n{business_unit}\n{order_ref}".encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:ID_CHARS]


def address_key(secret: str, email: str) -> str:
    """The keyed hash an address is suppressed under (the address itself is never stored there)."""
    message = f"address\n{normal_email(email)}".encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


FIELDS = (
    "business_unit", "order_ref", "email", "name", "locale", "channel", "created_at", "expires_at", "send_at",
    "sent_at", "reminder_at", "reminded_at", "opened_at", "reviewed_at", "submissions", "opted_out_at",
    "mail_attempts", "mail_error",
)  # fmt: skip


def to_raw(invitation: domain.Invitation) -> dict[str, Any]:
    """An Invitation as the stored document."""
    raw: dict[str, Any] = {"_id": invitation.id, "products": list(invitation.products)}
    raw.update({name: getattr(invitation, name) for name in FIELDS})
    return {k: v for k, v in raw.items() if v is not None or k in ("email",)}


def from_raw(raw: dict[str, Any]) -> domain.Invitation:
    """A stored invitation document as a domain Invitation."""
    created = docs.as_utc(raw["created_at"])
    expires = docs.as_utc(raw["expires_at"])
    return domain.Invitation(
        id=raw["_id"],
        business_unit=raw["business_unit"],
        order_ref=raw["order_ref"],
        email=raw.get("email"),
        name=raw.get("name") or "",
        locale=raw["locale"],
        products=tuple(raw.get("products") or ()),
        channel=raw["channel"],
        created_at=created,
        expires_at=expires,
        send_at=docs.as_utc(raw.get("send_at")),
        sent_at=docs.as_utc(raw.get("sent_at")),
        reminder_at=docs.as_utc(raw.get("reminder_at")),
        reminded_at=docs.as_utc(raw.get("reminded_at")),
        opened_at=docs.as_utc(raw.get("opened_at")),
        reviewed_at=docs.as_utc(raw.get("reviewed_at")),
        submissions=int(raw.get("submissions") or 0),
        opted_out_at=docs.as_utc(raw.get("opted_out_at")),
        mail_attempts=int(raw.get("mail_attempts") or 0),
        mail_error=raw.get("mail_error"),
    )


def add_invitations(invitations: Iterable[domain.Invitation]) -> set[str]:
    """Store the invitations not stored yet (one batch); returns the ids this call stored (the others existed)."""
    unique = {i.id: i for i in invitations}
    return repository.insert_missing(_invitations(), [to_raw(i) for i in unique.values()])


def existing_ids(ids: Iterable[str]) -> set[str]:
    """Which of these invitation ids are stored, in one `$in` read of `_id`s (a re-imported file's orders)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return set()
    return {raw["_id"] for raw in _invitations().find({"_id": {"$in": wanted}}, {"_id": 1})}


def get_invitation(invitation_id: str) -> domain.Invitation:
    """One invitation by id, or NotFound."""
    raw = _invitations().find_one({"_id": invitation_id})
    if raw is None:
        raise NotFound(f"No invitation with id '{invitation_id}'.")
    return from_raw(raw)


def find_invitation(invitation_id: str) -> domain.Invitation | None:
    """One invitation by id, or None."""
    raw = _invitations().find_one({"_id": invitation_id})
    return None if raw is None else from_raw(raw)


def mark_opened(invitation_id: str, now: datetime) -> None:
    """Record the first time its form was opened (later openings change nothing)."""
    _invitations().update_one({"_id": invitation_id, "opened_at": None}, {"$set": {"opened_at": now}})


def record_submission(invitation_id: str, now: datetime) -> domain.Invitation:
    """Count a submission of its form; the first sets `reviewed_at` and cancels the reminder."""
    _invitations().update_one(
        {"_id": invitation_id, "reviewed_at": None}, {"$set": {"reviewed_at": now, "reminder_at": None}}
    )
    raw = _invitations().find_one_and_update(
        {"_id": invitation_id}, {"$inc": {"submissions": 1}}, return_document=ReturnDocument.AFTER
    )
    if raw is None:
        raise NotFound(f"No invitation with id '{invitation_id}'.")
    return from_raw(raw)


def begin_submission(invitation_id: str, now: datetime, hold: timedelta = SUBMITTING) -> bool:
    """Take the invitation's one submission lease (True), or False while another submission of its form is being
    stored: two at once (a double click, two tabs) would each replace the reviews' photos and orphan the other's.
    A lease left by a process that died lapses after `hold`."""
    taken = _invitations().find_one_and_update(
        {"_id": invitation_id, "$or": [{"submitting_until": None}, {"submitting_until": {"$lte": now}}]},
        {"$set": {"submitting_until": now + hold}},
        projection={"_id": 1},
    )
    return taken is not None


def end_submission(invitation_id: str) -> None:
    """Give the submission lease back."""
    _invitations().update_one({"_id": invitation_id}, {"$set": {"submitting_until": None}})


def suppress(secret: str, email: str, reason: str, now: datetime) -> None:
    """Never mail this address again (kept as a keyed hash); an erasure outranks an opt-out."""
    key = address_key(secret, email)
    if reason == "erased":
        _suppressions().update_one({"_id": key}, {"$set": {"reason": reason, "at": now}}, upsert=True)
    else:
        _suppressions().update_one({"_id": key}, {"$setOnInsert": {"reason": reason, "at": now}}, upsert=True)


def suppressed(secret: str, emails: Iterable[str]) -> set[str]:
    """Which of these addresses must not be mailed (opted out or erased), in one `$in` read."""
    return set(suppressions(secret, emails))


def suppressions(secret: str, emails: Iterable[str]) -> dict[str, str]:
    """The suppressed ones of these addresses, each with its reason ("opted_out" or "erased"), in one `$in` read."""
    keys = {address_key(secret, e): e for e in emails if e}
    if not keys:
        return {}
    found = _suppressions().find({"_id": {"$in": list(keys)}}, {"_id": 1, "reason": 1})
    return {keys[raw["_id"]]: raw["reason"] for raw in found}


def opt_out(secret: str, invitation_id: str, now: datetime) -> domain.Invitation:
    """The buyer asked for no more mail: this invitation stops, and its address is suppressed for every unit."""
    raw = _invitations().find_one_and_update(
        {"_id": invitation_id},
        {"$set": {"send_at": None, "reminder_at": None}},
        return_document=ReturnDocument.AFTER,
    )
    if raw is None:
        raise NotFound(f"No invitation with id '{invitation_id}'.")
    if raw.get("opted_out_at") is None:
        raw = _invitations().find_one_and_update(
            {"_id": invitation_id, "opted_out_at": None},
            {"$set": {"opted_out_at": now}},
            return_document=ReturnDocument.AFTER,
        ) or _invitations().find_one({"_id": invitation_id})
    if raw.get("email"):
        suppress(secret, raw["email"], "opted_out", now)
    return from_raw(raw)


# --- the mailer's two queues ---------------------------------------------------------------------
# A first mail is due while `send_at` <= now, the reminder while `reminder_at` <= now; each is read on its own
# sparse index (a missing or null time matches no `$lte`, on MongoDB as on the embedded store). Whatever is
# claimed leaves the queue or moves on in it (sent, skipped, retried later, given up): nothing stays due.

Queue = Literal["send_at", "reminder_at"]


@dataclass(frozen=True)
class MailClaim:
    """A mail this sender holds until `until`: the invitation, its queue (first mail or reminder), the claim."""

    invitation: domain.Invitation
    queue: Queue
    token: str
    until: datetime


def claim_mail(queue: Queue, *, now: datetime, hold: timedelta) -> MailClaim | None:
    """Take the longest-due mail of `queue` for `hold` (one conditional update: of two senders one wins it)."""
    token, until = uuid.uuid4().hex, now + hold
    raw = _invitations().find_one_and_update(
        {queue: {"$lte": now}},
        {"$set": {queue: until, "claim": token}},
        sort=[(queue, 1)],
        return_document=ReturnDocument.AFTER,
    )
    return None if raw is None else MailClaim(from_raw(raw), queue, token, until)


def still_claimed(claim: MailClaim) -> bool:
    """Whether this claim still holds its mail (one read by `_id`): False once it expired and another took it."""
    return _invitations().find_one({"_id": claim.invitation.id, "claim": claim.token}, {"_id": 1}) is not None


def mail_sent(claim: MailClaim, now: datetime, reminder_at: datetime | None) -> bool:
    """Record the mail sent (only while this claim holds it): the first mail schedules the reminder at
    `reminder_at` (None: none), the reminder ends the mailing. False if the claim had expired and was taken."""
    done = "sent_at" if claim.queue == "send_at" else "reminded_at"
    changes: dict[str, Any] = {done: now, "mail_attempts": 0, "mail_error": None}
    unset = {claim.queue: "", "claim": ""}
    if claim.queue == "send_at" and reminder_at is not None:
        changes["reminder_at"] = reminder_at
    result = _invitations().update_one(
        {"_id": claim.invitation.id, "claim": claim.token}, {"$set": changes, "$unset": unset}
    )
    return bool(result.modified_count)


def mail_failed(claim: MailClaim, error: str, retry_at: datetime | None) -> None:
    """Record a failed attempt: due again at `retry_at`, or given up on (out of the queue) when None."""
    update: dict[str, Any] = {"$set": {"mail_error": error[:500]}, "$inc": {"mail_attempts": 1}}
    if retry_at is None:
        update["$unset"] = {claim.queue: "", "claim": ""}
    else:
        update["$set"][claim.queue] = retry_at
        update["$unset"] = {"claim": ""}
    _invitations().update_one({"_id": claim.invitation.id, "claim": claim.token}, update)


def mail_skipped(claim: MailClaim, reason: str | None) -> None:
    """Take it out of the queue unsent (opted out, suppressed, reviewed, expired); `reason` kept as its error."""
    update: dict[str, Any] = {"$unset": {claim.queue: "", "claim": ""}}
    if reason:
        update["$set"] = {"mail_error": reason[:500]}
    _invitations().update_one({"_id": claim.invitation.id, "claim": claim.token}, update)


def mail_due(queue: Queue, now: datetime) -> bool:
    """Whether any mail of `queue` is due (one indexed read of one key)."""
    return _invitations().find_one({queue: {"$lte": now}}, {"_id": 1}) is not None


NEWEST_FIRST = [("created_at", -1), ("_id", -1)]  # the order of the admin list (InvitationDoc's first index)


def state_query(state: str, now: datetime) -> dict[str, Any]:
    """The filter of the invitations in one state at `now`, exactly as `Invitation.state` ranks them.

    Only null tests (a field missing or null is "not yet") and one time comparison: a residual filter on the
    walk along (business_unit, -created_at, -_id), the same on MongoDB and on the embedded store."""
    ranks: list[tuple[str, dict[str, Any]]] = [
        ("opted_out", {"opted_out_at": {"$ne": None}}),
        ("reviewed", {"reviewed_at": {"$ne": None}}),
        ("expired", {"expires_at": {"$lte": now}}),
        ("opened", {"opened_at": {"$ne": None}}),
        ("sent", {"sent_at": {"$ne": None}}),
        ("created", {}),
    ]
    negations: dict[str, dict[str, Any]] = {
        "opted_out": {"opted_out_at": None},
        "reviewed": {"reviewed_at": None},
        "expired": {"expires_at": {"$gt": now}},
        "opened": {"opened_at": None},
        "sent": {"sent_at": None},
    }
    query: dict[str, Any] = {}
    for name, condition in ranks:
        if name == state:
            return {**query, **condition}
        query.update(negations[name])  # every state ranked above this one does not hold
    raise ValueError(f"unknown invitation state {state!r}")


@dataclass(frozen=True)
class InvitationPage:
    """One page of invitations, newest order first, and the cursor of the next."""

    items: list[domain.Invitation]
    next_cursor: str | None


def list_invitations(
    business_unit: str | None, *, state: str | None, now: datetime, limit: int, cursor: str | None = None
) -> InvitationPage:
    """A unit's invitations (None: every unit's), newest order first, keyset-paginated on (created_at, _id)."""
    query: dict[str, Any] = {} if business_unit is None else {"business_unit": business_unit}
    if state is not None:
        query.update(state_query(state, now))
    if cursor:
        after_time, after_id = repository.decode_cursor(cursor)
        query["$or"] = [{"created_at": {"$lt": after_time}}, {"created_at": after_time, "_id": {"$lt": after_id}}]
    raws = list(_invitations().find(query).sort(NEWEST_FIRST).limit(limit + 1))
    items = [from_raw(raw) for raw in raws[:limit]]
    next_cursor = repository.encode_cursor(items[-1]) if len(raws) > limit and items else None
    return InvitationPage(items, next_cursor)


# --- erasure, export and retention (reviews_service.privacy) ---------------------------------------------------

PAGE = 500  # invitations read at a time


def invitations_of_address(email: str, limit: int = PAGE) -> list[domain.Invitation]:
    """Up to `limit` invitations sent to this (normalised) address, on the invitations.email index."""
    return [from_raw(raw) for raw in _invitations().find({"email": email}).limit(limit)]


def erase_invitation(invitation: domain.Invitation, now: datetime) -> bool:
    """Strip an invitation of its buyer (address, name, order reference), stop its mail and close its form; the
    document stays, so the same order imported again is 'existing', not a new invitation with the name in it."""
    changes: dict[str, Any] = {"email": None, "name": "", "order_ref": "", "mail_error": None, "erased_at": now}
    if invitation.expires_at > now:
        changes["expires_at"] = now  # its form link answers 410 from now on
    result = _invitations().update_one(
        {"_id": invitation.id}, {"$set": changes, "$unset": {"send_at": "", "reminder_at": "", "claim": ""}}
    )
    return bool(result.matched_count)


def was_erased(invitation_id: str) -> bool:
    """Whether an erasure stripped this invitation (one read by `_id`): a submission stored meanwhile is erased too."""
    return _invitations().find_one({"_id": invitation_id, "erased_at": {"$ne": None}}, {"_id": 1}) is not None


def invitations_before(cutoff: datetime, limit: int = PAGE) -> list[str]:
    """The ids of the oldest invitations ordered before `cutoff`, oldest first (the (-created_at, -_id) index walked
    from its old end: it stops after `limit`)."""
    query = {"created_at": {"$lt": cutoff}}
    cursor = _invitations().find(query, {"_id": 1}).sort([("created_at", 1), ("_id", 1)]).limit(limit)
    return [raw["_id"] for raw in cursor]


def delete_invitations(ids: list[str]) -> int:
    """Delete these invitations; how many were still there."""
    return int(_invitations().delete_many({"_id": {"$in": ids}}).deleted_count) if ids else 0

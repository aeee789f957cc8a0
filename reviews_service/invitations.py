"""Orders become invitations: one order (from a shop's back end, a till, or a line of a CSV export) is checked,
then stored once as an invitation to review the shop and each product bought.

The same order again (a retried call, a file imported twice, a line repeated in one file) finds the invitation it
made: its id is a keyed hash of (unit, order reference), and the store keeps the first. An address on the
suppression list (opted out, or erased) is never written onto an invitation, so it cannot come back through one; for
an erased address neither are the buyer's name and order reference, which no export or erasure by address could
find on an invitation without one.
Every check happens before anything is stored; a batch costs one catalogue read, one suppression read and one
bulk insert, whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from reviews_service import domain, invitation_csv, invitation_store, repository
from reviews_service.config import Settings
from reviews_service.errors import InvalidInput, NotFound
from reviews_service.invitation_links import form_link, make_token
from reviews_service.orders import MAX_ORDER_REF, Order, OrderRejected, check_order, unknown_products

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

BATCH = 1000  # orders per catalogue read and bulk insert

Mail = Literal["scheduled", "none", "suppressed"]


class Outcome(NamedTuple):
    """What one order came to: its invitation, whether this call made it, and what happens about mail (a tuple, so
    `invitation, created, mail = create(...)` reads it too)."""

    invitation: domain.Invitation
    created: bool
    mail: Mail


@dataclass
class BatchReport:
    """Counts of a batch of orders (exact), and the first rejections with their line numbers."""

    created: int = 0
    existing: int = 0
    rejected: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    mail: dict[str, int] = field(default_factory=lambda: {"scheduled": 0, "none": 0, "suppressed": 0})
    mail_reasons: dict[str, int] = field(default_factory=dict)  # new invitations not mailed for their unit's policy
    max_rejections: int = 100

    def reject(self, line: int, order_ref: str | None, reason: str) -> None:
        """Count a rejected order; the first `max_rejections` are listed."""
        self.rejected += 1
        if len(self.rejections) < self.max_rejections:
            self.rejections.append({"line": line, "order_ref": order_ref, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        """The report as the API answers it."""
        return {
            "created": self.created,
            "existing": self.existing,
            "rejected": self.rejected,
            "rejections": self.rejections,
            "rejections_listed": len(self.rejections),
            "mail": self.mail,
            "mail_reasons": self.mail_reasons,
        }


# --- making invitations -------------------------------------------------------------------------------------------


def build(
    secret: str, unit: domain.BusinessUnit, order: Order, *, suppressed: bool, now: datetime, erased: bool = False
) -> tuple[domain.Invitation, Mail]:
    """The invitation an order makes (not stored), and its mail: none without an address or with send=false.
    `erased`: the address was erased, so the buyer's name and order reference are not stored either (its id still
    comes from the reference: the same order again finds it)."""
    policy = unit.invitations
    expires_at = order.ordered_at + timedelta(days=policy.expiry_days)
    if expires_at <= now:
        raise OrderRejected(
            f"the order of {order.ordered_at:%Y-%m-%d} is past {unit.slug}'s {policy.expiry_days}-day window: "
            f"its invitation expired on {expires_at:%Y-%m-%d}"
        )
    email = None if suppressed else order.email
    mailed = email is not None and order.send is not False
    mail: Mail = "suppressed" if suppressed else "scheduled" if mailed else "none"
    # a late import's delay passed already: mailed now. A unit saved with delay_days >= expiry_days (refused
    # since) would have it due after its link expired: no mail, and the invitation says why
    send_at = max(now, order.ordered_at + timedelta(days=policy.delay_days)) if mailed else None
    unmailable = None
    if send_at is not None and send_at >= expires_at:
        send_at, mail = None, "none"
        unmailable = (
            f"not mailed: {unit.slug}'s first mail is due {policy.delay_days:g} days after the order, but its link "
            f"expires after {policy.expiry_days}: delay_days must be less than expiry_days"
        )
    invitation = domain.Invitation(
        id=invitation_store.invitation_id(secret, unit.slug, order.order_ref),
        business_unit=unit.slug,
        order_ref="" if erased else order.order_ref,
        email=email,
        name="" if erased else order.name,
        locale=order.locale,
        products=order.products,
        channel=order.channel,
        created_at=order.ordered_at,
        expires_at=expires_at,
        send_at=send_at,
        mail_error=unmailable,
    )
    return invitation, mail


def mail_of(invitation: domain.Invitation) -> Mail:
    """What an invitation already stored does about mail (a suppressed address left nothing to tell apart)."""
    return "scheduled" if invitation.send_at is not None or invitation.sent_at is not None else "none"


def mail_reason(invitation: domain.Invitation, mail: Mail) -> str | None:
    """Why an invitation gets no mail, in words for the admin (None: it is scheduled)."""
    if mail == "scheduled":
        return None
    if mail == "suppressed":
        return "not mailed: the address opted out or was erased (it is not stored)"
    if invitation.mail_error:
        return invitation.mail_error  # the policy's window, or why the mailer gave up on it
    return "not mailed: the order has no e-mail address" if invitation.email is None else "not mailed: send was false"


def link(settings: Settings, invitation: domain.Invitation) -> str:
    """The public address of an invitation's form (its token names the id and the expiry, nothing else)."""
    secret = settings.secret_key.get_secret_value()
    return form_link(settings.public_url, make_token(secret, invitation.id, invitation.expires_at))


def create(
    state: ServiceState,
    settings: Settings,
    order: Mapping[str, Any],
    *,
    now: datetime,
    authorize: Callable[[str], object] = lambda _bu: None,
) -> Outcome:
    """One order -> its invitation (made now, or the one the same order made before: then unchanged).

    `authorize(bu)` raises for a caller that may not act on the order's unit. Bad input: InvalidInput, nothing stored.
    """
    bu = order.get("business_unit")
    if not isinstance(bu, str) or not bu:
        raise InvalidInput("business_unit is required: the slug of the unit the order was placed at.")
    authorize(bu)
    try:
        unit = repository.get_business_unit(state, bu)
    except NotFound as exc:
        raise InvalidInput(f"business_unit: {exc.detail}") from exc
    secret = settings.secret_key.get_secret_value()
    try:
        checked = check_order(order, unit, now=now)
        problem = unknown_products(checked, repository.products(state, bu, checked.products), unit)
        if problem:
            raise OrderRejected(f"products {problem}")
        reason = invitation_store.suppressions(secret, [checked.email]).get(checked.email) if checked.email else None
        suppressed = reason is not None
        invitation, mail = build(secret, unit, checked, suppressed=suppressed, now=now, erased=reason == "erased")
    except OrderRejected as exc:
        raise InvalidInput(_sentence(str(exc))) from exc
    if invitation.id in invitation_store.add_invitations([invitation]):
        return Outcome(invitation, True, mail)
    existing = invitation_store.get_invitation(invitation.id)
    return Outcome(existing, False, "suppressed" if suppressed else mail_of(existing))


def _sentence(reason: str) -> str:
    return reason if reason.endswith(".") else reason + "."  # starts with the field's name as written


def create_many(
    state: ServiceState,
    settings: Settings,
    unit: domain.BusinessUnit,
    rows: Iterable[tuple[int, Mapping[str, Any] | str]],
    *,
    now: datetime,
    progress: Callable[[int], object] | None = None,
) -> BatchReport:
    """Numbered orders (or a string saying why a line could not be read) -> invitations, BATCH at a time."""
    report = BatchReport()
    for batch in _batches(rows, BATCH):
        _create_batch(state, settings, unit, batch, now=now, report=report)
        if progress is not None:
            progress(len(batch))
    return report


def import_csv(
    state: ServiceState,
    settings: Settings,
    business_unit: str,
    body: bytes,
    *,
    now: datetime,
    progress: Callable[[int], object] | None = None,
) -> dict[str, Any]:
    """A CSV of orders -> invitations: the counts, line-numbered rejections and the columns that were ignored."""
    unit = repository.get_business_unit(state, business_unit)
    parsed = invitation_csv.parse(body)  # a header that cannot work fails here, before anything is stored
    report = create_many(state, settings, unit, parsed.rows, now=now, progress=progress)
    return {**report.as_dict(), "unknown_columns": list(parsed.unknown_columns), "delimiter": parsed.delimiter}


def _batches(rows: Iterable[tuple[int, Mapping[str, Any] | str]], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _create_batch(
    state: ServiceState,
    settings: Settings,
    unit: domain.BusinessUnit,
    batch: list[tuple[int, Mapping[str, Any] | str]],
    *,
    now: datetime,
    report: BatchReport,
) -> None:
    secret = settings.secret_key.get_secret_value()
    checked: list[tuple[int, Order]] = []
    rejected: list[tuple[int, str | None, str]] = []  # reported in line order once the batch is through
    for line, raw in batch:
        if isinstance(raw, str):
            rejected.append((line, None, raw))
            continue
        try:
            checked.append((line, check_order(raw, unit, now=now)))
        except OrderRejected as exc:
            ref = raw.get("order_ref")
            rejected.append((line, (ref.strip()[:MAX_ORDER_REF] or None) if isinstance(ref, str) else None, str(exc)))
    known = repository.products(state, unit.slug, {sku for _, order in checked for sku in order.products})
    blocked = invitation_store.suppressions(secret, [o.email for _, o in checked if o.email])
    made: dict[str, tuple[domain.Invitation, Mail]] = {}
    repeats = 0
    for line, order in checked:
        try:
            problem = unknown_products(order, known, unit)
            if problem:
                raise OrderRejected(f"products {problem}")
            reason = blocked.get(order.email) if order.email else None
            invitation, mail = build(
                secret, unit, order, suppressed=reason is not None, now=now, erased=reason == "erased"
            )
        except OrderRejected as exc:
            rejected.append((line, order.order_ref, str(exc)))
            continue
        if invitation.id in made:
            repeats += 1  # the same order twice in one file: the first line's invitation stands
        else:
            made[invitation.id] = (invitation, mail)
    for line, ref, reason in sorted(rejected, key=lambda r: r[0]):
        report.reject(line, ref, reason)
    # Orders invited before (a daily export overlaps yesterday's) are found in one read, not by failed inserts;
    # add_invitations still keeps the first of two imports racing on the same order.
    before = invitation_store.existing_ids(made)
    stored = invitation_store.add_invitations(i for i, _ in made.values() if i.id not in before)
    report.created += len(stored)
    report.existing += len(made) - len(stored) + repeats
    for invitation_id in stored:
        invitation, mail = made[invitation_id]
        report.mail[mail] += 1
        if invitation.mail_error:
            report.mail_reasons[invitation.mail_error] = report.mail_reasons.get(invitation.mail_error, 0) + 1

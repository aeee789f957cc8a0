"""An order as it arrives (JSON from a shop's back end, a line of a CSV export, a till), checked field by field
before it may become an invitation: every refusal says which field and why, in words the sender can act on.
Pure: the catalogue and the suppression list are asked by the caller (reviews_service.invitations), once a batch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from reviews_service import domain
from reviews_service.normalize import EMAIL_RE, RecordRejected, clean_text, json_type, normal_email

LOCALES = ("nl", "en", "de", "fr")  # the languages the form and the mails speak
MAX_ORDER_REF = 200
MAX_NAME = 200
MAX_EMAIL = 254
MAX_PRODUCTS = 50
CLOCK_SKEW = timedelta(minutes=1)  # how far in the future an order's time may be (the till's clock runs ahead)
SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
LOCALE_RE = re.compile(r"^([a-z]{2})(?:[-_][a-z0-9]{2,8})*$")


class OrderRejected(ValueError):
    """An order that cannot become an invitation; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class Order:
    """An order as checked: every field valid, the products not yet matched against the catalogue."""

    order_ref: str
    email: str | None
    name: str
    locale: str
    products: tuple[str, ...]
    channel: domain.Channel
    ordered_at: datetime
    send: bool | None  # None: mail it when there is an address


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise OrderRejected(f"{name} must be a string, not {json_type(value)}")
    return value


def _order_ref(value: Any) -> str:
    ref = _text(value, "order_ref").strip()
    if not ref:
        raise OrderRejected("order_ref is required (the shop's reference of the order)")
    if len(ref) > MAX_ORDER_REF:
        raise OrderRejected(f"order_ref is {len(ref):,} characters; the limit is {MAX_ORDER_REF}")
    if not ref.isprintable():
        raise OrderRejected("order_ref must be printable characters only (no control characters or line breaks)")
    return ref


def _email(value: Any) -> str | None:
    email = _text(value, "email").strip()
    if not email:
        return None
    # isprintable: no control, format or unassigned characters (checked at C speed; spaces the pattern refuses)
    if len(email) > MAX_EMAIL or not EMAIL_RE.match(email) or not email.isprintable():
        raise OrderRejected("email is not an e-mail address")
    return normal_email(email)


def _name(value: Any) -> str:
    try:
        name = clean_text(_text(value, "name"), "name", MAX_NAME * 4)
    except RecordRejected as exc:
        raise OrderRejected(str(exc)) from exc
    name = " ".join(name.split())  # one line: it goes into a mail's To header
    if len(name) > MAX_NAME:
        raise OrderRejected(f"name is {len(name):,} characters; the limit is {MAX_NAME}")
    return name


def default_locale(unit: domain.BusinessUnit) -> str:
    """The language of a unit's buyers when an order does not say: its first locale if the form speaks it."""
    first = unit.locales[0].lower()[:2] if unit.locales else ""
    return first if first in LOCALES else "en"


def _locale(value: Any, unit: domain.BusinessUnit) -> str:
    text = _text(value, "locale").strip().lower()
    if not text:
        return default_locale(unit)
    match = LOCALE_RE.match(text)
    if match is None or match.group(1) not in LOCALES:
        raise OrderRejected(f"locale {text[:20]!r} is not supported; use one of {', '.join(LOCALES)} (or e.g. nl-BE)")
    return match.group(1)


def _products(value: Any) -> tuple[str, ...]:
    if value is None:
        raise OrderRejected("products is required: a list of the SKUs bought ([] for a shop review only)")
    if not isinstance(value, list):
        raise OrderRejected(f"products must be a list of SKUs, not {json_type(value)}")
    skus: dict[str, None] = {}
    for item in value:
        if not isinstance(item, str) or not SKU_RE.match(item.strip()):
            shown = item[:40] if isinstance(item, str) else json_type(item)
            raise OrderRejected(f"products must be SKUs (letters, digits, '.', '_', '-'); {shown!r} is not one")
        skus[item.strip()] = None  # the same product twice in an order is one product to review
    if len(skus) > MAX_PRODUCTS:
        raise OrderRejected(f"an order may name at most {MAX_PRODUCTS} products; this one names {len(skus)}")
    return tuple(skus)


def _channel(value: Any) -> domain.Channel:
    text = _text(value, "channel").strip().lower() or "web"
    if text not in domain.CHANNELS:
        raise OrderRejected(f"channel must be one of {', '.join(domain.CHANNELS)}, not {text[:20]!r}")
    return "store" if text == "store" else "web"


def parse_time(value: Any, now: datetime) -> datetime:
    """An order's time (ISO 8601; UTC when it names no offset), to the millisecond MongoDB keeps; not in the future."""
    text = _text(value, "ordered_at").strip()
    if not text:
        moment = now
    else:
        try:
            moment = datetime.fromisoformat(text)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range by its offset
            raise OrderRejected(
                f"ordered_at {text[:40]!r} is not an ISO 8601 time such as 2026-11-20T14:30:00+01:00"
            ) from None
        if moment > now + CLOCK_SKEW:
            raise OrderRejected(f"ordered_at {text[:40]} is in the future")
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _send(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise OrderRejected(f"send must be true or false, not {str(value)[:20]!r}")


def check_order(raw: Mapping[str, Any], unit: domain.BusinessUnit, *, now: datetime) -> Order:
    """The order's fields checked one by one (the catalogue is asked later, once per batch); OrderRejected."""
    order_ref = _order_ref(raw.get("order_ref"))
    channel = _channel(raw.get("channel"))
    email = _email(raw.get("email"))
    if email is None and channel == "web":
        raise OrderRejected("email is required for a web order (a store order may leave it out: the receipt's QR code)")
    send = _send(raw.get("send"))
    if send and email is None:
        raise OrderRejected("send is true but the order has no email to send to")
    return Order(
        order_ref=order_ref,
        email=email,
        name=_name(raw.get("name")),
        locale=_locale(raw.get("locale"), unit),
        products=_products(raw.get("products")),
        channel=channel,
        ordered_at=parse_time(raw.get("ordered_at"), now),
        send=send,
    )


def unknown_products(order: Order, known: Mapping[str, object], unit: domain.BusinessUnit) -> str | None:
    """Why the order names products the catalogue (`known`, by sku) does not have, or None when it has them all."""
    unknown = [sku for sku in order.products if sku not in known]
    if not unknown:
        return None
    shown = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
    return f"not in {unit.slug}'s catalogue: {shown} (add them with POST /v1/admin/business-units/{unit.slug}/products)"

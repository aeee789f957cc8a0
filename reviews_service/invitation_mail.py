"""The invitation e-mail (and its one reminder) in the buyer's language. Pure: an invitation in, a message out.

What the buyer sees: the shop's name, the date of the order, the names of the products bought, one clear button
to the form and a row of star links that open it with the shop's rating chosen (`?rating=N`), how long the link
works, and a footer saying why the mail came with a link to unsubscribe. Not the order reference: a till's or a
back end's number means nothing to a buyer and is personal data a forwarded mail would carry on. The subject
names the shop only.

The HTML is what mail clients render: tables 600 px wide at most, every style inline, no image (it reads the
same with images blocked), no script. Everything a shop or a buyer wrote is escaped, and line breaks never reach
a header. The words are in the `invitations.po` catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from html import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reviews_service import domain
from reviews_service.alert_message import HEADERS_UNFOLDED
from reviews_service.i18n import format_date, gettext, ngettext, pick

MAX_PRODUCTS = 10  # product names listed; the rest are counted ("and 4 more products")
NAME_CHARS = 80  # of a shop's, buyer's or product's name where one line is meant (subject, From, To, list)
FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
TEXT = f"{FONT};font-size:16px;line-height:1.5;color:#1f2933;overflow-wrap:anywhere;word-break:break-word"
MUTED = f"{FONT};font-size:13px;line-height:1.45;color:#52606d;overflow-wrap:anywhere"
BUTTON = "#0b6e4f"  # white on it: 6.4:1, above WCAG AA for any text size
STAR = "#b45309"  # the stars' glyphs (decoration: the label under them says the number)


class Unmailable(ValueError):
    """The invitation's address cannot be written into an e-mail (no address, or not one a header can hold)."""


def one_line(text: str, limit: int = NAME_CHARS) -> str:
    """`text` on one line (every run of whitespace, line breaks too, one space), cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def rating_link(link: str, rating: int) -> str:
    """The form's link with the shop's rating chosen (the form reads `?rating=N`)."""
    return f"{link}{'&' if '?' in link else '?'}rating={rating}"


def product_names(invitation: domain.Invitation, products: Mapping[str, domain.Product]) -> list[str]:
    """The names of the products bought, in the order's order, each once (a SKU the catalogue lacks as itself)."""
    names: list[str] = []
    for sku in dict.fromkeys(invitation.products):
        product = products.get(sku)
        name = one_line(product.name if product is not None and product.name.strip() else sku)
        if name:
            names.append(name)
    return names


def _local_date(moment: datetime, timezone: str, locale: str) -> str:
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return format_date(moment.astimezone(zone), locale, format="long")


def compose(
    invitation: domain.Invitation,
    unit: domain.BusinessUnit,
    products: Mapping[str, domain.Product],
    *,
    link: str,
    unsubscribe_link: str,
    reminder: bool,
    mail_from: str,
    now: datetime,
) -> EmailMessage:
    """The first invitation mail (or, `reminder`, the one reminder) to the buyer, in the invitation's locale."""
    locale = pick(invitation.locale)
    shop = one_line(unit.name) or unit.slug
    ordered = _local_date(invitation.created_at, unit.timezone, locale)
    until = _local_date(invitation.expires_at, unit.timezone, locale)
    names = product_names(invitation, products)
    shown, hidden = names[:MAX_PRODUCTS], len(names) - MAX_PRODUCTS
    more = ngettext(locale, "and {n} more product", "and {n} more products", hidden) if hidden > 0 else ""
    buyer = one_line(invitation.name)
    words = {
        "subject": (
            gettext(locale, "Reminder: how was your order at {shop}?", shop=shop)
            if reminder
            else gettext(locale, "How was your order at {shop}?", shop=shop)
        ),
        "hello": gettext(locale, "Hello {name},", name=buyer) if buyer else gettext(locale, "Hello,"),
        "intro": (
            gettext(
                locale,
                "A little while ago we asked how your order at {shop} of {date} went. If you have a minute, we "
                "would still love to hear it.",
                shop=shop,
                date=ordered,
            )
            if reminder
            else gettext(
                locale,
                "Thank you for your order at {shop} of {date}. How did it go? Your review helps other buyers "
                "choose, and helps the shop do better.",
                shop=shop,
                date=ordered,
            )
        ),
        "bought": gettext(locale, "What you ordered:"),
        "stars": gettext(locale, "How many stars would you give {shop}?", shop=shop),
        "button": gettext(locale, "Write your review"),
        "minute": gettext(locale, "It takes about a minute. The link works until {date}.", date=until),
        "once": gettext(locale, "This is the only reminder we send.") if reminder else "",
        "why": gettext(
            locale,
            "You receive this e-mail because you ordered at {shop}. We ask once, and remind you once at most.",
            shop=shop,
        ),
        "stop": gettext(locale, "No more e-mails like this?"),
        "unsubscribe": gettext(locale, "Unsubscribe"),
    }
    message = EmailMessage(policy=HEADERS_UNFOLDED)
    message["Subject"] = words["subject"]
    message["From"] = Address(display_name=shop, addr_spec=parseaddr(mail_from)[1] or mail_from)
    message["To"] = _recipient(invitation, buyer)
    message["Date"] = format_datetime(now)
    host = (parseaddr(mail_from)[1] or mail_from).rpartition("@")[2] or "reviews.invalid"
    message["Message-ID"] = f"<invitation.{invitation.id}.{'reminder' if reminder else 'first'}@{host}>"
    # RFC 2369 and RFC 8058: mail clients show their own unsubscribe button, and one POST to it is enough
    message["List-Unsubscribe"] = f"<{unsubscribe_link}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # RFC 3834: out-of-office robots answer a person, not this
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    message["X-Reviews-Invitation"] = invitation.id  # a keyed hash: tells an operator which one, nothing personal
    message.set_content(_text(locale, words, shown, more, link, unsubscribe_link))
    message.add_alternative(_html(locale, words, shown, more, link, unsubscribe_link), subtype="html")
    return message


def _recipient(invitation: domain.Invitation, buyer: str) -> Address:
    if not invitation.email:
        raise Unmailable("the invitation has no e-mail address")
    try:
        return Address(display_name=buyer, addr_spec=invitation.email.strip())
    except Exception as exc:  # email's parse errors: ValueErrors, and HeaderParseError, which is not one
        raise Unmailable("the e-mail address cannot be written into a message") from exc


def _text(locale: str, words: dict[str, str], names: list[str], more: str, link: str, unsubscribe: str) -> str:
    button = gettext(locale, "{label}: {link}", label=words["button"], link=link)  # French puts a space before ":"
    stop = gettext(locale, "{label}: {link}", label=words["unsubscribe"], link=unsubscribe)
    bought = "\n".join([words["bought"], *(f"- {name}" for name in names), *([f"  {more}"] if more else [])])
    parts = [
        words["hello"],
        words["intro"],
        bought if names else "",
        button,
        " ".join(filter(None, (words["minute"], words["once"]))),
        "-- ",
        f"{words['why']}\n{words['stop']} {stop}",
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def esc(text: str) -> str:
    """Escape for element content and quoted attributes."""
    return escape(text, quote=True)


def _html(locale: str, words: dict[str, str], names: list[str], more: str, link: str, unsubscribe: str) -> str:
    items = "".join(f'<li style="margin:0 0 4px 0">{esc(name)}</li>' for name in names)
    bought = (
        f'<p style="{TEXT};margin:0 0 4px 0">{esc(words["bought"])}</p>'
        f'<ul style="{TEXT};margin:0 0 16px 0;padding:0 0 0 22px">{items}</ul>'
        + (f'<p style="{MUTED};margin:-12px 0 16px 0">{esc(more)}</p>' if more else "")
        if names
        else ""
    )
    labels = {n: ngettext(locale, "{n} star", "{n} stars", n) for n in range(1, 6)}
    stars = "".join(
        f'<td align="center" style="padding:0 2px"><a href="{esc(rating_link(link, n))}" '
        f'style="{FONT};display:block;padding:8px 2px;text-decoration:none;color:#1f2933;font-size:13px">'
        f'<span aria-hidden="true" style="color:{STAR};font-size:20px;letter-spacing:1px">{"★" * n}</span><br>'
        f"{esc(label)}</a></td>"
        for n, label in labels.items()
    )
    button = (
        '<table role="presentation" cellpadding="0" cellspacing="0" style="margin:8px 0 16px 0"><tr>'
        f'<td style="background:{BUTTON};border-radius:6px">'
        f'<a href="{esc(link)}" style="{FONT};display:inline-block;padding:14px 28px;font-size:17px;'
        f'font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px">{esc(words["button"])}</a>'
        "</td></tr></table>"
    )
    footer = (
        f'<p style="{MUTED};margin:0">{esc(words["why"])} {esc(words["stop"])} '
        f'<a href="{esc(unsubscribe)}" style="color:#52606d;text-decoration:underline">'
        f"{esc(words['unsubscribe'])}</a></p>"
    )
    body = (
        f'<p style="{TEXT};margin:0 0 12px 0">{esc(words["hello"])}</p>'
        f'<p style="{TEXT};margin:0 0 16px 0">{esc(words["intro"])}</p>{bought}'
        f'<p style="{TEXT};margin:0 0 4px 0;font-weight:bold">{esc(words["stars"])}</p>'
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="margin:0 0 8px 0">'
        f"<tr>{stars}</tr></table>{button}"
        f'<p style="{MUTED};margin:0 0 8px 0">{esc(" ".join(filter(None, (words["minute"], words["once"]))))}</p>'
    )
    return (
        f'<!DOCTYPE html><html lang="{esc(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(words['subject'])}</title></head>"
        '<body style="margin:0;padding:0;background:#f3f4f6">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6">'
        '<tr><td align="center" style="padding:16px 8px">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="max-width:600px;background:#ffffff;border:1px solid #d9dee3;border-radius:8px">'
        f'<tr><td style="padding:24px 20px">{body}</td></tr>'
        f'<tr><td style="padding:16px 20px;border-top:1px solid #d9dee3">{footer}</td></tr>'
        "</table></td></tr></table></body></html>"
    )

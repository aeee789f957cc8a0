"""The review-policy page (`GET /reviews/{bu}/about`): a `Policy` in words, in one of our languages. Pure.

Every sentence is an English msgid of the `policy` catalogs; every figure comes from the policy, so the page says
what the unit's data shows. No script, one inline style block (the page's CSP allows nothing else).
"""

from __future__ import annotations

import html
from datetime import datetime

from reviews_service import domain, i18n
from reviews_service.i18n import N_, format_number, format_percent, gettext, ngettext
from reviews_service.review_policy import AT_SOURCE, NOT_RECORDED, Policy, SourceLine

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
STYLE = (
    "body{font:16px/1.55 system-ui,sans-serif;color:#1a1a1a;max-width:44em;margin:32px auto;padding:0 16px}"
    "h1{font-size:1.6em;line-height:1.25}h2{font-size:1.2em;margin-top:1.6em}a{color:#0b57d0}"
    "li{margin:.25em 0}.figure{font-weight:700}.muted{color:#595959;font-size:.9em}"
)
CATEGORIES: dict[str, str] = {
    "spam": N_("Advertising, spam or links to other sites"),
    "offensive": N_("Offensive, discriminating or threatening language"),
    "personal_data": N_("Personal data, such as a phone number or someone's full name"),
    "not_genuine": N_("Not based on a real experience, or written by someone with an interest, such as staff"),
    "off_topic": N_("Not about the product or the shop's service"),
    "duplicate": N_("The same review posted more than once"),
    "legal": N_("Against the law, or removed on a legal order"),
    "other": N_("Another breach of these rules"),
}
WITHDRAWN_ELSEWHERE = {
    AT_SOURCE: N_("Hidden or removed by the platform they came from"),
    NOT_RECORDED: N_("Hidden before reasons were recorded"),
}
METHODS = {
    "post_fulfillment": N_("Asked for after an order"),
    "unsolicited": N_("Written without being asked"),
    "campaign_driven": N_("Asked for in a campaign"),
    "unknown": N_("Not stated by the source"),
}
PLATFORM_CHECKS = {
    "trustpilot": N_(
        "Trustpilot marks a review as verified when it was written after an invitation sent after an order; "
        "anyone with a Trustpilot account can write the others."
    ),
    "kiyoh": N_("Kiyoh marks a review as verified when it is tied to an order of the shop."),
}


def e(text: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=True)


def _p(text: str, css: str = "") -> str:
    return f'<p class="{css}">{e(text)}</p>' if css else f"<p>{e(text)}</p>"


def _h2(text: str) -> str:
    return f"<h2>{e(text)}</h2>"


def _figures(rows: list[tuple[str, int]], locale: str) -> str:
    """A list of labelled counts."""
    items = (f'<li>{e(label)}: <span class="figure">{e(format_number(n, locale, decimals=0))}</span></li>'
             for label, n in rows)  # fmt: skip
    return f"<ul>{''.join(items)}</ul>"


def render(policy: Policy, locale: str, json_url: str, now: datetime) -> str:
    """The whole page in `locale` (nl, en, de, fr)."""
    shop = policy.name
    title = gettext(locale, "How reviews are collected and checked at {shop}", shop=shop)
    intro = ngettext(
        locale,
        "{shop} shows {n} review. This page says where it comes from, how we check that reviews are written by "
        "real customers, and what we do not show.",
        "{shop} shows {n} reviews. This page says where they come from, how we check that they are written by "
        "real customers, and what we do not show.",
        policy.review_count,
        shop=shop,
    )
    parts = [f"<h1>{e(title)}</h1>", _p(intro), _sources(policy, locale), _moderation(policy, locale)]
    links = []
    if policy.reviews_link:
        read = gettext(locale, "Read our reviews")
        links.append(f'<a href="{e(policy.reviews_link)}">{e(read)}</a>')
    as_data = gettext(locale, "These figures as data (JSON)")
    links.append(f'<a href="{e(json_url)}">{e(as_data)}</a>')
    parts.append(f"<p>{' · '.join(links)}</p>")
    parts.append(_p(gettext(locale, "Figures as of {date}.", date=i18n.format_date(now, locale)), "muted"))
    return (
        f'<!DOCTYPE html><html lang="{e(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(title)}</title><style>{STYLE}</style></head><body><main>{''.join(parts)}</main></body></html>"
    )


def _sources(policy: Policy, locale: str) -> str:
    """Where the reviews come from: the invitations, each platform, the shop's pages and imports; the totals."""
    out = [_h2(gettext(locale, "Where the reviews come from"))]
    if policy.invites:
        asked = gettext(
            locale,
            "After an order we ask the buyer for a review: by e-mail after an online order, and with a QR code on "
            "the receipt after a purchase in a shop. The link belongs to that one order, so these reviews can only "
            "be written by someone who bought from {shop}; they carry the mark “Verified buyer”.",
            shop=policy.name,
        )
        answered = policy.invitations_answered
        web = ngettext(
            locale, "{n} buyer answered after an online order", "{n} buyers answered after an online order",
            answered.get("web", 0),
        )  # fmt: skip
        store = ngettext(
            locale, "{n} buyer answered after a purchase in a shop", "{n} buyers answered after a purchase in a shop",
            answered.get("store", 0),
        )  # fmt: skip
        out += [_p(asked), f"<ul><li>{e(web)}</li><li>{e(store)}</li></ul>"]
    else:
        out.append(_p(gettext(locale, "{shop} does not send review invitations.", shop=policy.name)))
    items = [_source_item(s, locale) for s in policy.sources]
    if items:
        out.append(f"<ul>{''.join(items)}</ul>")
    if policy.review_count:
        total = gettext(
            locale,
            "In total {verified} of the {n} reviews ({share}) are verified: tied to an order by our invitation, by "
            "the platform they came from or by the shop's own systems. Reviews without the mark are shown too; we "
            "cannot confirm that their writer bought the product.",
            verified=format_number(policy.verified_count, locale, decimals=0),
            n=format_number(policy.review_count, locale, decimals=0),
            share=format_percent(policy.verified_share or 0.0, locale),
        )
        out.append(_p(total))
    if any(name != "unknown" for name in policy.methods):  # where no source says, there is nothing to tell
        methods = [(gettext(locale, METHODS.get(name, METHODS["unknown"])), n) for name, n in policy.methods.items()]
        out += [_p(gettext(locale, "How the reviews were asked for:")), _figures(methods, locale)]
    return "".join(out)


def _source_item(source: SourceLine, locale: str) -> str:
    """One source: its count and who vouches for its verified mark."""
    n, verified = source.review_count, format_number(source.verified_count, locale, decimals=0)
    if source.kind == "invitation":
        text = ngettext(
            locale, "Our own invitations: {n} review, verified.", "Our own invitations: {n} reviews, all verified.", n
        )
    elif source.kind == "platform":
        platform = source.name or source.source
        if n == 0:
            text = gettext(locale, "{platform}: collected automatically; no reviews from there yet.", platform=platform)
        else:
            text = ngettext(
                locale,
                "{platform}: {n} review, copied as published there. Verified by {platform}: {verified}; we show that "
                "mark as it is and do not check it again.",
                "{platform}: {n} reviews, copied as published there. Verified by {platform}: {verified}; we show that "
                "mark as it is and do not check it again.",
                n, platform=platform, verified=verified,
            )  # fmt: skip
        check = PLATFORM_CHECKS.get(source.source)
        if check:
            text += " " + gettext(locale, check)
    elif source.kind == "pages":
        text = ngettext(
            locale,
            "The shop's earlier web pages: {n} review; marked verified there: {verified}.",
            "The shop's earlier web pages: {n} reviews; marked verified there: {verified}.",
            n, verified=verified,
        )  # fmt: skip
    else:
        text = ngettext(
            locale,
            "Imported from the shop's own systems or files ({source}): {n} review; marked verified by the shop (tied "
            "to an order there): {verified}.",
            "Imported from the shop's own systems or files ({source}): {n} reviews; marked verified by the shop "
            "(tied to an order there): {verified}.",
            n, source=source.source, verified=verified,
        )  # fmt: skip
    return f"<li>{e(text)}</li>"


def _moderation(policy: Policy, locale: str) -> str:
    """What is never done (filtering by rating), what a moderator may hide and why, who replies."""
    never = gettext(
        locale,
        "Every review is shown, whatever its rating: reviews are never filtered, hidden or ordered by their rating. "
        "Our widgets show the newest reviews first.",
    )
    only = gettext(
        locale, "A moderator may hide a review only for one of these reasons, and must record which and why:"
    )
    rules = "".join(f"<li>{e(gettext(locale, CATEGORIES[c]))}</li>" for c in domain.MODERATION_CATEGORIES)
    out = [_h2(gettext(locale, "What we show and what we hide")), _p(never), _p(only), f"<ul>{rules}</ul>"]
    if policy.withdrawn:
        labels = {**CATEGORIES, **WITHDRAWN_ELSEWHERE}
        rows = [(gettext(locale, labels.get(kind, CATEGORIES["other"])), n) for kind, n in policy.withdrawn.items()]
        out += [_p(gettext(locale, "Reviews not shown at the moment, by reason:")), _figures(rows, locale)]
    else:
        out.append(_p(gettext(locale, "No review is hidden at the moment.")))
    out.append(_p(gettext(locale, "Replies under reviews are written by {shop}.", shop=policy.name)))
    return "".join(out)

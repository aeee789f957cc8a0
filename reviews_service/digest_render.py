"""The digest as an HTML e-mail, a web page, plain text and JSON. Pure: a Digest and its links in, text out.

The HTML is what mail clients render: nested tables 600 px wide at most (100 % on a phone), every style inline,
no script, no external stylesheet or font. Everything a customer or a shop wrote is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from reviews_service import i18n
from reviews_service.digest_links import Links
from reviews_service.digest_words import Words
from sentiment.digest import Digest, FlagItem

FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
WRAP = "overflow-wrap:anywhere;word-break:break-word"  # a long unbroken word (a pasted URL) never widens a phone's page
CELL = f"{FONT};font-size:15px;line-height:1.45;color:#1f2933;{WRAP}"
MUTED = f"{FONT};font-size:13px;line-height:1.4;color:#52606d;{WRAP}"
# The trend table holds only our own words and numbers: they wrap between words, never inside one ("Versc|hil");
# WRAP is inherited from the cell around the table, so it is undone here.
TABLE_HEAD = f"{FONT};font-size:13px;line-height:1.4;color:#52606d;overflow-wrap:normal;word-break:normal"
TABLE_NUMBER = f"{FONT};font-size:15px;line-height:1.45;color:#1f2933;white-space:nowrap"
H2 = f"{FONT};font-size:18px;font-weight:bold;color:#1f2933;margin:24px 0 8px 0"
LINK = "color:#0b6e4f;text-decoration:underline"
CARD = "border:1px solid #d9dee3;border-radius:6px;padding:12px;margin:0 0 12px 0;background:#ffffff"


def esc(text: object) -> str:
    """Escape for element content and quoted attributes."""
    return escape(str(text), quote=True)


def _paragraphs(text: str) -> str:
    return esc(text).replace("\r\n", "\n").replace("\n", "<br>")


def _section(title: str, body: str) -> str:
    return f'<tr><td style="{CELL};padding:0 16px"><h2 style="{H2}">{esc(title)}</h2>{body}</td></tr>'


def _summary(w: Words) -> str:
    d = w.digest
    if d.empty:
        return f'<p style="{CELL};font-size:17px;margin:0">{esc(w.headline())}</p>'
    stars = " &nbsp; ".join(f"{rating}★&nbsp;{w.number(d.histogram[rating], 0)}" for rating in (5, 4, 3, 2, 1))
    return (
        f'<p style="{CELL};font-size:22px;font-weight:bold;margin:0">{esc(w.headline())}</p>'
        f'<p style="{CELL};margin:4px 0 0 0">{esc(w.average())}</p>'
        f'<p style="{MUTED};margin:4px 0 0 0">{stars}</p>'
    )


def _trend(w: Words, chart: str) -> str:
    rows = "".join(
        f'<tr><td style="{CELL};padding:4px 8px 4px 0">{esc(w.window_name(window))}</td>'
        f'<td style="{TABLE_NUMBER};padding:4px 8px;text-align:right">{esc(w.number(window.count, 0))}</td>'
        f'<td style="{TABLE_NUMBER};padding:4px 8px;text-align:right;font-weight:bold">'
        f"{esc('–' if window.average is None else w.number(window.average, 2))}</td>"
        f'<td style="{TABLE_NUMBER};padding:4px 0 4px 8px;text-align:right">{esc(w.window_change(window))}</td></tr>'
        for window in w.digest.windows
    )
    head = "".join(
        f'<th style="{TABLE_HEAD};text-align:{align};padding:0 8px 4px 0;font-weight:normal">{esc(label)}</th>'
        for label, align in (
            (i18n.gettext(w.locale, "Period"), "left"),
            (i18n.gettext(w.locale, "Reviews"), "right"),
            (i18n.gettext(w.locale, "Average score"), "right"),
            (i18n.gettext(w.locale, "Change"), "right"),
        )
    )
    return (
        f'<div style="margin:0 0 8px 0">{chart}</div>'
        f'<p style="{MUTED};margin:0 0 12px 0">{esc(w.chart_title())}</p>'
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse">'
        f"<tr>{head}</tr>{rows}</table>"
    )


def _one_stars(w: Words, links: Links) -> str:
    d = w.digest
    if not d.one_stars:
        return f'<p style="{CELL};margin:0">{esc(w.no_one_stars)}</p>'
    cards = []
    for review in d.one_stars:
        about = [review.author or i18n.gettext(w.locale, "Anonymous"), w.when(review.created_at)]
        if review.product:
            about.insert(1, review.product_name or review.product)
        cards.append(
            f'<div style="{CARD}">'
            f'<p style="{CELL};font-weight:bold;margin:0 0 4px 0">★ {esc(review.title or "—")}</p>'
            f'<p style="{CELL};margin:0 0 8px 0">{_paragraphs(review.text)}</p>'
            f'<p style="{MUTED};margin:0">{esc(" · ".join(about))}</p>'
            f'<p style="{MUTED};margin:6px 0 0 0"><a href="{esc(links.moderate(review.id))}" style="{LINK}">'
            f"{esc(w.moderate)}</a></p></div>"
        )
    hidden = d.one_stars_total - len(d.one_stars)
    more = f'<p style="{MUTED}">{esc(w.more(hidden))}</p>' if hidden > 0 else ""
    return "".join(cards) + more


def flag_subject(flag: FlagItem, locale: str) -> str:
    """What a review's flag is about: '“Terrible communication” · David S. · 12 nov 2026'; '' for patterns."""
    if not flag.subject:
        return ""
    parts = [f"“{flag.subject}”", flag.author.strip()]
    if flag.review_created_at is not None:
        parts.append(i18n.format_date(flag.review_created_at, locale))
    return " · ".join(p for p in parts if p)


def _flags(w: Words, links: Links) -> str:
    d = w.digest
    if "flags" in d.sections_pending:
        return f'<p style="{MUTED};margin:0">{esc(w.not_yet)}</p>'
    if not d.flags:
        return f'<p style="{CELL};margin:0">{esc(w.no_flags)}</p>'
    items = []
    for flag in d.flags:
        link = ""
        if flag.review_id:
            link = f' <a href="{esc(links.moderate(flag.review_id))}" style="{LINK}">{esc(w.review)}</a>'
        about = flag_subject(flag, w.locale)
        about_html = f'<br><span style="{MUTED}">{esc(about)}</span>' if about else ""
        items.append(f'<li style="{CELL};margin:0 0 6px 0">{esc(flag.reason)}{link}{about_html}</li>')
    return f'<ul style="margin:0;padding:0 0 0 20px">{"".join(items)}</ul>'


def _complaints(w: Words) -> str:
    d = w.digest
    if "complaints" in d.sections_pending:
        return f'<p style="{MUTED};margin:0">{esc(w.not_yet)}</p>'
    if not d.complaints:
        return f'<p style="{CELL};margin:0">{esc(w.no_complaints)}</p>'
    cards = []
    for item in d.complaints:
        examples = "".join(f'<li style="{MUTED}">“{esc(excerpt)}”</li>' for _, excerpt in item.examples)
        cards.append(
            f'<div style="{CARD}"><p style="{CELL};font-weight:bold;margin:0">{esc(item.label)}</p>'
            f'<p style="{MUTED};margin:2px 0 0 0">{esc(w.complaints(item.count))} · {esc(w.complaint_change(item))}</p>'
            + (f'<ul style="margin:6px 0 0 0;padding:0 0 0 20px">{examples}</ul>' if examples else "")
            + "</div>"
        )
    return "".join(cards)


def html(digest: Digest, links: Links, chart: str, *, web: bool = False) -> str:
    """The digest as a whole HTML document; `chart` is the <img> of the e-mail or the web page's <svg>."""
    w = Words(digest)
    title = f"{digest.name} · {w.day()}"
    footer = [w.times_in()]
    if not web:
        footer.insert(
            0,
            f'<a href="{esc(links.page)}" style="{LINK}">{esc(w.open_page)}</a>',
        )
        footer.insert(1, esc(w.link_until(links.expires)))
    body = (
        f'<tr><td style="{CELL};padding:20px 16px 8px 16px;border-bottom:3px solid #0b6e4f">'
        f'<p style="{MUTED};margin:0">{esc(w.daily)}</p>'
        f'<h1 style="{FONT};font-size:22px;margin:2px 0 0 0;color:#1f2933;{WRAP}">{esc(title)}</h1></td></tr>'
        f'<tr><td style="{CELL};padding:16px 16px 0 16px">{_summary(w)}</td></tr>'
        + _section(i18n.gettext(w.locale, "Score trend"), _trend(w, chart))
        + _section(i18n.gettext(w.locale, "One-star reviews"), _one_stars(w, links))
        + _section(i18n.gettext(w.locale, "Open flags"), _flags(w, links))
        + _section(i18n.gettext(w.locale, "Recurring complaints"), _complaints(w))
        + f'<tr><td style="{MUTED};padding:24px 16px">{"<br>".join(footer)}</td></tr>'
    )
    return (
        f'<!DOCTYPE html><html lang="{esc(digest.locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title></head>"
        '<body style="margin:0;padding:0;background:#f5f7fa">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f5f7fa">'
        '<tr><td align="center" style="padding:12px 8px">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="max-width:600px;background:#ffffff;border-radius:8px">'
        f"{body}</table></td></tr></table></body></html>"
    )


def json_view(digest: Digest, links: Links) -> dict[str, Any]:
    """The digest as JSON (the admin API's answer)."""
    return {
        "business_unit": digest.business_unit,
        "date": digest.day.isoformat(),
        "timezone": digest.timezone,
        "locale": digest.locale,
        "generated_at": digest.generated_at.isoformat(),
        "reviews": {
            "count": digest.count,
            "average": digest.average,
            "histogram": {str(r): n for r, n in digest.histogram.items()},
        },
        "trend": [
            {
                "days": window.days,
                "count": window.count,
                "average": window.average,
                "previous_count": window.previous_count,
                "previous_average": window.previous_average,
                "change": window.change,
                "series": [
                    {"date": p.day.isoformat(), "count": p.count, "average": p.average, "rolling_7": p.rolling}
                    for p in window.points
                ],
            }
            for window in digest.windows
        ],
        "one_star_reviews": [
            {
                "id": review.id,
                "author": review.author,
                "title": review.title,
                "text": review.text,
                "product": review.product,
                "product_name": review.product_name,
                "source": review.source,
                "language": review.language,
                "created_at": review.created_at.isoformat(),
                "moderate": links.moderate(review.id),
            }
            for review in digest.one_stars
        ],
        "one_star_total": digest.one_stars_total,
        "flags": [
            {"id": f.id, "kind": f.kind, "reason": f.reason, "review_id": f.review_id, "about": f.subject or None}
            for f in digest.flags
        ],
        "complaints": [
            {
                "topic": c.topic,
                "label": c.label,
                "count": c.count,
                "previous": c.previous,
                "change": c.change,
                "recurring": c.recurring,
                "examples": [{"review_id": rid, "excerpt": text} for rid, text in c.examples],
            }
            for c in digest.complaints
        ],
        "sections_pending": list(digest.sections_pending),
        "links": {"page": links.page, "expires": links.expires.isoformat()},
    }

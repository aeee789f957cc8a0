"""The digest as plain text: the e-mail's text part and what `reviews digest` prints. Pure."""

from __future__ import annotations

import textwrap

from reviews_service import i18n
from reviews_service.digest_links import Links
from reviews_service.digest_render import flag_subject
from reviews_service.digest_words import Words
from sentiment.digest import Digest

WIDTH = 72


def _heading(title: str) -> list[str]:
    return ["", title, "-" * len(title)]


def _wrap(text: str, indent: str = "  ") -> list[str]:
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        lines += textwrap.wrap(paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent) or [""]
    return lines


def text(digest: Digest, links: Links | None) -> str:
    """The digest as plain text; `links` None leaves the links out (a terminal has no admin to send to)."""
    w = Words(digest)
    title = f"{digest.name} · {w.daily} · {w.day()}"
    lines = [title, "=" * len(title), "", w.headline()]
    if not digest.empty:
        lines.append(w.average())
        lines.append("  ".join(f"{r}★ {w.number(digest.histogram[r], 0)}" for r in (5, 4, 3, 2, 1)))
    lines += _heading(i18n.gettext(w.locale, "Score trend"))
    for window in digest.windows:
        average = "–" if window.average is None else w.number(window.average, 2)
        lines.append(
            f"{w.window_name(window):<20} {w.reviews(window.count):>18} {average:>6} {w.window_change(window):>7}"
        )
    lines += _heading(i18n.gettext(w.locale, "One-star reviews"))
    if not digest.one_stars:
        lines.append(w.no_one_stars)
    for review in digest.one_stars:
        about = [review.author or i18n.gettext(w.locale, "Anonymous"), w.when(review.created_at)]
        if review.product:
            about.insert(1, review.product_name or review.product)
        lines += ["", f"★ {review.title or '—'}", *_wrap(review.text), "  — " + " · ".join(about)]
        if links is not None:
            lines.append(f"  {w.moderate}: {links.moderate(review.id)}")
    hidden = digest.one_stars_total - len(digest.one_stars)
    if hidden > 0:
        lines += ["", w.more(hidden)]
    lines += _heading(i18n.gettext(w.locale, "Open flags"))
    if "flags" in digest.sections_pending:
        lines.append(w.not_yet)
    elif not digest.flags:
        lines.append(w.no_flags)
    for flag in digest.flags:
        subject = flag_subject(flag, w.locale)
        lines.append(f"- {flag.reason}" + (f"\n  {subject}" if subject else ""))
    lines += _heading(i18n.gettext(w.locale, "Recurring complaints"))
    if "complaints" in digest.sections_pending:
        lines.append(w.not_yet)
    elif not digest.complaints:
        lines.append(w.no_complaints)
    for item in digest.complaints:
        lines.append(f"- {item.label}: {w.complaints(item.count)}, {w.complaint_change(item)}")
        for _, excerpt in item.examples:
            lines += _wrap(f"“{excerpt}”", "    ")
    lines.append("")
    if links is not None:
        lines += [f"{w.open_page}: {links.page}", w.link_until(links.expires)]
    lines.append(w.times_in())
    return "\n".join(lines) + "\n"

"""The review form's pages around the form: the shell every page shares (inline CSS, no font, no script, no
image), the thank-you page, and the pages that say why a link does not open. Words and values in, HTML out (and
for the two refusals the ASGI layer answers itself, 413 and 429, the HTMLResponse around it).

Everything a buyer or a shop wrote is escaped. Each page is complete in its first bytes: its size is known
before anything else arrives (nothing loads late), so nothing on it ever moves.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

from reviews_service import i18n

# The token is in the address: no page is cached, indexed or named in a Referer to the sites its links lead to.
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}

# System fonts only; 16 px inputs (a phone does not zoom into them); 44 px targets; focus always visible.
CSS = """
*,::before,::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#f4f5f7;color:#1f2933;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
Helvetica,Arial,sans-serif;overflow-wrap:anywhere}
main{max-width:40rem;margin:0 auto;padding:16px}
h1{font-size:1.5rem;line-height:1.25;margin:8px 0 12px}
h2{font-size:1.2rem;line-height:1.3;margin:0 0 8px}
p{margin:0 0 12px}
a{color:#0b5cad}
a:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible,[tabindex="-1"]:focus{
outline:3px solid #1d4ed8;outline-offset:2px}
.card{background:#fff;border:1px solid #d3d9df;border-radius:8px;padding:16px;margin:0 0 16px}
.muted{color:#52606d;font-size:.9375rem}
.vh{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;
clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap;border:0}
label.f{display:block;font-weight:600;margin:16px 0 4px}
input[type=text],textarea{display:block;width:100%;font:inherit;color:inherit;background:#fff;
border:2px solid #6b7280;border-radius:4px;padding:8px 10px;margin:0}
textarea{min-height:8rem;resize:vertical}
input[type=file]{display:block;width:100%;font:inherit;padding:6px 0;margin:0}
.hint{display:block;color:#52606d;font-size:.9375rem;margin:0 0 4px}
.err{display:block;color:#b42318;font-weight:600;margin:4px 0}
[aria-invalid=true]{border-color:#b42318}
fieldset{border:0;margin:0;padding:0;min-width:0}
legend{font-weight:600;padding:0;margin:0 0 4px}
.row{position:relative;display:flex;gap:4px;margin:4px 0 0}
.row input{position:absolute;z-index:1;top:0;left:0;width:44px;height:44px;margin:0;opacity:0;cursor:pointer}
.row input:nth-of-type(2){left:48px}.row input:nth-of-type(3){left:96px}.row input:nth-of-type(4){left:144px}
.row input:nth-of-type(5){left:192px}
.row label{display:block;width:44px;height:44px;border-radius:6px;cursor:pointer;color:#6b7280}
.row label::before{content:"";display:block;width:100%;height:100%;background:currentColor;
-webkit-mask:var(--o) center/36px no-repeat;mask:var(--o) center/36px no-repeat}
.row:has(input:checked) label,.row input:checked+label{color:#b45309}
.row:has(input:checked) label::before,.row input:checked+label::before{-webkit-mask-image:var(--f);mask-image:var(--f)}
.row input:checked+label~label{color:#6b7280}
.row input:checked+label~label::before{-webkit-mask-image:var(--o);mask-image:var(--o)}
@media (hover:hover){.row.row:has(input:hover) label{color:#b45309}
.row.row:has(input:hover) label::before{-webkit-mask-image:var(--f);mask-image:var(--f)}
.row.row input:hover+label~label{color:#6b7280}
.row.row input:hover+label~label::before{-webkit-mask-image:var(--o);mask-image:var(--o)}}
.row input:focus-visible+label{outline:3px solid #1d4ed8;outline-offset:1px}
@media (forced-colors:active){.row input{position:static;opacity:1;width:auto;height:auto;margin:0 0 0 8px}
.row label{width:auto;height:auto}.row label::before{display:none}.row label .vh{position:static!important;
width:auto;height:auto;margin:0 8px 0 2px;clip:auto;clip-path:none}}
.hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
.summary{background:#fff;border:3px solid #b42318;border-radius:8px;padding:16px;margin:0 0 16px}
.summary ul{margin:0;padding-left:20px}
.summary a{color:#b42318;font-weight:600}
button{font:inherit;font-weight:600;color:#fff;background:#0b6e4f;border:0;border-radius:6px;
padding:12px 24px;min-height:48px;cursor:pointer}
.sign{margin:16px 0}
.actions{display:flex;flex-wrap:wrap;gap:12px 24px;align-items:center}
"""
# The star's two shapes, as masks the label's colour shows through: drawn here, no file to fetch.
STAR = "M12 2.5l2.9 6.1 6.6.8-4.9 4.6 1.3 6.6L12 17.3l-5.9 3.3 1.3-6.6-4.9-4.6 6.6-.8z"
_SVG = (
    "url(\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'%3E"
    "%3Cpath d='{d}' {a}/%3E%3C/svg%3E\")"
)
STAR_VARS = (
    ":root{--f:" + _SVG.format(d=STAR, a="") + ";--o:"
    + _SVG.format(d=STAR, a="fill='none' stroke='black' stroke-width='1.6' stroke-linejoin='round'") + "}"
)  # fmt: skip
STYLE = "<style>" + STAR_VARS + " ".join(line for line in CSS.split("\n") if line) + "</style>"


def esc(text: object) -> str:
    """Escape for element content and quoted attributes."""
    return escape(str(text), quote=True)


def shell(locale: str, title: str, body: str) -> str:
    """A complete page: language, viewport, the inline style, and `body` inside <main>."""
    return (
        f'<!DOCTYPE html><html lang="{esc(i18n.pick(locale))}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{esc(title)}</title>{STYLE}</head>'
        f"<body><main>{body}</main></body></html>"
    )


def message_page(locale: str, title: str, detail: str, link: tuple[str, str] | None = None) -> str:
    """A page that says one thing: a heading, a sentence, and optionally one link (its address, its words)."""
    extra = f'<p><a href="{esc(link[0])}">{esc(link[1])}</a></p>' if link else ""
    return shell(locale, title, f'<div class="card"><h1>{esc(title)}</h1><p>{esc(detail)}</p>{extra}</div>')


def refusal(locale: str, reason: str) -> str:
    """Why a form link does not open: "expired", or any other reason (forged, unknown, erased) as not working."""
    if reason == "expired":
        title = i18n.gettext(locale, "This review link has expired")
        detail = i18n.gettext(
            locale, "Review links work for a limited time after the order. Thank you for wanting to help all the same."
        )
    else:
        title = i18n.gettext(locale, "This review link does not work")
        detail = i18n.gettext(
            locale, "The link is incomplete or was changed. Open it again from the e-mail or receipt as it was sent."
        )
    return message_page(locale, title, detail)


def thanks(locale: str, shop: str, reviews_link: str, edit_link: str) -> str:
    """The page after a submission: thanks, the shop's public reviews, and the way back to change what was said."""
    title = i18n.gettext(locale, "Thank you for your review!")
    helps = i18n.gettext(locale, "Your review helps other buyers of {shop}.", shop=shop)
    change = i18n.gettext(locale, "Change your review")
    body = [
        f'<div class="card"><h1>{esc(title)}</h1>',
        f"<p>{esc(helps)}</p>",
        '<p class="actions">',
    ]
    if reviews_link:
        words = i18n.gettext(locale, "Read the reviews of {shop}", shop=shop)
        body.append(f'<a href="{esc(reviews_link)}">{esc(words)}</a>')
    body.append(f'<a href="{esc(edit_link)}">{esc(change)}</a></p></div>')
    return shell(locale, title, "".join(body))


def not_sent(locale: str, form_link: str) -> str:
    """The answer to a filled honeypot: not sent, with no hint of why beyond "try again"."""
    return message_page(
        locale,
        i18n.gettext(locale, "Your review could not be sent"),
        i18n.gettext(locale, "Something in the form was not as expected. Open the form again and send it once more."),
        (form_link, i18n.gettext(locale, "Open the form again")),
    )


def too_many(locale: str, retry_seconds: int) -> str:
    """The answer to a flood of submissions of one form."""
    minutes = max(1, -(-retry_seconds // 60))
    return message_page(
        locale,
        i18n.gettext(locale, "Too many attempts"),
        i18n.ngettext(
            locale,
            "This form was sent too often in a short time. Try again in {n} minute.",
            "This form was sent too often in a short time. Try again in {n} minutes.",
            minutes,
        ),
    )


def too_many_page(locale: str, retry_seconds: int) -> HTMLResponse:
    """429 with the page that says when to try again."""
    return HTMLResponse(too_many(locale, retry_seconds), status_code=429, headers=PAGE_HEADERS)


def too_large(locale: str, limit: int) -> HTMLResponse:
    """413 with a page that says the photos were too large together (the body limit of the form)."""
    html = message_page(
        locale,
        i18n.gettext(locale, "Your photos are too large together"),
        i18n.gettext(
            locale,
            "The form and its photos may be at most {n} MB together. Choose fewer or smaller photos and send it again.",
            n=i18n.format_number(limit / 1024 / 1024, locale, 0),
        ),
    )
    return HTMLResponse(html, status_code=413, headers=PAGE_HEADERS)


def accept_language(header: str) -> str:
    """The first language of an Accept-Language header that has catalogs (by its q), else English."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().split("-")[0].lower()
        if language in i18n.LOCALES and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else i18n.DEFAULT_LOCALE

"""The review form as one server-rendered page that works with JavaScript off. Pure: a FormView in, HTML out.

Each star rating is a native radio group (a fieldset, its legend, five radios each labelled "4 stars"): the
radios are visually hidden but focusable, and the stars are their labels drawn by CSS, so arrow keys, Space,
screen readers and forced-colors mode work as with any radio. Errors stand next to their field (linked with
aria-describedby, the field aria-invalid) and in a summary at the top that links to each field.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from reviews_service import i18n
from reviews_service.form_input import GENERAL, MAX_PHOTOS, MAX_TEXT, MAX_TITLE, Entry, name
from reviews_service.form_pages import esc, shell

ACCEPT = "image/jpeg,image/png,image/webp"


@dataclass(frozen=True)
class FormView:
    """Everything the form page shows: whose form, what was typed, what was wrong."""

    locale: str
    action: str  # the path the form posts to (/r/{token})
    shop: str
    products: list[tuple[str, str]]  # (sku, name from the catalogue), in the order's order
    values: dict[str | None, Entry]
    author: str  # the display name the reviews are signed with ("" when the invitation has no name)
    errors: dict[str, str] = field(default_factory=dict)
    earlier_photos: dict[str, int] = field(default_factory=dict)  # photos kept from an earlier submission, by sku
    reupload: set[str] = field(default_factory=set)  # skus whose photos came with a refused submission
    reviewed_at: datetime | None = None  # the first submission (a second visit edits it)


@functools.cache
def _star_names(locale: str) -> tuple[str, ...]:
    """The five radios' names ("1 star" .. "5 stars") in a language: catalogs never change, so kept per language."""
    return tuple(esc(i18n.ngettext(locale, "{n} star", "{n} stars", n)) for n in range(1, 6))


@functools.cache
def _text_hint(locale: str) -> str:
    return esc(i18n.gettext(locale, "Up to {n} characters.", n=i18n.format_number(MAX_TEXT, locale, 0)))


def _ids(index: int) -> dict[str, str]:
    """The element ids of one subject's fields (index 0: the shop; SKUs are not safe in ids and selectors)."""
    return {kind: f"s{index}-{kind}" for kind in ("rating", "title", "text", "photo")}


def _error(view: FormView, key: str, element: str) -> str:
    message = view.errors.get(key)
    if not message:
        return ""
    prefix = esc(i18n.gettext(view.locale, "Error:"))
    return f'<span class="err" id="{element}-error"><span class="vh">{prefix} </span>{esc(message)}</span>'


def _described(view: FormView, key: str, element: str, hint: bool = False) -> str:
    """aria-describedby (the hint, the error) and aria-invalid for one field."""
    refs = ([f"{element}-hint"] if hint else []) + ([f"{element}-error"] if key in view.errors else [])
    out = f' aria-describedby="{" ".join(refs)}"' if refs else ""
    return out + (' aria-invalid="true"' if key in view.errors else "")


def _stars(view: FormView, index: int, sku: str | None, legend: str, required: bool) -> str:
    key, element = name("rating", sku), _ids(index)["rating"]
    chosen = view.values.get(sku, Entry()).rating.strip()
    invalid = ' aria-invalid="true"' if key in view.errors else ""
    radios = []
    for n, label in enumerate(_star_names(i18n.pick(view.locale)), start=1):
        checked = " checked" if chosen == str(n) else ""
        radios.append(
            f'<input type="radio" name="{esc(key)}" value="{n}" id="{element}-{n}"{checked}'
            f"{' required' if required else ''}{invalid}>"
            f'<label for="{element}-{n}"><span class="vh">{label}</span></label>'
        )
    described = f' aria-describedby="{element}-error"' if key in view.errors else ""
    wanted = i18n.gettext(view.locale, "(required)") if required else i18n.gettext(view.locale, "(optional)")
    return (
        f'<fieldset class="stars" id="{element}"{described}><legend>{esc(legend)} '
        f'<span class="muted">{esc(wanted)}</span></legend>{_error(view, key, element)}'
        f'<div class="row">{"".join(radios)}</div></fieldset>'
    )


def _words(view: FormView, index: int, sku: str | None) -> str:
    ids, entry, locale = _ids(index), view.values.get(sku, Entry()), view.locale
    title_key, text_key = name("title", sku), name("text", sku)
    optional = esc(i18n.gettext(locale, "(optional)"))
    title, text = esc(i18n.gettext(locale, "Title")), esc(i18n.gettext(locale, "Your review"))
    return (
        f'<label class="f" for="{ids["title"]}">{title} '
        f'<span class="muted">{optional}</span></label>{_error(view, title_key, ids["title"])}'
        f'<input type="text" id="{ids["title"]}" name="{esc(title_key)}" maxlength="{MAX_TITLE}" '
        f'value="{esc(entry.title)}"{_described(view, title_key, ids["title"])}>'
        f'<label class="f" for="{ids["text"]}">{text} '
        f'<span class="muted">{optional}</span></label>'
        f'<span class="hint" id="{ids["text"]}-hint">{_text_hint(i18n.pick(locale))}</span>'
        f"{_error(view, text_key, ids['text'])}"
        f'<textarea id="{ids["text"]}" name="{esc(text_key)}" rows="5" maxlength="{MAX_TEXT}"'
        f"{_described(view, text_key, ids['text'], hint=True)}>{esc(entry.text)}</textarea>"
    )


def _photos(view: FormView, index: int, sku: str) -> str:
    element, key, locale = _ids(index)["photo"], name("photo", sku), view.locale
    hints = [
        i18n.gettext(locale, "Up to {n} photos: JPEG, PNG or WebP, 8 MB each.", n=MAX_PHOTOS),
        i18n.gettext(locale, "Only the picture is kept: no location or camera data."),
    ]
    label, optional = esc(i18n.gettext(locale, "Photos")), esc(i18n.gettext(locale, "(optional)"))
    kept = view.earlier_photos.get(sku, 0)
    if sku in view.reupload and key not in view.errors:
        hints.append(i18n.gettext(locale, "Choose your photos again: they were not kept because of the errors."))
    elif kept:
        hints.append(
            i18n.gettext(locale, "Photos of your earlier review: {n}. They stay unless you choose new ones.", n=kept)
        )
    return (
        f'<label class="f" for="{element}">{label} '
        f'<span class="muted">{optional}</span></label>'
        f'<span class="hint" id="{element}-hint">{esc(" ".join(hints))}</span>{_error(view, key, element)}'
        f'<input type="file" id="{element}" name="{esc(key)}" accept="{ACCEPT}" multiple'
        f"{_described(view, key, element, hint=True)}>"
    )


def _summary(view: FormView) -> str:
    if not view.errors:
        return ""
    targets: dict[str, str] = {GENERAL: ""}
    for index, sku in enumerate([None, *(s for s, _ in view.products)]):
        ids = _ids(index)
        targets[name("rating", sku)] = f"{ids['rating']}-1"
        targets.update({name(kind, sku): ids[kind] for kind in ("title", "text", "photo")})
    items = []
    for key, message in view.errors.items():
        target = targets.get(key, "")
        items.append(f'<li><a href="#{target}">{esc(message)}</a></li>' if target else f"<li>{esc(message)}</li>")
    title = esc(i18n.gettext(view.locale, "Please check your review"))
    return (
        f'<div class="summary" role="alert" tabindex="-1" aria-labelledby="summary-title" autofocus>'
        f'<h2 id="summary-title">{title}</h2><ul>{"".join(items)}</ul></div>'
    )


def page(view: FormView) -> str:
    """The whole form page."""
    locale, shop = view.locale, view.shop
    title = i18n.gettext(locale, "Review your order from {shop}", shop=shop)
    intro = i18n.gettext(locale, "How was your order? It takes a minute, and it helps other buyers.")
    if view.reviewed_at is not None:
        when = i18n.format_date(view.reviewed_at, locale, "long")
        intro = i18n.gettext(locale, "You sent your review on {date}. Change anything and send it again.", date=when)
    shop_legend = i18n.gettext(locale, "Your rating of {shop}", shop=shop)
    parts = [
        f"<h1>{esc(title)}</h1><p>{esc(intro)}</p>",
        _summary(view),
        f'<form method="post" action="{esc(view.action)}" enctype="multipart/form-data" novalidate>',
        f'<section class="card" aria-labelledby="s0-h"><h2 id="s0-h">{esc(shop)}</h2>',
        _stars(view, 0, None, shop_legend, required=True),
        _words(view, 0, None),
        "</section>",
    ]
    only_some = esc(i18n.gettext(locale, "Optional: review only what you want to."))
    for index, (sku, product) in enumerate(view.products, start=1):
        legend = i18n.gettext(locale, "Your rating of {product}", product=product)
        parts += [
            f'<section class="card" aria-labelledby="s{index}-h"><h2 id="s{index}-h">{esc(product)}</h2>',
            f'<p class="muted">{only_some}</p>',
            _stars(view, index, sku, legend, required=False),
            _words(view, index, sku),
            _photos(view, index, sku),
            "</section>",
        ]
    if view.author:
        signed = i18n.gettext(locale, "Your reviews will be signed “{name}”, as a verified buyer.", name=view.author)
    else:
        signed = i18n.gettext(locale, "Your reviews will be shown without your name, as a verified buyer.")
    website = esc(i18n.gettext(locale, "Leave this field empty"))
    send = esc(i18n.gettext(locale, "Send review"))
    parts += [
        # the honeypot: off-screen, out of the tab order and of the accessibility tree; people never fill it in
        f'<div class="hp" aria-hidden="true"><label for="website">{website}</label>'
        '<input type="text" id="website" name="website" tabindex="-1" autocomplete="off" value=""></div>',
        f'<p class="sign">{esc(signed)}</p>',
        f'<button type="submit">{send}</button></form>',
    ]
    return shell(locale, title, "".join(parts))

"""The demo shop's pages (/demo): what a newcomer opens first to see every widget on a real-looking shop.

They embed the widgets exactly as a shop would (the stylesheet in <head>, `data-reviews-widget`
elements, one async loader script) and are served under a strict Content-Security-Policy.
"""

from __future__ import annotations

from reviews_service import domain
from widgets.render import esc

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
TEXT = {
    "nl": {"home": "Home", "shop": "Collectie", "reviews": "Beoordelingen", "hero": "Design meubels, met zorg geleverd",
           "sub": "Stoelen, tafels en lampen van de mooiste merken.", "all": "Bekijk de collectie"},
    "en": {"home": "Home", "shop": "Collection", "reviews": "Reviews", "hero": "Design furniture, delivered with care",
           "sub": "Chairs, tables and lamps from the finest brands.", "all": "See the collection"},
    "fr": {"home": "Accueil", "shop": "Collection", "reviews": "Avis", "hero": "Mobilier design, livré avec soin",
           "sub": "Chaises, tables et luminaires des plus belles marques.", "all": "Voir la collection"},
    "de": {"home": "Start", "shop": "Kollektion", "reviews": "Bewertungen", "hero": "Designmöbel, sorgfältig geliefert",
           "sub": "Stühle, Tische und Leuchten der schönsten Marken.", "all": "Zur Kollektion"},
}  # fmt: skip
LISTING_SIZE = 24
PRODUCT_REVIEWS = 5  # the product page lists 5 reviews; its JSON-LD carries the same 5


def _words(unit: domain.BusinessUnit) -> tuple[str, dict[str, str]]:
    locale = next((loc[:2] for loc in unit.locales if loc[:2] in TEXT), "en")
    return locale, TEXT[locale]


def _page(unit: domain.BusinessUnit, title: str, body: str, head: str = "") -> str:
    locale, words = _words(unit)
    base = f"/demo/{esc(unit.slug)}"
    return (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)} · {esc(unit.name)}</title>"
        '<link rel="stylesheet" href="/widgets/widgets.css"><link rel="stylesheet" href="/demo/demo.css">'
        f"{head}</head><body>"
        f'<header><a class="brand" href="{base}/">{esc(unit.name)}</a>'
        f'<nav><a href="{base}/">{words["home"]}</a><a href="{base}/products">{words["shop"]}</a>'
        f'<a href="{base}/reviews">{words["reviews"]}</a></nav>'
        f'<div data-reviews-widget="badge" data-business-unit="{esc(unit.slug)}"></div></header>'
        f"<main>{body}</main>"
        f"<footer>{esc(unit.name)} · {esc(unit.domain)} · demo shop of reviews-service</footer>"
        '<script src="/widgets/loader.js" async></script></body></html>'
    )


def home(unit: domain.BusinessUnit) -> str:
    """Home page: the badge in the header and a larger one in the hero, light and dark."""
    _, words = _words(unit)
    slug = esc(unit.slug)
    body = (
        f'<section class="hero"><h1>{words["hero"]}</h1><p>{words["sub"]}</p>'
        f'<p><a href="/demo/{slug}/products">{words["all"]}</a></p>'
        f'<div class="dark"><div data-reviews-widget="badge" data-business-unit="{slug}" data-theme="dark"></div></div>'
        "</section>"
    )
    return _page(unit, words["home"], body)


def listing(unit: domain.BusinessUnit, products: list[domain.Product]) -> str:
    """A listing page: every product's stars, all from the loader's single request."""
    _, words = _words(unit)
    slug = esc(unit.slug)
    cards = "".join(
        f'<li class="card"><div class="ph"></div><p class="brand-name">{esc(p.brand)}</p>'
        f'<h2><a href="/demo/{slug}/products/{esc(p.sku)}">{esc(p.name)}</a></h2>'
        f'<div data-reviews-widget="product-stars" data-business-unit="{slug}" data-sku="{esc(p.sku)}"></div></li>'
        for p in products[:LISTING_SIZE]
    )
    return _page(unit, words["shop"], f'<h1>{words["shop"]}</h1><ul class="grid">{cards}</ul>')


def product_page(unit: domain.BusinessUnit, product: domain.Product, structured_data: str = "") -> str:
    """A product page: its stars, its latest reviews, and their schema.org markup for search engines."""
    slug = esc(unit.slug)
    body = (
        f'<div class="product"><div class="ph"></div><div><p class="brand-name">{esc(product.brand)}</p>'
        f"<h1>{esc(product.name)}</h1>"
        f'<div data-reviews-widget="product-stars" data-business-unit="{slug}" data-sku="{esc(product.sku)}"></div>'
        f'<div data-reviews-widget="reviews" data-business-unit="{slug}" data-sku="{esc(product.sku)}" '
        f'data-limit="{PRODUCT_REVIEWS}"></div></div></div>'
    )
    return _page(unit, product.name, body, head=structured_data)


def reviews_page(unit: domain.BusinessUnit) -> str:
    """The shop's own reviews: badge and the ten latest."""
    _, words = _words(unit)
    slug = esc(unit.slug)
    body = (
        f"<h1>{words['reviews']}</h1>"
        f'<div data-reviews-widget="reviews" data-business-unit="{slug}" data-limit="10"></div>'
    )
    return _page(unit, words["reviews"], body)

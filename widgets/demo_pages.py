"""The demo shop's pages (/demo): what a newcomer opens first to see every widget on a real-looking shop.

They embed the widgets exactly as a shop would (the stylesheet in <head>, `data-reviews-widget`
elements, one async loader script) and are served under a strict Content-Security-Policy.
"""

from __future__ import annotations

from babel.numbers import format_currency

from reviews_service import domain
from reviews_service.i18n import N_, format_number, gettext
from widgets import i18n
from widgets.render import esc

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
# schema.org availability -> the words beside the price
STOCK = {"InStock": N_("In stock"), "BackOrder": N_("On back order"), "OutOfStock": N_("Sold out")}
LISTING_SIZE = 24
FAVICON = "/favicon.svg"
PRODUCT_REVIEWS = 5  # the product page lists 5 reviews; its JSON-LD carries the same 5


def _locale(unit: domain.BusinessUnit) -> str:
    """The shop's first language we speak (the demo has no language switch)."""
    return next((loc[:2] for loc in unit.locales if loc[:2] in i18n.LOCALES), i18n.DEFAULT_LOCALE)


def price_text(product: domain.Product, locale: str) -> str:
    """The price as CLDR writes it for the shop's visitors: '€ 1.249,00' (nl), '€1,249.00' (en), '1.249,00 €' (de, fr).

    The space beside the sign is a no-break space, so a price never wraps between sign and amount.
    """
    if not product.price:
        return ""
    return format_currency(product.price, product.currency, locale=locale)


def _offer(product: domain.Product, locale: str) -> str:
    """Price and stock as shown beside the product: the JSON-LD `offers` must match what the page shows."""
    if not product.price:
        return ""
    stock = gettext(locale, STOCK[product.availability]) if product.availability in STOCK else ""
    in_stock = " in" if product.availability == "InStock" else ""
    stock_html = f' <span class="stock{in_stock}">{esc(stock)}</span>' if stock else ""
    return f'<p class="price"><span>{esc(price_text(product, locale))}</span>{stock_html}</p>'


def _page(unit: domain.BusinessUnit, title: str, body: str, description: str, head: str = "") -> str:
    locale = _locale(unit)
    base = f"/demo/{esc(unit.slug)}"
    home, collection = gettext(locale, "Home"), gettext(locale, "Collection")
    reviews, footer = gettext(locale, "Reviews"), gettext(locale, "demo shop of reviews-service")
    return (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)} · {esc(unit.name)}</title>"
        f'<meta name="description" content="{esc(description)}">'
        f'<link rel="icon" href="{FAVICON}" type="image/svg+xml">'
        '<link rel="stylesheet" href="/widgets/widgets.css"><link rel="stylesheet" href="/demo/demo.css">'
        f"{head}</head><body>"
        f'<header><a class="brand" href="{base}/">{esc(unit.name)}</a>'
        f'<nav><a href="{base}/">{home}</a><a href="{base}/products">{collection}</a>'
        f'<a href="{base}/reviews">{reviews}</a></nav>'
        f'<div data-reviews-widget="badge" data-business-unit="{esc(unit.slug)}"></div></header>'
        f"<main>{body}</main>"
        f"<footer>{esc(unit.name)} · {esc(unit.domain)} · {footer}</footer>"
        '<script src="/widgets/loader.js" async></script></body></html>'
    )


def home(unit: domain.BusinessUnit) -> str:
    """Home page: the badge in the header and a larger one in the hero, light and dark."""
    locale = _locale(unit)
    slug = esc(unit.slug)
    hero = gettext(locale, "Design furniture, delivered with care")
    sub = gettext(locale, "Chairs, tables and lamps from the finest brands.")
    see_all = gettext(locale, "See the collection")
    body = (
        f'<section class="hero"><h1>{hero}</h1><p>{sub}</p><p><a href="/demo/{slug}/products">{see_all}</a></p>'
        f'<div class="dark"><div data-reviews-widget="badge" data-business-unit="{slug}" data-theme="dark"></div></div>'
        "</section>"
    )
    description = gettext(
        locale, "{shop}: chairs, tables and lamps from the finest brands, with our customers' reviews.", shop=unit.name
    )
    return _page(unit, gettext(locale, "Home"), body, description)


def listing(unit: domain.BusinessUnit, products: list[domain.Product]) -> str:
    """A listing page: every product's stars, all from the loader's single request."""
    locale = _locale(unit)
    slug = esc(unit.slug)
    cards = "".join(
        f'<li class="card"><div class="ph"></div><p class="brand-name">{esc(p.brand)}</p>'
        f'<h2><a href="/demo/{slug}/products/{esc(p.sku)}">{esc(p.name)}</a></h2>'
        f'<div data-reviews-widget="product-stars" data-business-unit="{slug}" data-sku="{esc(p.sku)}"></div>'
        f"{_offer(p, locale)}</li>"
        for p in products[:LISTING_SIZE]
    )
    description = gettext(
        locale,
        "The {shop} collection: {count} pieces of design furniture, each with customer reviews.",
        shop=unit.name,
        count=format_number(len(products), locale, decimals=0),
    )
    title = gettext(locale, "Collection")
    return _page(unit, title, f'<h1>{title}</h1><ul class="grid">{cards}</ul>', description)


def product_page(unit: domain.BusinessUnit, product: domain.Product, structured_data: str = "") -> str:
    """A product page: its stars, price, latest reviews, and their schema.org markup for search engines."""
    locale = _locale(unit)
    slug = esc(unit.slug)
    body = (
        f'<div class="product"><div class="ph"></div><div><p class="brand-name">{esc(product.brand)}</p>'
        f"<h1>{esc(product.name)}</h1>"
        f'<div data-reviews-widget="product-stars" data-business-unit="{slug}" data-sku="{esc(product.sku)}"></div>'
        f"{_offer(product, locale)}"
        f'<div data-reviews-widget="reviews" data-business-unit="{slug}" data-sku="{esc(product.sku)}" '
        f'data-limit="{PRODUCT_REVIEWS}"></div></div></div>'
    )
    brand = product.brand or unit.name
    description = gettext(
        locale,
        "{product} by {brand} at {shop}: price, delivery and customer reviews.",
        product=product.name,
        brand=brand,
        shop=unit.name,
    )
    return _page(unit, product.name, body, description, head=structured_data)


def reviews_page(unit: domain.BusinessUnit) -> str:
    """The shop's own reviews: badge and the ten latest."""
    locale = _locale(unit)
    slug = esc(unit.slug)
    title = gettext(locale, "Reviews")
    body = f'<h1>{title}</h1><div data-reviews-widget="reviews" data-business-unit="{slug}" data-limit="10"></div>'
    description = gettext(
        locale, "What customers say about {shop}: the latest reviews of orders and service.", shop=unit.name
    )
    return _page(unit, title, body, description)

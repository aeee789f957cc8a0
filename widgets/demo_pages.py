"""The demo shop's pages (/demo): what a newcomer opens first to see every widget on a real-looking shop.

They embed the widgets exactly as a shop would (the stylesheet in <head>, `data-reviews-widget`
elements, one async loader script) and are served under a strict Content-Security-Policy.
"""

from __future__ import annotations

from reviews_service import domain
from widgets import i18n
from widgets.render import esc

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
TEXT = {
    "nl": {"home": "Home", "shop": "Collectie", "reviews": "Beoordelingen", "hero": "Design meubels, met zorg geleverd",
           "sub": "Stoelen, tafels en lampen van de mooiste merken.", "all": "Bekijk de collectie",
           "InStock": "Op voorraad", "BackOrder": "In nabestelling", "OutOfStock": "Uitverkocht",
           "d_home": "{shop}: stoelen, tafels en lampen van de mooiste merken, met de beoordelingen van onze klanten.",
           "d_shop": "De collectie van {shop}: {count} designmeubels, elk met de beoordelingen van klanten.",
           "d_product": "{product} van {brand} bij {shop}: prijs, levering en beoordelingen van klanten.",
           "d_reviews": "Wat klanten over {shop} zeggen: de nieuwste beoordelingen van bestellingen en service."},
    "en": {"home": "Home", "shop": "Collection", "reviews": "Reviews", "hero": "Design furniture, delivered with care",
           "sub": "Chairs, tables and lamps from the finest brands.", "all": "See the collection",
           "InStock": "In stock", "BackOrder": "On back order", "OutOfStock": "Sold out",
           "d_home": "{shop}: chairs, tables and lamps from the finest brands, with our customers' reviews.",
           "d_shop": "The {shop} collection: {count} pieces of design furniture, each with customer reviews.",
           "d_product": "{product} by {brand} at {shop}: price, delivery and customer reviews.",
           "d_reviews": "What customers say about {shop}: the latest reviews of orders and service."},
    "fr": {"home": "Accueil", "shop": "Collection", "reviews": "Avis", "hero": "Mobilier design, livré avec soin",
           "sub": "Chaises, tables et luminaires des plus belles marques.", "all": "Voir la collection",
           "InStock": "En stock", "BackOrder": "En réapprovisionnement", "OutOfStock": "Épuisé",
           "d_home": "{shop} : chaises, tables et luminaires des plus belles marques, avec les avis de nos clients.",
           "d_shop": "La collection {shop} : {count} meubles design, chacun avec les avis des clients.",
           "d_product": "{product} de {brand} chez {shop} : prix, livraison et avis des clients.",
           "d_reviews": "Ce que les clients disent de {shop} : les derniers avis sur les commandes et le service."},
    "de": {"home": "Start", "shop": "Kollektion", "reviews": "Bewertungen", "hero": "Designmöbel, sorgfältig geliefert",
           "sub": "Stühle, Tische und Leuchten der schönsten Marken.", "all": "Zur Kollektion",
           "InStock": "Auf Lager", "BackOrder": "Nachbestellt", "OutOfStock": "Ausverkauft",
           "d_home": "{shop}: Stühle, Tische und Leuchten der schönsten Marken, mit den Bewertungen unserer Kunden.",
           "d_shop": "Die Kollektion von {shop}: {count} Designmöbel, jedes mit Kundenbewertungen.",
           "d_product": "{product} von {brand} bei {shop}: Preis, Lieferung und Kundenbewertungen.",
           "d_reviews": "Was Kunden über {shop} sagen: die neuesten Bewertungen zu Bestellungen und Service."},
}  # fmt: skip
CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£"}
LISTING_SIZE = 24
FAVICON = "/favicon.svg"
PRODUCT_REVIEWS = 5  # the product page lists 5 reviews; its JSON-LD carries the same 5


def _words(unit: domain.BusinessUnit) -> tuple[str, dict[str, str]]:
    locale = next((loc[:2] for loc in unit.locales if loc[:2] in TEXT), "en")
    return locale, TEXT[locale]


def price_text(product: domain.Product, locale: str) -> str:
    """The price as the shop's visitors read it: '€ 1.249,00' (nl), '€1,249.00' (en), '1.249,00 €' (de, fr)."""
    if not product.price:
        return ""
    amount = i18n.number(float(product.price), locale, decimals=2)
    sign = CURRENCY_SIGNS.get(product.currency)
    if sign is None:
        return f"{amount} {product.currency}"
    return {"nl": f"{sign} {amount}", "en": f"{sign}{amount}"}.get(locale, f"{amount}\u00a0{sign}")


def _offer(product: domain.Product, locale: str, words: dict[str, str]) -> str:
    """Price and stock as shown beside the product: the JSON-LD `offers` must match what the page shows."""
    if not product.price:
        return ""
    stock = words.get(product.availability, "")
    in_stock = " in" if product.availability == "InStock" else ""
    stock_html = f' <span class="stock{in_stock}">{esc(stock)}</span>' if stock else ""
    return f'<p class="price"><span>{esc(price_text(product, locale))}</span>{stock_html}</p>'


def _page(unit: domain.BusinessUnit, title: str, body: str, description: str, head: str = "") -> str:
    locale, words = _words(unit)
    base = f"/demo/{esc(unit.slug)}"
    return (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)} · {esc(unit.name)}</title>"
        f'<meta name="description" content="{esc(description)}">'
        f'<link rel="icon" href="{FAVICON}" type="image/svg+xml">'
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
    return _page(unit, words["home"], body, words["d_home"].format(shop=unit.name))


def listing(unit: domain.BusinessUnit, products: list[domain.Product]) -> str:
    """A listing page: every product's stars, all from the loader's single request."""
    locale, words = _words(unit)
    slug = esc(unit.slug)
    cards = "".join(
        f'<li class="card"><div class="ph"></div><p class="brand-name">{esc(p.brand)}</p>'
        f'<h2><a href="/demo/{slug}/products/{esc(p.sku)}">{esc(p.name)}</a></h2>'
        f'<div data-reviews-widget="product-stars" data-business-unit="{slug}" data-sku="{esc(p.sku)}"></div>'
        f"{_offer(p, locale, words)}</li>"
        for p in products[:LISTING_SIZE]
    )
    description = words["d_shop"].format(shop=unit.name, count=i18n.count(len(products), locale))
    return _page(unit, words["shop"], f'<h1>{words["shop"]}</h1><ul class="grid">{cards}</ul>', description)


def product_page(unit: domain.BusinessUnit, product: domain.Product, structured_data: str = "") -> str:
    """A product page: its stars, price, latest reviews, and their schema.org markup for search engines."""
    locale, words = _words(unit)
    slug = esc(unit.slug)
    body = (
        f'<div class="product"><div class="ph"></div><div><p class="brand-name">{esc(product.brand)}</p>'
        f"<h1>{esc(product.name)}</h1>"
        f'<div data-reviews-widget="product-stars" data-business-unit="{slug}" data-sku="{esc(product.sku)}"></div>'
        f"{_offer(product, locale, words)}"
        f'<div data-reviews-widget="reviews" data-business-unit="{slug}" data-sku="{esc(product.sku)}" '
        f'data-limit="{PRODUCT_REVIEWS}"></div></div></div>'
    )
    brand = product.brand or unit.name
    description = words["d_product"].format(product=product.name, brand=brand, shop=unit.name)
    return _page(unit, product.name, body, description, head=structured_data)


def reviews_page(unit: domain.BusinessUnit) -> str:
    """The shop's own reviews: badge and the ten latest."""
    _, words = _words(unit)
    slug = esc(unit.slug)
    body = (
        f"<h1>{words['reviews']}</h1>"
        f'<div data-reviews-widget="reviews" data-business-unit="{slug}" data-limit="10"></div>'
    )
    return _page(unit, words["reviews"], body, words["d_reviews"].format(shop=unit.name))

"""The demo shop's pages: /demo/{bu}/, /demo/{bu}/products, /demo/{bu}/products/{sku}, /demo/{bu}/reviews.

Also the site's favicon (/favicon.svg, linked by the pages, and /favicon.ico, which browsers ask for on
every other page), so no page of the service logs a 404 in the browser's console.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from reviews_service import repository
from reviews_service.api import seo
from reviews_service.api.deps import StateDep
from reviews_service.errors import NotFound
from seo import jsonld
from widgets import demo_pages

router = APIRouter(tags=["demo"], include_in_schema=False)  # paths spelled out: the favicons live at the root
DEMO_SHOP = "flinders-nl"
STATIC_CACHE = "public, max-age=86400"


def _html(page: str) -> Response:
    headers = {"Content-Security-Policy": demo_pages.CSP, "Cache-Control": "no-cache"}
    return Response(page, media_type="text/html; charset=utf-8", headers=headers)


def _static(name: str, media_type: str, cache_control: str) -> Response:
    body = resources.files("widgets").joinpath(f"static/{name}").read_bytes()
    return Response(body, media_type=media_type, headers={"Cache-Control": cache_control})


@router.get("/favicon.svg")
def favicon_svg() -> Response:
    """The service's icon (a star), as the demo pages link it."""
    return _static("favicon.svg", "image/svg+xml", STATIC_CACHE)


@router.get("/favicon.ico")
def favicon_ico() -> Response:
    """The same icon where browsers look for it by default."""
    return _static("favicon.ico", "image/x-icon", STATIC_CACHE)


@router.get("/demo")
def demo_root(state: StateDep) -> Response:
    """The first page a newcomer opens: the demo shop's home."""
    try:
        repository.get_business_unit(state, DEMO_SHOP)
    except NotFound as exc:
        raise NotFound(
            "The demo shop is not loaded: run `reviews demo` (with MONGODB_URL set); "
            "`reviews serve` loads it by itself on an empty embedded store."
        ) from exc
    return RedirectResponse(f"/demo/{DEMO_SHOP}/", status_code=307)


@router.get("/demo/demo.css")
def demo_css() -> Response:
    """The demo shop's own stylesheet."""
    return _static("demo.css", "text/css; charset=utf-8", "public, max-age=3600")


@router.get("/demo/{bu}/")
def demo_home(bu: str, state: StateDep) -> Response:
    """The demo shop's home: badges in the header and the hero."""
    return _html(demo_pages.home(repository.get_business_unit(state, bu)))


@router.get("/demo/{bu}/products")
def demo_listing(bu: str, state: StateDep) -> Response:
    """The collection: every product's stars from one widget request."""
    unit = repository.get_business_unit(state, bu)
    products = sorted(repository.catalogue(bu).values(), key=lambda p: p.sku)
    return _html(demo_pages.listing(unit, products))


@router.get("/demo/{bu}/products/{sku}")
def demo_product(bu: str, sku: str, state: StateDep) -> Response:
    """One product: stars, price, latest reviews and the same JSON-LD as the SEO endpoint."""
    markup = jsonld.script_element(seo.product_jsonld(state, bu, sku, reviews=demo_pages.PRODUCT_REVIEWS))
    return _html(
        demo_pages.product_page(repository.get_business_unit(state, bu), repository.get_product(state, bu, sku), markup)
    )


@router.get("/demo/{bu}/reviews")
def demo_reviews(bu: str, state: StateDep) -> Response:
    """The shop's own latest reviews."""
    return _html(demo_pages.reviews_page(repository.get_business_unit(state, bu)))

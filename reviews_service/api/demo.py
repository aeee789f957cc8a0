"""The demo shop's pages: /demo/{bu}/, /demo/{bu}/products, /demo/{bu}/products/{sku}, /demo/{bu}/reviews."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from reviews_service import repository
from reviews_service.api import seo
from reviews_service.errors import NotFound
from seo import jsonld
from widgets import demo_pages

router = APIRouter(prefix="/demo", tags=["demo"], include_in_schema=False)
DEMO_SHOP = "flinders-nl"


def _html(page: str) -> Response:
    headers = {"Content-Security-Policy": demo_pages.CSP, "Cache-Control": "no-cache"}
    return Response(page, media_type="text/html; charset=utf-8", headers=headers)


@router.get("")
def demo_root() -> Response:
    """The first page a newcomer opens: the demo shop's home."""
    try:
        repository.get_business_unit(DEMO_SHOP)
    except NotFound as exc:
        raise NotFound(
            "The demo shop is not loaded: run `reviews demo` (with MONGODB_URL set); "
            "`reviews serve` loads it by itself on an empty embedded store."
        ) from exc
    return RedirectResponse(f"/demo/{DEMO_SHOP}/", status_code=307)


@router.get("/demo.css")
def demo_css() -> Response:
    css = resources.files("widgets").joinpath("static/demo.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/{bu}/")
def demo_home(bu: str) -> Response:
    return _html(demo_pages.home(repository.get_business_unit(bu)))


@router.get("/{bu}/products")
def demo_listing(bu: str) -> Response:
    unit = repository.get_business_unit(bu)
    products = sorted(repository.catalogue(bu).values(), key=lambda p: p.sku)
    return _html(demo_pages.listing(unit, products))


@router.get("/{bu}/products/{sku}")
def demo_product(bu: str, sku: str) -> Response:
    markup = jsonld.script_element(seo.product_jsonld(bu, sku, reviews=demo_pages.PRODUCT_REVIEWS))
    return _html(demo_pages.product_page(repository.get_business_unit(bu), repository.get_product(bu, sku), markup))


@router.get("/{bu}/reviews")
def demo_reviews(bu: str) -> Response:
    return _html(demo_pages.reviews_page(repository.get_business_unit(bu)))

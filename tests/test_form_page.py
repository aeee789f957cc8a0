"""GET /r/{token}: the form a buyer opens from an invitation, in their language, with nothing personal on it but
their display name, and the pages that say why a link does not open."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from collectors.forms import display_name
from reviews_service import documents as docs
from reviews_service import domain, invitation_links, invitation_store, repository
from reviews_service.api.deps import now_dep
from reviews_service.config import Settings
from reviews_service.form_pages import accept_language
from reviews_service.state import ServiceState
from tests.conftest import NOW
from tests.form_helpers import EMAIL, ORDER, invite


def _radios(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="radio" name="{re.escape(name)}"[^>]*>', html)


def test_the_form_shows_the_shop_and_each_product_with_star_radio_groups(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    _, token = invite(settings)
    page = client.get(f"/r/{token}")
    assert page.status_code == 200
    html = page.text
    assert html.startswith('<!DOCTYPE html><html lang="nl">')
    assert '<meta name="viewport" content="width=device-width,initial-scale=1">' in html
    assert '<h2 id="s0-h">Test Shop</h2>' in html
    assert ">Oak chair</h2>" in html and ">Walnut table</h2>" in html  # names from the catalogue, not SKUs
    for field in ("rating", "rating.oak-chair", "rating.walnut-table"):
        radios = _radios(html, field)
        assert [re.search(r'value="(\d)"', r).group(1) for r in radios] == ["1", "2", "3", "4", "5"]  # type: ignore[union-attr]
    assert all(" required" in r for r in _radios(html, "rating"))  # the shop's rating is required ...
    assert not any(" required" in r for r in _radios(html, "rating.oak-chair"))  # ... a product's is not
    assert html.count("<fieldset") == 3 and html.count("<legend>") == 3
    assert '<span class="vh">4 sterren</span>' in html and '<span class="vh">1 ster</span>' in html
    assert 'enctype="multipart/form-data"' in html and 'method="post"' in html
    assert html.count('type="file"') == 2 and 'accept="image/jpeg,image/png,image/webp" multiple' in html
    assert (
        'name="title.oak-chair" maxlength="150"' in html and 'name="text.oak-chair" rows="5" maxlength="5000"' in html
    )
    assert "ondertekend met “Anna B.”" in html


def test_the_page_is_small_self_contained_and_never_cached_or_indexed(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    _, token = invite(settings)
    page = client.get(f"/r/{token}")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"  # the token is in the address
    assert page.headers["x-robots-tag"] == "noindex"
    assert len(page.content) < 20_000, len(page.content)
    html = page.text.lower()
    for late in ("<script", "<link", "<img", "@font-face", "@import", "http://", "https://"):
        assert late not in html.replace("http://www.w3.org/2000/svg", ""), late  # nothing fetched after the page


def test_nothing_personal_is_on_the_page(client: TestClient, shop: domain.BusinessUnit, settings: Settings) -> None:
    _, token = invite(settings)
    html = client.get(f"/r/{token}").text
    for personal in (EMAIL, ORDER, "Bakker"):
        assert personal not in html


def test_the_honeypot_is_hidden_from_people_and_screen_readers(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    _, token = invite(settings)
    html = client.get(f"/r/{token}").text
    trap = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', html)
    assert trap is not None
    assert 'name="website" tabindex="-1" autocomplete="off" value=""' in trap.group(0)
    assert ".hp{position:absolute;left:-10000px" in html


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ("Review your order from Test Shop", "4 stars", "Send review")),
        ("de", ("Bewerten Sie Ihre Bestellung bei Test Shop", "4 Sterne", "Bewertung senden")),
        ("fr", ("Donnez votre avis sur votre commande chez Test Shop", "4 étoiles", "Envoyer l’avis")),
    ],
)
def test_the_form_speaks_the_invitations_language(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings, locale: str, words: tuple[str, ...]
) -> None:
    _, token = invite(settings, locale=locale)
    html = client.get(f"/r/{token}", headers={"Accept-Language": "nl"}).text
    assert f'<html lang="{locale}">' in html
    for word in words:
        assert word in html


def test_the_email_star_links_preselect_the_shops_rating(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    _, token = invite(settings)
    checked = [r for r in _radios(client.get(f"/r/{token}?rating=4").text, "rating") if " checked" in r]
    assert len(checked) == 1 and 'value="4"' in checked[0]
    for junk in ("9", "0", "4.5", "x" * 30):
        page = client.get(f"/r/{token}", params={"rating": junk})
        assert page.status_code == 200
        assert " checked" not in page.text


def test_opening_the_form_marks_the_invitation_opened_once(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, token = invite(settings)
    assert invitation_store.get_invitation(invitation.id).state(NOW) == "sent"
    client.get(f"/r/{token}")
    opened = invitation_store.get_invitation(invitation.id)
    assert opened.opened_at == NOW and opened.state(NOW) == "opened"
    client.app.dependency_overrides[now_dep] = lambda: NOW + timedelta(days=1)  # type: ignore[attr-defined]
    client.get(f"/r/{token}")
    assert invitation_store.get_invitation(invitation.id).opened_at == NOW  # the first opening stays


def test_a_second_visit_shows_the_earlier_submission_escaped(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    _, token = invite(settings)
    sent = {"rating": "2", "title": '<b>Traag</b> & "laat"', "text": "Regel 1\r\nRegel 2", "rating.oak-chair": "4"}
    assert client.post(f"/r/{token}", data=sent, follow_redirects=False).status_code == 303
    html = client.get(f"/r/{token}").text
    assert 'value="&lt;b&gt;Traag&lt;/b&gt; &amp; &quot;laat&quot;"' in html and "<b>Traag" not in html
    assert ">Regel 1\nRegel 2</textarea>" in html
    assert next(r for r in _radios(html, "rating") if " checked" in r).count('value="2"') == 1
    assert next(r for r in _radios(html, "rating.oak-chair") if " checked" in r).count('value="4"') == 1
    assert not [r for r in _radios(html, "rating.walnut-table") if " checked" in r]
    assert "Je hebt je beoordeling op 20 november 2026 verstuurd" in html


def test_markup_in_names_stays_text(
    client: TestClient, connected: object, state: ServiceState, settings: Settings
) -> None:
    unit = domain.BusinessUnit(slug="test-shop", name="<i>Shop</i> & co", locales=("nl",))
    repository.save_business_unit(state, unit)
    repository.save_products(
        state, [domain.Product(business_unit="test-shop", sku="x1", name="<script>alert(1)</script>")]
    )
    _, token = invite(settings, products=("x1",), name="<img src=x onerror=alert(1)> Jansen")
    html = client.get(f"/r/{token}").text
    assert "<script>alert" not in html and "<img" not in html and "<i>Shop" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;i&gt;Shop&lt;/i&gt; &amp; co" in html


def test_a_product_gone_from_the_catalogue_is_left_off(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    _, token = invite(settings, products=("oak-chair", "discontinued-stool"))
    html = client.get(f"/r/{token}").text
    assert "discontinued-stool" not in html and html.count("<fieldset") == 2


def test_a_forged_link_is_404_in_the_browsers_language(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    _, token = invite(settings)
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense", "x" * 500, token + "x"):
        page = client.get(f"/r/{forged}", headers={"Accept-Language": "de-CH,de;q=0.9,en;q=0.5"})
        assert page.status_code == 404, forged
        assert '<html lang="de">' in page.text and "Dieser Bewertungslink funktioniert nicht" in page.text
        assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"


def test_an_expired_link_is_410_in_the_invitations_language(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    _, token = invite(settings, locale="fr", created_at=NOW - timedelta(days=50), expires_at=NOW - timedelta(days=5))
    page = client.get(f"/r/{token}", headers={"Accept-Language": "de"})
    assert page.status_code == 410
    assert '<html lang="fr">' in page.text and "Ce lien d’avis a expiré" in page.text


def test_an_erased_or_unknown_invitation_is_404(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, token = invite(settings)
    docs.InvitationDoc._get_collection().delete_one({"_id": invitation.id})  # what erasure leaves: nothing
    page = client.get(f"/r/{token}", headers={"Accept-Language": "nl"})
    assert page.status_code == 404 and "Deze beoordelingslink werkt niet" in page.text
    secret = settings.secret_key.get_secret_value()
    never = invitation_links.make_token(secret, "0" * 24, NOW + timedelta(days=3))
    assert client.get(f"/r/{never}").status_code == 404
    assert client.get(f"/r/{never}/thanks").status_code == 404


def test_a_link_signed_with_another_key_is_forged(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, _ = invite(settings)
    other = invitation_links.make_token("another-secret-key-0123456789", invitation.id, NOW + timedelta(days=3))
    assert client.get(f"/r/{other}").status_code == 404


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Anna Bakker", "Anna B."),
        ("anna van den Berg", "Anna B."),
        ("Jean-Pierre  de la Fontaine", "Jean-Pierre F."),
        ("Cher", "Cher"),
        ("", ""),
        ("   ", ""),
        ("anna.bakker@example.com", ""),
        ("Ömer Öztürk", "Ömer Ö."),
        ("ANNA BAKKER", "Anna B."),
        # the surname first, as order systems export it
        ("Bakker, Anna", "Anna B."),
        ("van den Berg, Anna", "Anna B."),
        ("Bakker,", "B."),
        # a title is not a given name, and after one a lone word is the surname
        ("Mr. John Smith", "John S."),
        ("Mme Marie Curie", "Marie C."),
        ("Dhr. Bakker", "B."),
        ("Frau Dr. Müller", "M."),
        ("Mr. S.", "S."),
        # an initial where a name would be: which word is the surname cannot be told, so initials only
        ("BAKKER A.", "B. A."),
        ("Bakker, A.", "A. B."),
        ("A. Bakker", "A. B."),
        ("J.-P. Sartre", "J. S."),
    ],
)
def test_the_display_name_is_the_given_name_and_an_initial(name: str, shown: str) -> None:
    assert display_name(name) == shown


def test_pages_without_an_invitation_follow_accept_language() -> None:
    assert accept_language("fr-BE,fr;q=0.9,en;q=0.8") == "fr"
    assert accept_language("es,de;q=0.7,nl;q=0.9") == "nl"
    assert accept_language("") == "en" and accept_language("xx;q=abc,,;") == "en"

"""The verification page's new parts and the pages beside it, in a real browser: axe-core
passes on each, nothing overflows a phone, the forms work with no script, and Arabic reads
right to left. Screenshots go to artifacts/browser/ (docs/screenshots/visitor/ keeps some)."""

from __future__ import annotations

import pytest

from config.tenancy import scopes_disabled
from seals.models import MisuseReport
from tests.browser.conftest import SCHEMES, WIDTHS, axe_violations, shot_at, show_at
from tests.factories import MemberFactory
from tests.seals.public_helpers import seal_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]
IMAGE_LOADED = "img => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0"


def _seal(status: str = "active"):
    return seal_in(status, MemberFactory(domains=["shop.example", "www.shop.example"]))


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_verification_page_passes_axe_and_fits(public_server, context, lang):
    seal = _seal()
    page = context.new_page()
    page.goto(f"{public_server.url}/verify/{seal.public_id}?lang={lang}")
    badge = page.locator("img.badge")
    page.wait_for_function(IMAGE_LOADED, arg=badge.element_handle())
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.locator("#share-url").input_value().endswith(f"/verify/{seal.public_id}")
    for scheme in SCHEMES:
        for width in WIDTHS:
            show_at(page, width, scheme)
            name = f"verify-page-{lang}-{width}" + ("-dark" if scheme == "dark" else "")
            shot_at(page, name, width)
            assert axe_violations(page) == [], name


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_report_is_sent_with_no_script(public_server, chromium, lang):
    phone = {"width": 375, "height": 800}
    context = chromium.new_context(java_script_enabled=False, viewport=phone)
    seal = _seal()
    page = context.new_page()
    page.goto(f"{public_server.url}/verify/{seal.public_id}?lang={lang}")
    page.locator(f'a[href^="/verify/{seal.public_id}/report"]').first.click()
    page.fill("#id_site_url", "https://copycat.example/about")
    page.fill("#id_message", "Our competitor shows this seal.")
    page.locator('button[type="submit"]').click()
    assert page.locator("h1").first.is_visible()
    shot_at(page, f"misuse-thanks-{lang}", 375)
    context.close()
    with scopes_disabled():
        assert MisuseReport.objects.filter(seal=seal, site_host="copycat.example").exists()


def test_the_new_pages_pass_axe(public_server, context):
    seal = _seal()
    page = context.new_page()
    for path, name in (
        (f"/verify/{seal.public_id}/report", "misuse-form"),
        ("/verify/credential", "check-credential"),
        ("/verify/how", "verify-how"),
        (f"/issuers/{seal.issuer.slug}", "issuer-page"),
    ):
        for lang in ("en", "ar"):
            page.goto(f"{public_server.url}{path}?lang={lang}")
            for width in WIDTHS:
                show_at(page, width, "light")
                shot_at(page, f"{name}-{lang}-{width}", width)
            assert axe_violations(page) == [], (path, lang)


def test_a_pasted_credential_is_checked_with_no_script(public_server, chromium):
    from seals.credentials import credential_jwt

    seal = _seal()
    with scopes_disabled():
        token = credential_jwt(seal)
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{public_server.url}/verify/credential")
    page.fill("#credential", token)
    page.locator('button[type="submit"]').click()
    assert page.locator(".status strong").inner_text() == "Valid"
    shot_at(page, "check-credential-result-en-1280", 1280)
    context.close()

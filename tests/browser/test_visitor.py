"""A visitor's path, in a real browser: a member's page shows the seal, a click opens the
verification page, which reads right, passes axe-core, fits phones and desktops, in light and
dark, in every language. Screenshots go to artifacts/browser/."""

from __future__ import annotations

import pytest

from seals.links import embed_snippet, seal_alt
from seals.public_views import script_snippet
from tests.browser.conftest import (
    FOREIGN_HOST,
    SCHEMES,
    WIDTHS,
    axe_violations,
    shot,
    shot_at,
    show_at,
)
from tests.factories import MemberFactory
from tests.seals.public_helpers import STATUSES, seal_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "active": "Valid",
    "pending": "Not yet valid",
    "expired": "Expired",
    "suspended": "Suspended",
    "revoked": "Revoked",
}
IMAGE_LOADED = "img => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0"


def _member_seal(status: str):
    return seal_in(status, MemberFactory(display_name="Acme Bakery", domains=["shop.example"]))


def _open_member_page_and_click(context, member_site, seal, name: str, host: str = "shop.example"):
    page = context.new_page()
    page.goto(member_site.publish(name, script_snippet(seal, "medium"), host=host))
    image = page.locator(f"#trustseal-{seal.public_id}")
    page.wait_for_function(IMAGE_LOADED, arg=image.element_handle())
    assert image.get_attribute("alt") == seal_alt(seal)
    with page.expect_popup() as popup_info:
        image.click()
    verify = popup_info.value
    verify.wait_for_load_state()
    return page, image, verify


@pytest.mark.parametrize("status", STATUSES)
def test_a_visitor_follows_the_seal_to_its_status(public_server, context, member_site, status):
    seal = _member_seal(status)
    page, image, verify = _open_member_page_and_click(context, member_site, seal, status)
    shot(page, f"member-site-{status}")
    # The script variant told the image which site shows it.
    assert "d=shop.example" in image.evaluate("img => img.currentSrc")
    assert verify.url == f"{public_server.url}/verify/{seal.public_id}"
    assert verify.locator(".status strong").inner_text() == WORDS[status]
    assert verify.locator(".warning").count() == 0
    assert verify.locator("h1").inner_text() == "Acme Bakery"
    for scheme in SCHEMES:
        for width in WIDTHS:
            show_at(verify, width, scheme)
            suffix = scheme if width == 1280 else f"375-{scheme}"
            shot_at(verify, f"verify-{status}-{suffix}", width)
        background = verify.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(13, 17, 23)" if scheme == "dark" else "rgb(255, 255, 255)")
        assert axe_violations(verify) == []


def test_a_copied_seal_on_a_foreign_site_warns(public_server, context, member_site):
    seal = _member_seal("active")
    page, image, verify = _open_member_page_and_click(
        context, member_site, seal, "copy", host=FOREIGN_HOST
    )
    shot(page, "foreign-site")
    svg = page.request.get(image.evaluate("img => img.currentSrc")).text()
    assert "Not verified for this site" in svg
    warning = verify.locator(".warning")
    assert warning.is_visible()
    assert FOREIGN_HOST in warning.inner_text()
    assert axe_violations(verify) == []
    shot(verify, "verify-foreign-site-warning")


@pytest.mark.parametrize("lang", ["en", "fr", "de", "es", "ar"])
def test_every_language_fits_phone_and_desktop(public_server, context, member_site, lang):
    seal = _member_seal("suspended")
    page = context.new_page()
    page.goto(member_site.publish(f"lang-{lang}", embed_snippet(seal, lang=lang), lang=lang))
    image = page.locator("img")
    page.wait_for_function(IMAGE_LOADED, arg=image.element_handle())
    assert image.get_attribute("alt") == seal_alt(seal, lang)
    shot(page, f"member-site-{lang}")
    with page.expect_popup() as popup_info:
        image.click()
    verify = popup_info.value
    verify.wait_for_load_state()
    assert verify.evaluate("document.documentElement.lang") == lang
    direction = verify.evaluate("document.documentElement.dir")
    assert direction == ("rtl" if lang == "ar" else "ltr")
    if lang == "ar":
        # Right to left: the status icon sits to the right of the status word.
        icon = verify.locator(".status .icon").bounding_box()
        word = verify.locator(".status strong").bounding_box()
        assert icon["x"] > word["x"] + word["width"]
    for scheme in SCHEMES:
        for width in WIDTHS:
            show_at(verify, width, scheme)
            shot_at(verify, f"verify-{lang}-{width}" + ("-dark" if scheme == "dark" else ""), width)
    assert axe_violations(verify) == []  # dark, as left by the loop


SVG_BOXES = """() => {
    const box = e => { const b = e.getBBox(); return {x: b.x, width: b.width}; };
    return [...document.querySelectorAll('text')].map(t => ({
        anchor: t.getAttribute('text-anchor'),
        x: Number(t.getAttribute('x')),
        box: box(t),
        spans: [...t.querySelectorAll('tspan')].map(box),
    }));
}"""


@pytest.mark.parametrize("size", ["small", "medium", "large"])
def test_the_arabic_seal_image_ends_every_line_at_the_right_edge_without_overlap(
    public_server, context, size
):
    """Measured in the browser with its own fonts, which are not the ones the layout measured
    with: lines still end at one right edge and the status word never runs into the date."""
    seal = seal_in("suspended", MemberFactory(display_name="Acme Bakery"))
    page = context.new_page()
    page.goto(f"{public_server.url}/s/{seal.public_id}.svg?lang=ar&size={size}")
    lines = page.evaluate(SVG_BOXES)
    assert len(lines) == 4
    right = lines[0]["x"]
    for line in lines:
        assert line["anchor"] == "end" and line["x"] == right
        assert abs(line["box"]["x"] + line["box"]["width"] - right) < 1
    word, tail = next(line["spans"] for line in lines if line["spans"])
    assert word["x"] > tail["x"]  # the word first from the right
    assert tail["x"] + tail["width"] <= word["x"] + 0.5, "the status word runs into the date"

"""A visitor's path, in a real browser: a member's page shows the seal, a click opens the
verification page, which reads right, passes axe-core, fits phones and desktops, in light and
dark, in every language. Screenshots go to artifacts/browser/."""

from __future__ import annotations

from datetime import date

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
def test_the_arabic_seal_image_ends_every_line_where_the_layout_put_it(
    public_server, context, size
):
    """Measured in the browser, which draws with the font the SVG carries: every line ends
    where layout ended it and starts where layout measured its start (the same glyphs and
    advances as the PNG), and the status word comes first from the right."""
    from django.utils import translation

    from seals.render.images import card_for
    from seals.render.layout import build
    from seals.snapshot import get as snapshot_get

    seal = seal_in("suspended", MemberFactory(display_name="Acme Bakery"))
    page = context.new_page()
    page.goto(f"{public_server.url}/s/{seal.public_id}.svg?lang=ar&size={size}")
    lines = page.evaluate(SVG_BOXES)
    snap = snapshot_get(seal.public_id)
    with translation.override("ar"):
        drawing = build(card_for(snap, "suspended", date.today()), size=size, theme="light")
    starts = [t for t in drawing.texts if not t.joined]
    assert len(lines) == len(starts) == (3 if size == "small" else 5)
    for line, text in zip(lines, starts, strict=True):
        pieces = [text, *[t for t in drawing.texts if t.joined and t.y == text.y]]
        left = min(t.x for t in pieces)
        assert line["anchor"] == "end" and abs(line["x"] - text.end) < 0.1
        assert abs(line["box"]["x"] + line["box"]["width"] - line["x"]) < 1
        assert abs(line["box"]["x"] - left) < 1, "the browser's glyphs are not the layout's"
    for line in lines:
        if line["spans"]:
            word, tail = line["spans"]
            assert word["x"] > tail["x"]  # the word first from the right
            assert tail["x"] + tail["width"] <= word["x"] + 0.5, "the word runs into the date"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_svg_looks_like_the_png_in_the_browser(context, lang):
    """The SVG carries its font, so Chromium draws what Pillow draws: the two differ only by
    anti-aliasing (compared at 2x, the SVG against the 2x PNG)."""
    import base64
    import io

    from django.utils import translation
    from PIL import Image, ImageChops, ImageStat

    from seals.render import render
    from tests.seals.test_design_images import CARDS, _logo

    with translation.override(lang):
        svg = render(CARDS[lang], fmt="svg", size="medium", theme="light", logo_png=_logo())
        png = render(
            CARDS[lang], fmt="png", size="medium", theme="light", logo_png=_logo(), scale=2
        )
    page = context.browser.new_page(viewport={"width": 240, "height": 72}, device_scale_factor=2)
    data = base64.b64encode(svg).decode()
    page.set_content(
        f"<body style='margin:0'><img src='data:image/svg+xml;base64,{data}' width=240 "
        "height=72 style='display:block'></body>"
    )
    page.wait_for_function("document.images[0].complete")
    drawn = Image.open(io.BytesIO(page.screenshot())).convert("L")
    page.close()
    expected = Image.open(io.BytesIO(png)).convert("L")
    assert drawn.size == expected.size == (480, 144)
    diff = ImageChops.difference(drawn, expected)
    # Mean difference per pixel out of 255, measured: ~6 (en) and ~5 (ar) with the embedded
    # font, all of it at glyph and shape edges; 18 and 10 when the browser falls back to its
    # own fonts, 17 and 10 with no text at all.
    assert ImageStat.Stat(diff).mean[0] < 8
    # And no region is wrong: the worst 24x24 tile is ~27 (a glyph's edges); a fallback font
    # gives 52-74.
    for x in range(0, 480, 24):
        for y in range(0, 144, 24):
            tile = diff.crop((x, y, x + 24, y + 24))
            assert ImageStat.Stat(tile).mean[0] < 38, (x, y)

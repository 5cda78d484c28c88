"""The one seal renderer: layout, fonts and the two painters."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from seals.render import SIZES, Card, fonts, render
from seals.render.layout import build

SAMPLES = {
    "latin": "Müller & Søn Façades Łódź",
    "greek": "Ελληνική Ένωση Εμπόρων",
    "cyrillic": "Торговый дом «Северный»",
    "hebrew": "חברת שלום בע״מ",
    "arabic": "شركة الاتحاد للتجارة",
    "chinese": "北京同仁堂药店有限公司",
    "japanese": "株式会社やまだ商店",
    "korean": "삼성전자 주식회사",
}


@pytest.mark.parametrize("script", SAMPLES)
def test_every_character_of_each_script_has_a_shipped_glyph(script):
    for ch in SAMPLES[script].replace(" ", ""):
        face = fonts.face_for(ch)
        assert 0 <= face < 4, f"{ch!r} ({script}) has no shipped glyph"


def test_raqm_shapes_arabic_so_joined_letters_are_narrower_than_isolated_ones():
    if not fonts.HAS_RAQM:
        pytest.skip("Pillow here has no libraqm: Arabic is drawn unshaped")
    joined = fonts.text_width("سسس", 20, False)
    isolated = sum(fonts.text_width(c, 20, False) for c in "سسس")
    assert joined < isolated


def test_an_rtl_name_with_a_latin_part_is_drawn_right_to_left():
    runs = fonts.visual_runs("شركة ABC")
    assert [r.text.strip() for r in runs] == ["ABC", "شركة"]


@pytest.mark.parametrize("size", SIZES)
def test_no_text_runs_past_the_card_at_any_size(size):
    card = Card(
        state="active",
        issuer="I" * 300,
        programme="P" * 300,
        member="W" * 300,
        checked=date(2030, 1, 1),
    )
    drawing = build(card, size=size, theme="light")
    right = drawing.clip[0] + drawing.clip[2]
    for text in drawing.texts:
        assert text.x + fonts.text_width(text.text, text.size, text.bold) <= right + 0.5


def test_every_state_has_its_own_icon_and_colour():
    states = ("active", "pending", "expired", "suspended", "revoked", "misuse")
    drawings = [
        build(Card(state=s, member="x", checked=date(2030, 1, 1)), size="medium", theme="light")
        for s in states
    ]
    assert len({d.icon for d in drawings}) == len(states)
    assert len({d.strip for d in drawings}) == len(states)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_png_has_the_size_and_a_small_palette(theme):
    card = Card(
        state="active",
        issuer=SAMPLES["greek"],
        programme=SAMPLES["cyrillic"],
        member=SAMPLES["chinese"],
        checked=date(2030, 1, 1),
    )
    body = render(card, fmt="png", size="medium", theme=theme)
    img = Image.open(io.BytesIO(body))
    assert img.size == (240, 72)
    assert img.mode == "P"
    assert len(body) <= 12 * 1024


def test_svg_escapes_text_and_carries_an_accessible_label():
    card = Card(
        state="revoked",
        issuer="A&B",
        programme="<p>",
        member="</text><script>x",
        checked=date(2030, 1, 1),
    )
    svg = render(card, fmt="svg", size="small", theme="dark").decode()
    assert "<script" not in svg and "<p>" not in svg
    assert "A&amp;B" in svg
    assert 'role="img"' in svg and "<title>" in svg

"""The one seal renderer: layout, fonts and the two painters."""

from __future__ import annotations

import base64
import io
import unicodedata
from dataclasses import replace
from datetime import date
from xml.etree import ElementTree

import pytest
from django.utils import translation
from PIL import Image

from seals.render import SIZES, Card, clean_text, fonts, layout, render
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


# Names the national-standard subset (GB 2312 / JIS X 0208 / KS X 1001) left as boxes.
CJK_BEYOND_NATIONAL_SETS = {
    "hong kong bank": "香港滙豐銀行",
    "japanese variant": "髙島屋",
    "cantonese": "佢哋嘅㗎",
    "hangul": "똠양꿍 뷁",
    "enclosed": "㈱山田㈲",
}
_CJK_FACE = 3  # the shipped NotoSansCJKsc subset, not the host's fallback face


@pytest.mark.parametrize("name", CJK_BEYOND_NATIONAL_SETS.values(), ids=CJK_BEYOND_NATIONAL_SETS)
def test_cjk_names_beyond_the_national_sets_have_a_shipped_glyph(name):
    for ch in name.replace(" ", ""):
        assert fonts.face_for(ch) == _CJK_FACE, f"{ch!r} U+{ord(ch):04X} has no shipped glyph"


@pytest.mark.parametrize(
    ("block", "first", "last", "unassigned"),
    [
        ("every Hangul syllable", 0xAC00, 0xD7A3, ()),
        # U+9FF0-U+9FFF arrived in Unicode 13-14, after Debian's Noto CJK 2.004.
        ("CJK Unified Ideographs", 0x4E00, 0x9FEF, ()),
        ("enclosed CJK letters and months", 0x3200, 0x32FF, (0x321F,)),
    ],
)
def test_the_shipped_cjk_face_covers_the_whole_block(block, first, last, unassigned):
    missing = [
        f"U+{cp:04X}"
        for cp in range(first, last + 1)
        if cp not in unassigned and fonts.face_for(chr(cp)) != _CJK_FACE
    ]
    assert missing == [], f"{block}: {len(missing)} without a shipped glyph"


def test_every_wide_character_of_big5_hkscs_has_a_shipped_glyph():
    chars = set()
    for lead in range(0x87, 0xFF):
        for trail in [*range(0x40, 0x7F), *range(0xA1, 0xFF)]:
            try:
                chars.update(bytes([lead, trail]).decode("big5hkscs"))
            except UnicodeDecodeError:
                continue
    wide = {ch for ch in chars if unicodedata.east_asian_width(ch) in "WF"}
    assert len(wide) > 17_000  # Big5's 13k ideographs and HKSCS's ~5k
    missing = sorted(f"{ch} U+{ord(ch):04X}" for ch in wide if fonts.face_for(ch) != _CJK_FACE)
    assert missing == []


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
    assert len({d.shapes.icon for d in drawings}) == len(states)
    assert len({d.shapes.band_colour for d in drawings}) == len(states)


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


# --- names the XML 1.0 grammar forbids ----------------------------------------------------
HOSTILE = [
    "Acme\x01Bakery",
    "Acme\x0bBakery",
    "Acme\x00\x08\x1f\x7f Bakery",
    "Acme\ufffe\uffffBakery",
    "Acme\U0001fffe Bakery",
    "Acme\ud800Bakery",  # a lone surrogate: not even encodable as UTF-8
    "\udfff",
    "</text><script>alert(1)</script>\x01",
    "\x1b[31mred\x1b[0m",
]


def _parse(svg: bytes) -> ElementTree.Element:
    # Our own renderer's output; the point is the strict XML 1.0 parse, which raises on any
    # character the grammar forbids.
    return ElementTree.fromstring(svg)  # noqa: S314


@pytest.mark.parametrize("name", HOSTILE, ids=repr)
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_hostile_name_gives_a_well_formed_svg(name, lang):
    card = Card(state="active", issuer=name, programme=name, member=name, checked=date(2030, 1, 1))
    with translation.override(lang):
        for size in SIZES:
            svg = render(card, fmt="svg", size=size, theme="light")
            root = _parse(svg)
            shown = "".join(root.itertext())
            assert "script" not in {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
            assert not any(ch in shown for ch in "\x00\x01\x0b\x1b\x7f\ufffe\ud800\udfff")
            png = Image.open(io.BytesIO(render(card, fmt="png", size=size, theme="light")))
            assert png.size == SIZES[size]


def test_clean_text_drops_what_xml_forbids_and_keeps_every_script():
    assert clean_text("Acme\x01\ufffe\ud800 Bakery") == "Acme Bakery"
    assert clean_text("Acme\x0bBakery\t\n  Ltd") == "Acme Bakery Ltd"
    for sample in SAMPLES.values():
        assert clean_text(sample) == sample


def test_the_label_the_svg_title_and_alt_text_use_is_cleaned():
    card = Card(state="active", member="A\x01B\x0bC", issuer="I", programme="P")
    assert build(card, size="medium", theme="light").label.startswith("AB C:")


DAY = date(2026, 11, 22)


# --- right to left -------------------------------------------------------------------------
CARDS = [
    Card(state=state, issuer=issuer, programme=programme, member=member, checked=DAY, has_logo=logo)
    for state in ("active", "pending", "expired", "suspended", "revoked", "misuse")
    for issuer, programme, member in (
        ("Guild of Bakers", "Master Baker", "Ab"),
        (SAMPLES["arabic"], SAMPLES["hebrew"], SAMPLES["chinese"]),
        ("I" * 200, "P" * 200, "W" * 200),
    )
    for logo in (False, True)
] + [Card(state="not_found"), Card(state="no_longer_valid")]
# The misuse card naming the site it is shown on: short, Unicode, with a port, very long.
SITES = ("copycat.example", "bäckerei.example:8443", "shop-" * 40 + "copycat.example")
CARDS += [
    Card(state="misuse", issuer="Guild", programme="Baker", member="Ab", checked=DAY, site=site)
    for site in SITES
]


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("lang", ["en", "fr", "de", "es", "ar"])
@pytest.mark.parametrize("size", SIZES)
def test_no_two_texts_overlap_and_all_stay_in_the_text_area(lang, size):
    with translation.override(lang):
        for card in CARDS:
            drawing = build(card, size=size, theme="light")
            left, _, width, height = drawing.clip
            boxes = [t.box() for t in drawing.texts]
            for i, box in enumerate(boxes):
                assert left - 0.5 <= box[0] and box[2] <= left + width + 0.5, (card, box)
                assert box[1] >= 0 and box[3] <= height, (card, box)
                for other in boxes[i + 1 :]:
                    assert not _overlap(box, other), (lang, size, card, box, other)
                if drawing.logo_box:
                    x, y, side = drawing.logo_box
                    assert not _overlap(box, (x, y, x + side, y + side)), (card, box)


@pytest.mark.parametrize("size", SIZES)
def test_in_arabic_every_line_ends_at_the_right_edge_and_the_word_comes_first(size):
    with translation.override("ar"):
        for card in CARDS:
            drawing = build(card, size=size, theme="light")
            assert drawing.rtl
            # The rosette moves to the right, the text column to its left.
            assert drawing.shapes.emblem[0] > drawing.clip[0] + drawing.clip[2]
            for t in (t for t in drawing.texts if not t.joined):
                assert abs(t.x + t.width - t.end) < 0.01, (card, t)
            for tail in (t for t in drawing.texts if t.joined):
                word = drawing.texts[drawing.texts.index(tail) - 1]
                gap = fonts.text_width("\u2002", tail.size, False)
                assert abs(tail.x + tail.width + gap - word.x) < 0.01  # the date left of it


def test_the_arabic_svg_anchors_lines_at_their_end_and_keeps_the_status_line_whole():
    card = Card(state="active", issuer="Guild", programme="Baker", member="Ab", checked=DAY)
    with translation.override("ar"):
        drawing = build(card, size="large", theme="light")
        root = _parse(render(card, fmt="svg", size="large", theme="light"))
    ends = sorted({round(t.end, 1) for t in drawing.texts})
    texts = [el for el in root.iter("{http://www.w3.org/2000/svg}text")]
    # member, wording, issuer, status word + date as one line, the call to action
    assert len(texts) == 5
    for el in texts:
        assert el.get("text-anchor") == "end"
        assert any(float(el.get("x")) == pytest.approx(end, abs=0.1) for end in ends)
    status = next(el for el in texts if len(el))
    word, tail = ("".join(span.itertext()) for span in status)
    assert word.startswith("\u2067") and tail.startswith("\u2002") and tail.endswith("\u2069")


def test_the_english_svg_starts_lines_at_the_left_edge_of_their_room():
    card = Card(state="suspended", issuer="Guild", programme="Baker", member="Ab")
    with translation.override("en"):
        drawing = build(card, size="medium", theme="light")
        root = _parse(render(card, fmt="svg", size="medium", theme="light"))
    starts = {round(t.x, 1) for t in drawing.texts if not t.joined}
    assert starts == {round(drawing.clip[0], 1), round(drawing.texts[-1].x, 1)}
    for el in root.iter("{http://www.w3.org/2000/svg}text"):
        assert el.get("text-anchor") is None and round(float(el.get("x")), 1) in starts


# --- the badge -------------------------------------------------------------------------------
STATES = ("active", "pending", "expired", "suspended", "revoked", "misuse", "not_found")
BADGE = Card(
    state="active",
    issuer="Guild of Master Bakers",
    programme="Master Baker",
    wording="Certified master baker",
    member="Boulangerie Dupont",
    checked=DAY,
    has_logo=True,
    accent="#8a4b08",
)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_every_text_is_at_least_9_px_and_4_5_to_1_against_what_it_is_drawn_on(size, theme):
    for lang in ("en", "ar"):
        with translation.override(lang):
            badges = [replace(BADGE, state=state) for state in STATES]
            badges += [replace(BADGE, state="misuse", site=site) for site in SITES]
            for badge in badges:
                state = badge.state
                drawing = build(badge, size=size, theme=theme)
                for t in drawing.texts:
                    assert t.size >= layout.MIN_TEXT_PX, (state, t)
                    # What the text sits on, read back from the drawing's own shapes.
                    band = drawing.shapes.band
                    inside = band[1] <= t.y <= band[1] + band[3]
                    ground = drawing.shapes.band_colour if inside else drawing.shapes.bg
                    assert t.on == ground, (state, t)
                    assert layout.contrast(t.colour, ground) >= 4.5, (state, theme, t)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_status_icon_on_the_white_disc_and_the_rosette_stand_out(theme):
    bg = layout._THEME[theme]["bg"]
    for state in STATES:
        shapes = build(
            replace(BADGE, state=state, has_logo=False), size="medium", theme=theme
        ).shapes
        assert layout.contrast(shapes.band_colour, layout.WHITE) >= 4.5, state
        assert layout.contrast(shapes.accent, bg) >= 3, state  # WCAG 1.4.11, graphics


@pytest.mark.parametrize("accent", ["#ffffff", "#fefefe", "#000000", "#1f6feb", "red", "#zzzzzz"])
def test_any_accent_is_drawn_with_at_least_3_to_1_against_the_card(accent):
    for theme in ("light", "dark"):
        bg = layout._THEME[theme]["bg"]
        shown = layout.accent_on(accent, bg)
        assert layout.contrast(shown, bg) >= 3, (accent, theme, shown)
    assert layout.accent_on("#8a4b08", "#ffffff") == "#8a4b08"  # a usable accent is kept


def test_the_programme_accent_and_wording_are_drawn():
    drawing = build(BADGE, size="medium", theme="light")
    assert drawing.shapes.accent == "#8a4b08"
    assert "Certified master baker" in [t.text for t in drawing.texts]
    svg = render(BADGE, fmt="svg", size="medium", theme="light").decode()
    assert 'fill="#8a4b08"' in svg and "Certified master baker" in svg
    # A blank wording falls back to the programme's name.
    plain = build(replace(BADGE, wording=""), size="medium", theme="light")
    assert "Master Baker" in [t.text for t in plain.texts]


@pytest.mark.parametrize("lang", ["en", "fr", "de", "es", "ar"])
@pytest.mark.parametrize("size", SIZES)
def test_every_size_says_click_to_verify_and_names_the_member(size, lang):
    with translation.override(lang):
        drawing = build(BADGE, size=size, theme="light")
        shown = [t.text for t in drawing.texts]
        assert layout.call_to_action() in shown
        assert lang == "en" or layout.call_to_action() != "Click to verify"
        assert shown[0].rstrip("…") and BADGE.member.startswith(shown[0].rstrip("…"))


def test_the_logo_is_large_at_every_size():
    for size, least in (("small", 20), ("medium", 30), ("large", 40)):
        assert build(BADGE, size=size, theme="light").logo_box[2] >= least


def _logo_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 150), "#8a4b08").save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("scale", [1, 2, 3])
@pytest.mark.parametrize("size", SIZES)
def test_png_scales_multiply_the_pixels_and_show_the_same_text(size, scale):
    body = render(BADGE, fmt="png", size=size, theme="light", scale=scale, logo_png=_logo_png())
    w, h = SIZES[size]
    assert Image.open(io.BytesIO(body)).size == (w * scale, h * scale)
    one = build(BADGE, size=size, theme="light")
    many = build(BADGE, size=size, theme="light", scale=scale)
    assert [t.text for t in many.texts] == [t.text for t in one.texts]
    assert many.texts[0].size == one.texts[0].size * scale


def test_the_svg_carries_its_font_as_a_data_url_subset():
    with translation.override("ar"):
        svg = render(
            replace(BADGE, member=SAMPLES["arabic"]), fmt="svg", size="medium", theme="light"
        )
    root = _parse(svg)
    style = "".join(
        root.find("{http://www.w3.org/2000/svg}defs/{http://www.w3.org/2000/svg}style").itertext()
    )
    faces = style.count("@font-face")
    assert faces >= 3  # Latin regular and bold (digits, gap), Arabic regular and bold
    assert "src:url(data:font/woff;base64," in style and "http" not in style
    assert len(svg) < 48 * 1024  # subsets, not whole faces (Noto Sans alone is 270 KB)
    group = root.find("{http://www.w3.org/2000/svg}g")
    assert group.get("font-family").startswith("ts0,ts1,ts2,ts3,")


def test_the_embedded_subset_holds_exactly_the_glyphs_drawn():
    from fontTools.ttLib import TTFont

    from seals.render import svg as svg_painter

    url = svg_painter._font_subset(0, True, "Dupont")
    font = TTFont(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert set(font.getBestCmap()) == {ord(c) for c in "Dupont"}
    # The face drawn plain in both formats: no layout tables to space glyphs differently.
    assert "GPOS" not in font and "GSUB" not in font


# --- the misuse card names the site ---------------------------------------------------------
def _drawn(card: Card, size: str) -> list[str]:
    return [t.text for t in build(card, size=size, theme="light").texts]


@pytest.mark.parametrize("size", ["medium", "large"])
def test_the_misuse_card_names_the_site_it_is_shown_on_in_its_svg(size):
    card = replace(BADGE, state="misuse", site="copycat.example")
    with translation.override("en"):
        assert "Not valid on copycat.example" in _drawn(card, size)
        root = _parse(render(card, fmt="svg", size=size, theme="light"))
    drawn = ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any("Not valid on copycat.example" in text for text in drawn)
    # It takes the issuer's row; the issuer is still in the accessible label.
    assert BADGE.issuer not in _drawn(card, size)
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and "Not valid on copycat.example" in (title.text or "")


def test_the_site_is_drawn_in_the_cards_language():
    card = replace(BADGE, state="misuse", site="copycat.example")
    for lang, phrase in (
        ("de", "Nicht gültig auf"),
        ("fr", "Non valable sur"),
        ("ar", "غير صالح على"),
    ):
        with translation.override(lang):
            assert f"{phrase} copycat.example" in _drawn(card, "large")


def test_a_long_site_is_cut_in_its_middle_keeping_its_end():
    site = "shop-" * 40 + "copycat.example"
    with translation.override("en"):
        line = next(
            t
            for t in _drawn(replace(BADGE, state="misuse", site=site), "medium")
            if t.startswith("Not valid on ")
        )
    host = line.removeprefix("Not valid on ")
    assert "…" in host and host.endswith("copycat.example") and host.startswith("shop")
    assert len(host) < len(site)


def test_the_small_card_has_no_room_for_the_site_and_leaves_it_out():
    card = replace(BADGE, state="misuse", site="copycat.example")
    with translation.override("en"):
        drawing = build(card, size="small", theme="light")
    assert not any("copycat" in t.text for t in drawing.texts)
    assert "Not valid on copycat.example" in drawing.label  # still said to screen readers


def test_only_the_misuse_card_names_a_site():
    with translation.override("en"):
        for state in ("active", "revoked", "not_found"):
            drawing = build(
                replace(BADGE, state=state, site="copycat.example"), size="large", theme="light"
            )
            assert not any("copycat" in t.text for t in drawing.texts)
            assert "copycat" not in drawing.label


def test_a_png_of_the_misuse_card_differs_per_site():
    one, other = (
        render(replace(BADGE, state="misuse", site=site), fmt="png", size="medium", theme="light")
        for site in ("copycat.example", "fake-shop.example")
    )
    assert one != other

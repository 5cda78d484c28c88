"""The seal images docs/public.md shows, rendered by the renderer itself.

``TRUSTSEAL_WRITE_DOCS_IMAGES=1`` writes them to docs/images/ (look at every one before
committing them: at each size, in English and in Arabic)."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from datetime import date
from pathlib import Path

from django.utils import translation
from PIL import Image, ImageDraw

from seals.render import SIZES, Card, render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "images"
DAY = date(2026, 11, 22)
CARDS = {
    "en": Card(
        state="active",
        issuer="Guild of Careful Bakers",
        programme="Accredited Member",
        wording="Accredited master baker",
        member="Boulangerie Dupont",
        checked=DAY,
        has_logo=True,
        accent="#8a4b08",
    ),
    "ar": Card(
        state="active",
        issuer="نقابة الخبازين",
        programme="عضو معتمد",
        wording="خباز معتمد",
        member="مخبز النخيل",
        checked=DAY,
        has_logo=True,
        accent="#8a4b08",
    ),
}
STATES = ("active", "pending", "expired", "suspended", "revoked", "misuse", "not_found")


def _logo() -> bytes:
    """A stand-in issuer logo: a wheat-coloured loaf on a brown round."""
    img = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((8, 8, 232, 232), fill="#8a4b08")
    draw.rounded_rectangle((52, 84, 188, 160), radius=34, fill="#f2c572")
    for x in (86, 120, 154):
        draw.line((x - 10, 100, x + 6, 144), fill="#8a4b08", width=7)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _png(card: Card, lang: str, size: str, theme: str = "light", scale: int = 1) -> Image.Image:
    with translation.override(lang):
        body = render(card, fmt="png", size=size, theme=theme, logo_png=_logo(), scale=scale)
    return Image.open(io.BytesIO(body))


def _sheet(images: list[Image.Image], columns: int, gap: int = 8) -> Image.Image:
    width = max(i.width for i in images)
    height = max(i.height for i in images)
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new(
        "RGB", (columns * (width + gap) + gap, rows * (height + gap) + gap), "#eef1f4"
    )
    for n, img in enumerate(images):
        sheet.paste(
            img.convert("RGB"),
            (gap + n % columns * (width + gap), gap + n // columns * (height + gap)),
        )
    return sheet


def test_the_docs_images_of_the_badge_at_every_size_in_english_and_arabic():
    pages: dict[str, Image.Image] = {}
    for lang, card in CARDS.items():
        for size, (w, h) in SIZES.items():
            one, two = _png(card, lang, size), _png(card, lang, size, scale=2)
            assert one.size == (w, h) and two.size == (2 * w, 2 * h)
            pages[f"seal-{size}-{lang}.png"] = one
            pages[f"seal-{size}-{lang}@2x.png"] = two
    states = [
        _png(replace(CARDS["en"], state=state), "en", "medium", theme, scale=2)
        for theme in ("light", "dark")
        for state in STATES
    ]
    pages["seal-states.png"] = _sheet(states, columns=len(STATES) // 2 + 1).quantize(64)
    # Each state is a picture of its own.
    assert len({img.tobytes() for img in states}) == len(states)
    # The misuse card naming the site, at every size, a short host and a long one (cut in its
    # middle at medium and large, left out at small), in English and Arabic.
    misuse = [
        _png(replace(CARDS[lang], state="misuse", site=site), lang, size, scale=2)
        for lang in CARDS
        for site in ("copycat.example", "very-long-copycat-shop-name.store.example")
        for size in SIZES
    ]
    pages["seal-misuse.png"] = _sheet(misuse, columns=len(SIZES)).quantize(64)
    if os.environ.get("TRUSTSEAL_WRITE_DOCS_IMAGES") == "1":
        DOCS.mkdir(exist_ok=True)
        for name, img in pages.items():
            img.save(DOCS / name, optimize=True)

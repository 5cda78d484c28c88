"""The one seal renderer: ``render(card, fmt=..., size=..., theme=...)`` → image bytes.

``layout`` decides everything (geometry, colours, icons, fitted text); ``svg`` and ``png``
paint it.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image

from seals.render.layout import (
    DESIGN_VERSION,
    MISUSE,
    NO_LONGER_VALID,
    NOT_FOUND,
    SCALES,
    SIZES,
    THEMES,
    Card,
    build,
    clean_text,
)
from seals.render.png import render_png
from seals.render.svg import render_svg

__all__ = [
    "DESIGN_VERSION",
    "FORMATS",
    "MISUSE",
    "NOT_FOUND",
    "NO_LONGER_VALID",
    "SCALES",
    "SIZES",
    "THEMES",
    "Card",
    "clean_text",
    "logo_thumbnail",
    "render",
]

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def render(
    card: Card,
    *,
    fmt: str,
    size: str,
    theme: str,
    logo_png: bytes | None = None,
    scale: int = 1,
) -> bytes:
    """The seal image. ``scale`` (1, 2 or 3) multiplies a PNG's pixels for high-density
    screens; an SVG is the same at every scale."""
    if fmt == "svg":
        drawing = build(card, size=size, theme=theme)
        if drawing.logo_box and logo_png:
            # Twice the drawn side: sharp on a 2x screen, and small enough to inline.
            logo_png = logo_thumbnail(logo_png, round(drawing.logo_box[2] * 2))
        return render_svg(drawing, logo_png)
    return render_png(build(card, size=size, theme=theme, scale=scale), logo_png)


@lru_cache(maxsize=256)
def logo_thumbnail(logo_png: bytes, side: int = 144) -> bytes:
    """The issuer logo shrunk to ``side`` pixels, as PNG (144: the large badge's logo at 3x)."""
    img = Image.open(io.BytesIO(logo_png)).convert("RGBA")
    img.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()

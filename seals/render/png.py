"""PNG painter for ``layout.Drawing`` with Pillow, palette-quantised to stay a few KB.

Cost (``bench/render.py``): FreeType glyph rasterisation (~1 ms per text line, Pillow caches
no glyphs), the supersampled background and its Lanczos downsampling, quantisation and
encoding. The background (card, rosette, disc, band and icons, which depend only on size,
scale, theme, state and accent) and every rendered text mask are kept in small per-process
LRUs, so a new seal pays for its own member name only; quantisation and encoding use the
faster settings measured to keep the same look and size.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

from PIL import Image, ImageColor, ImageDraw

from seals.render import fonts
from seals.render.layout import WHITE, Drawing, Shapes, icon_shapes, rosette

# Drawn at 2x and downsampled: Pillow's primitives (lines, circles) have no anti-aliasing.
_SS = 2


def _paint_icon(
    draw: ImageDraw.ImageDraw, icon: str, box: tuple[float, float, float], colour: str
) -> None:
    cx, cy, r = (v * _SS for v in box)
    for shape in icon_shapes(icon, cx, cy, r):
        kind = shape[0]
        if kind == "circle":
            _, x, y, rr, _filled, w = shape
            draw.ellipse((x - rr, y - rr, x + rr, y + rr), outline=colour, width=round(w))
        elif kind in ("line", "outline"):
            _, pts, w = shape
            pts = [*pts, pts[0]] if kind == "outline" else pts
            draw.line(pts, fill=colour, width=round(w), joint="curve")
            for px, py in pts[:: len(pts) - 1 or 1]:  # round caps
                draw.ellipse((px - w / 2, py - w / 2, px + w / 2, py + w / 2), fill=colour)
        elif kind == "poly":
            draw.polygon(shape[1], fill=colour)
        elif kind == "dot":
            _, x, y, rr = shape
            draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill=colour)


@lru_cache(maxsize=1024)
def _text_mask(text: str, face: int, size: float, bold: bool, start: tuple[float, float]):
    """What ``ImageDraw.text`` rasterises (the same ``getmask2`` call, so the same pixels),
    kept: status words, dates, issuer and wording repeat across thousands of seals."""
    font = fonts.font(face, size, bold)
    features = fonts.features_of(face)
    mask, offset = font.getmask2(text, "L", anchor="ls", start=start, features=features)
    return mask, offset, font.getlength(text, features=features)


def _paint_text(img: Image.Image, d: Drawing) -> None:
    draw = ImageDraw.Draw(img)
    for t in d.texts:
        ink = draw.draw.draw_ink(ImageColor.getcolor(t.colour, img.mode))
        x, y = t.x, t.y
        for run in fonts.visual_runs(t.text):
            # As ImageDraw.text does: integer origin plus the sub-pixel start of the glyphs.
            start = (math.modf(x)[0], math.modf(y)[0])
            mask, offset, advance = _text_mask(run.text, run.face, t.size, t.bold, start)
            draw.draw.draw_bitmap((int(x) + offset[0], int(y) + offset[1]), mask, ink)
            x += advance


@lru_cache(maxsize=256)
def _background(s: Shapes) -> Image.Image:
    """The card without logo and text."""
    w, h = s.width * _SS, s.height * _SS
    base = Image.new("RGB", (w, h), s.bg)
    draw = ImageDraw.Draw(base)
    draw.rounded_rectangle(
        (0, 0, w - 1, h - 1), radius=s.radius * _SS, fill=s.bg, outline=s.border, width=_SS
    )
    cx, cy, r = (v * _SS for v in s.emblem)
    draw.polygon(rosette(cx, cy, r), fill=s.accent)
    disc = s.disc * _SS
    draw.ellipse((cx - disc, cy - disc, cx + disc, cy + disc), fill=WHITE)
    if s.disc_icon:
        _paint_icon(draw, s.disc_icon, (s.emblem[0], s.emblem[1], s.disc * 0.62), s.band_colour)
    bx, by, bw, bh = (v * _SS for v in s.band)
    draw.rounded_rectangle((bx, by, bx + bw, by + bh), radius=s.radius * _SS, fill=s.band_colour)
    _paint_icon(draw, s.icon, s.icon_box, WHITE)
    return base.resize((s.width, s.height), Image.Resampling.LANCZOS)


def render_png(d: Drawing, logo_png: bytes | None = None) -> bytes:
    img = _background(d.shapes).copy()
    if d.logo_box and logo_png:
        x, y, side = d.logo_box
        logo = Image.open(io.BytesIO(logo_png)).convert("RGBA")
        logo.thumbnail((round(side), round(side)), Image.Resampling.LANCZOS)
        # Centred in its box: a wide logo is shorter than the box, not stretched.
        ox = round(x + (side - logo.width) / 2)
        oy = round(y + (side - logo.height) / 2)
        img.paste(logo, (ox, oy), logo)
    # Text at the final resolution with FreeType's own anti-aliasing (sharper than
    # downsampled text); layout has already cut every line to its room.
    _paint_text(img, d)
    out = io.BytesIO()
    # Fast octree picks as good a 64-colour palette for a flat card as median cut (checked by
    # eye and by pixel difference) in half the time; zlib level 6 instead of optimize=True
    # costs ~3 % in size and saves ~2 ms.
    img.quantize(colors=64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        out, "PNG", compress_level=6
    )
    return out.getvalue()

"""PNG painter for ``layout.Drawing`` with Pillow, palette-quantised to stay a few KB.

Cost (``bench/render.py``): a cold medium PNG was 11-12 ms, spent in FreeType glyph
rasterisation (~1 ms per text line, Pillow caches no glyphs), the 2x card background and its
Lanczos downsampling, median-cut quantisation and ``optimize=True`` encoding. Now the card
background (shapes and icon, which depend only on size, theme and state) and every rendered
text mask are kept in small per-process LRUs, so a new seal pays for its own member name only;
quantisation and encoding use the faster settings measured to keep the same look and size.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

from PIL import Image, ImageColor, ImageDraw

from seals.render import fonts
from seals.render.layout import Drawing, icon_shapes

# Drawn at 2x and downsampled: Pillow's primitives (lines, circles) have no anti-aliasing.
_SS = 2


def _paint_icon(draw: ImageDraw.ImageDraw, d: Drawing) -> None:
    cx, cy, r = (v * _SS for v in d.icon_box)
    for shape in icon_shapes(d.icon, cx, cy, r):
        kind = shape[0]
        if kind == "circle":
            _, x, y, rr, _filled, w = shape
            draw.ellipse((x - rr, y - rr, x + rr, y + rr), outline="#fff", width=round(w))
        elif kind in ("line", "outline"):
            _, pts, w = shape
            pts = [*pts, pts[0]] if kind == "outline" else pts
            draw.line(pts, fill="#fff", width=round(w), joint="curve")
            for px, py in pts[:: len(pts) - 1 or 1]:  # round caps
                draw.ellipse((px - w / 2, py - w / 2, px + w / 2, py + w / 2), fill="#fff")
        elif kind == "poly":
            draw.polygon(shape[1], fill="#fff")
        elif kind == "dot":
            _, x, y, rr = shape
            draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill="#fff")


@lru_cache(maxsize=1024)
def _text_mask(text: str, face: int, size: float, bold: bool, start: tuple[float, float]):
    """What ``ImageDraw.text`` rasterises (the same ``getmask2`` call, so the same pixels),
    kept: status words, dates, issuer and programme names repeat across thousands of seals."""
    font = fonts.font(face, size, bold)
    mask, offset = font.getmask2(text, "L", anchor="ls", start=start)
    return mask, offset, font.getlength(text)


def _paint_text(img: Image.Image, d: Drawing, dx: float, dy: float) -> None:
    draw = ImageDraw.Draw(img)
    for t in d.texts:
        ink = draw.draw.draw_ink(ImageColor.getcolor(t.colour, img.mode))
        x, y = t.x + dx, t.y + dy
        for run in fonts.visual_runs(t.text):
            # As ImageDraw.text does: integer origin plus the sub-pixel start of the glyphs.
            start = (math.modf(x)[0], math.modf(y)[0])
            mask, offset, advance = _text_mask(run.text, run.face, t.size, t.bold, start)
            draw.draw.draw_bitmap((int(x) + offset[0], int(y) + offset[1]), mask, ink)
            x += advance


@lru_cache(maxsize=128)
def _background(
    width: int,
    height: int,
    bg: str,
    border: str,
    strip: str,
    strip_width: float,
    icon: str,
    icon_box: tuple[float, float, float],
) -> Image.Image:
    """The card without logo and text: 3 sizes x 2 themes x 7 states at most."""
    d = Drawing(
        width=width,
        height=height,
        bg=bg,
        border=border,
        strip=strip,
        strip_width=strip_width,
        icon=icon,
        icon_box=icon_box,
        logo_box=None,
    )
    w, h = d.width * _SS, d.height * _SS
    base = Image.new("RGB", (w, h), d.bg)
    draw = ImageDraw.Draw(base)
    draw.rounded_rectangle(
        (0, 0, w - 1, h - 1), radius=4 * _SS, fill=d.bg, outline=d.border, width=_SS
    )
    draw.rounded_rectangle(
        (0, 0, d.strip_width * _SS, h - 1),
        radius=4 * _SS,
        fill=d.strip,
        corners=(True, False, False, True),
    )
    _paint_icon(draw, d)
    return base.resize((d.width, d.height), Image.Resampling.LANCZOS)


def render_png(d: Drawing, logo_png: bytes | None = None) -> bytes:
    img = _background(
        d.width, d.height, d.bg, d.border, d.strip, d.strip_width, d.icon, tuple(d.icon_box)
    ).copy()
    if d.logo_box and logo_png:
        x, y, side = d.logo_box
        logo = Image.open(io.BytesIO(logo_png)).convert("RGBA")
        logo.thumbnail((round(side), round(side)), Image.Resampling.LANCZOS)
        img.paste(logo, (round(x), round(y)), logo)
    # Text at 1x with FreeType's own anti-aliasing (sharper than downsampled text), drawn on
    # the text area alone so a glyph can never spill over the strip or the border.
    bx, by = round(d.clip[0]), 1
    area = img.crop((bx, by, round(d.clip[0] + d.clip[2]), d.height - 1))
    _paint_text(area, d, -bx, -by)
    img.paste(area, (bx, by))
    out = io.BytesIO()
    # Fast octree picks as good a 64-colour palette for a flat card as median cut (checked by
    # eye and by pixel difference) in half the time; zlib level 6 instead of optimize=True
    # costs ~3 % in size and saves ~2 ms.
    img.quantize(colors=64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        out, "PNG", compress_level=6
    )
    return out.getvalue()

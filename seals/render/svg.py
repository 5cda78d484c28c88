"""SVG painter for ``layout.Drawing``. Every text and attribute value goes through
``xml.sax.saxutils`` escaping; nothing from a record is ever markup."""

from __future__ import annotations

import base64
from xml.sax.saxutils import escape, quoteattr

from seals.render.fonts import is_rtl
from seals.render.layout import Drawing, icon_shapes

_FONT = "'Noto Sans','Segoe UI','Helvetica Neue',Arial,sans-serif"


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _pts(points) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def _icon(d: Drawing) -> list[str]:
    out = []
    for shape in icon_shapes(d.icon, *d.icon_box):
        kind = shape[0]
        if kind == "circle":
            _, cx, cy, r, _filled, w = shape
            out.append(
                f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="none" '
                f'stroke="#fff" stroke-width="{_n(w)}"/>'
            )
        elif kind == "line":
            _, pts, w = shape
            out.append(
                f'<polyline points="{_pts(pts)}" fill="none" stroke="#fff" '
                f'stroke-width="{_n(w)}" stroke-linecap="round" stroke-linejoin="round"/>'
            )
        elif kind == "outline":
            _, pts, w = shape
            out.append(
                f'<polygon points="{_pts(pts)}" fill="none" stroke="#fff" '
                f'stroke-width="{_n(w)}" stroke-linejoin="round"/>'
            )
        elif kind == "poly":
            out.append(f'<polygon points="{_pts(shape[1])}" fill="#fff"/>')
        elif kind == "dot":
            _, cx, cy, r = shape
            out.append(f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="#fff"/>')
    return out


def _isolated(text: str) -> str:
    """Right-to-left text wrapped in RIGHT-TO-LEFT ISOLATE … POP DIRECTIONAL ISOLATE, so the
    browser orders it as the PNG painter does (paragraph direction from its first strong
    character) while ``x`` stays its left end."""
    return f"\u2067{text}\u2069" if is_rtl(text) else text


def render_svg(d: Drawing, logo_png: bytes | None = None) -> bytes:
    w, h = d.width, d.height
    cx, cy, cw, ch = d.clip
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label={quoteattr(d.label)}>',
        f"<title>{escape(d.label)}</title>",
        f'<defs><clipPath id="t"><rect x="{_n(cx)}" y="{_n(cy)}" width="{_n(cw)}" '
        f'height="{_n(ch)}"/></clipPath></defs>',
        f'<rect x=".5" y=".5" width="{w - 1}" height="{h - 1}" rx="4" fill="{d.bg}" '
        f'stroke="{d.border}"/>',
        f'<path d="M4.5 .5H{_n(d.strip_width)}V{h - 0.5}H4.5A4 4 0 0 1 .5 {h - 4.5}V4.5A4 4 0 '
        f'0 1 4.5 .5Z" fill="{d.strip}"/>',
        *_icon(d),
    ]
    if d.logo_box and logo_png:
        x, y, side = d.logo_box
        data = base64.b64encode(logo_png).decode("ascii")
        parts.append(
            f'<image x="{_n(x)}" y="{_n(y)}" width="{_n(side)}" height="{_n(side)}" '
            f'href="data:image/png;base64,{data}"/>'
        )
    # Text is cut to width by layout; the clip keeps a wider fallback font inside the card.
    parts.append(f'<g clip-path="url(#t)" font-family="{_FONT}">')
    for t in d.texts:
        weight = ' font-weight="700"' if t.bold else ""
        parts.append(
            f'<text x="{_n(t.x)}" y="{_n(t.y)}" font-size="{_n(t.size)}" '
            f'fill="{t.colour}"{weight}>{escape(_isolated(t.text))}</text>'
        )
    parts.append("</g></svg>")
    return "".join(parts).encode("utf-8")

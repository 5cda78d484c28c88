"""SVG painter for ``layout.Drawing``. Every text and attribute value goes through
``xml.sax.saxutils`` escaping; nothing from a record is ever markup."""

from __future__ import annotations

import base64
from xml.sax.saxutils import escape, quoteattr

from seals.render.fonts import is_rtl
from seals.render.layout import GAP, Drawing, Text, icon_shapes

# The shipped faces first (a browser that has them draws what the PNG shows), then the
# platforms' own; a wider fallback cannot push a line out of place (see _line).
_FONT = (
    "'Noto Sans','Noto Sans Arabic','Noto Sans Hebrew','Noto Sans CJK SC','Segoe UI',"
    "'Helvetica Neue',Arial,sans-serif"
)


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


def _style(t: Text) -> str:
    weight = ' font-weight="700"' if t.bold else ""
    return f'font-size="{_n(t.size)}" fill="{t.colour}"{weight}'


def _lines(texts: list[Text]) -> list[list[Text]]:
    lines: list[list[Text]] = []
    for t in texts:
        if t.joined and lines:
            lines[-1].append(t)
        else:
            lines.append([t])
    return lines


def _line(line: list[Text], rtl: bool) -> str:
    """One ``<text>`` per line, its pieces as ``<tspan>``s separated by GAP, so the browser
    flows them with whatever font it has and they never overlap. A right-to-left drawing
    anchors the line at its right end (``text-anchor="end"``): a browser font wider or
    narrower than ours then moves the line's start, never its aligned end.

    Right-to-left content is wrapped in RIGHT-TO-LEFT ISOLATE … POP DIRECTIONAL ISOLATE, so
    the browser orders it as the PNG painter does (paragraph direction from its first strong
    character): the status word first from the right, then the date."""
    head = line[0]
    pieces = [(GAP if i else "") + t.text for i, t in enumerate(line)]
    if is_rtl("".join(pieces)):
        pieces[0], pieces[-1] = "\u2067" + pieces[0], pieces[-1] + "\u2069"
    if rtl:
        x, anchor = max(t.x + t.width for t in line), ' text-anchor="end"'
    else:
        x, anchor = head.x, ""
    position = f'x="{_n(x)}" y="{_n(head.y)}"{anchor}'
    if len(line) == 1:
        return f"<text {position} {_style(head)}>{escape(pieces[0])}</text>"
    spans = "".join(
        f"<tspan {_style(t)}>{escape(p)}</tspan>" for t, p in zip(line, pieces, strict=True)
    )
    return f"<text {position}>{spans}</text>"


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
    parts.extend(_line(line, d.rtl) for line in _lines(d.texts))
    parts.append("</g></svg>")
    return "".join(parts).encode("utf-8")

"""SVG painter for ``layout.Drawing``. Every text and attribute value goes through
``xml.sax.saxutils`` escaping; nothing from a record is ever markup.

The SVG carries its own font: for each shipped face a text uses, a subset holding only the
characters drawn, as WOFF in a ``data:`` URL ``@font-face``. A browser then draws the glyphs
the PNG shows, and the cuts ``layout`` made with those faces' metrics fit as measured (an
image loaded by ``<img>`` may fetch nothing, so the font cannot be a link).
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from fontTools import subset
from fontTools.ttLib import TTFont

from seals.render import fonts
from seals.render.layout import GAP, WHITE, Drawing, Text, icon_shapes, rosette

# The embedded faces first (ts0..ts3, in fonts' fallback order), then the platforms' own for
# a character no shipped face has.
_FAMILY = "ts0,ts1,ts2,ts3,'Noto Sans','Segoe UI','Helvetica Neue',Arial,sans-serif"


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _pts(points) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def _icon(icon: str, box: tuple[float, float, float], colour: str) -> list[str]:
    out = []
    for shape in icon_shapes(icon, *box):
        kind = shape[0]
        if kind == "circle":
            _, cx, cy, r, _filled, w = shape
            out.append(
                f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="none" '
                f'stroke="{colour}" stroke-width="{_n(w)}"/>'
            )
        elif kind == "line":
            _, pts, w = shape
            out.append(
                f'<polyline points="{_pts(pts)}" fill="none" stroke="{colour}" '
                f'stroke-width="{_n(w)}" stroke-linecap="round" stroke-linejoin="round"/>'
            )
        elif kind == "outline":
            _, pts, w = shape
            out.append(
                f'<polygon points="{_pts(pts)}" fill="none" stroke="{colour}" '
                f'stroke-width="{_n(w)}" stroke-linejoin="round"/>'
            )
        elif kind == "poly":
            out.append(f'<polygon points="{_pts(shape[1])}" fill="{colour}"/>')
        elif kind == "dot":
            _, cx, cy, r = shape
            out.append(f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{colour}"/>')
    return out


@lru_cache(maxsize=8)
def _master(face: int, bold: bool) -> bytes:
    """A shipped face as the SVG subsets start from: without layout tables for the faces the
    renderer draws plain (``fonts.PLAIN_FACES``), loaded once per process."""
    font = TTFont(str(fonts.FONT_DIR / fonts.face_file(face, bold)))
    if face in fonts.PLAIN_FACES:
        for tag in ("GPOS", "GSUB", "GDEF"):
            if tag in font:
                del font[tag]
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@lru_cache(maxsize=512)
def _font_subset(face: int, bold: bool, chars: str) -> str:
    """``chars`` of a shipped face as a WOFF data URL. Kept: status words, the call to action
    and dates repeat across seals. No hinting (browsers scale outlines)."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = [1, 2]
    font = TTFont(io.BytesIO(_master(face, bold)), lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(c) for c in chars})
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff"
    font.save(out)
    return "data:font/woff;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _font_faces(texts: list[Text]) -> str:
    used: dict[tuple[int, bool], set[str]] = {}
    for t in texts:
        for run in fonts.runs(t.text):
            if run.face < fonts.SHIPPED_FACES:
                used.setdefault((run.face, t.bold), set()).update(run.text)
        # The GAP before a joined text is drawn in the first family too.
        if t.joined:
            used.setdefault((0, t.bold), set()).add(GAP)
    rules = []
    for (face, bold), chars in sorted(used.items()):
        url = _font_subset(face, bold, "".join(sorted(chars)))
        rules.append(
            f"@font-face{{font-family:ts{face};font-weight:{700 if bold else 400};"
            f"src:url({url}) format('woff')}}"
        )
    return "".join(rules)


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
    flows them and they never overlap. A right-to-left drawing anchors the line at its right
    end (``text-anchor="end"``), where layout placed it.

    Right-to-left content is wrapped in RIGHT-TO-LEFT ISOLATE … POP DIRECTIONAL ISOLATE, so
    the browser orders it as the PNG painter does (paragraph direction from its first strong
    character): the status word first from the right, then the date."""
    head = line[0]
    pieces = [(GAP if i else "") + t.text for i, t in enumerate(line)]
    if fonts.is_rtl("".join(pieces)):
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
    s = d.shapes
    w, h = s.width, s.height
    cx, cy, cw, ch = d.clip
    ex, ey, er = s.emblem
    bx, by, bw, bh = s.band
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label={quoteattr(d.label)}>',
        f"<title>{escape(d.label)}</title>",
        f"<defs><style>{_font_faces(d.texts)}</style>"
        f'<clipPath id="t"><rect x="{_n(cx)}" y="{_n(cy)}" width="{_n(cw)}" '
        f'height="{_n(ch)}"/></clipPath></defs>',
        f'<rect x=".5" y=".5" width="{w - 1}" height="{h - 1}" rx="{_n(s.radius)}" '
        f'fill="{s.bg}" stroke="{s.border}"/>',
        f'<polygon points="{_pts(rosette(ex, ey, er))}" fill="{s.accent}"/>',
        f'<circle cx="{_n(ex)}" cy="{_n(ey)}" r="{_n(s.disc)}" fill="{WHITE}"/>',
    ]
    if s.disc_icon:
        parts.extend(_icon(s.disc_icon, (ex, ey, s.disc * 0.62), s.band_colour))
    parts.append(
        f'<rect x="{_n(bx)}" y="{_n(by)}" width="{_n(bw)}" height="{_n(bh)}" '
        f'rx="{_n(s.radius)}" fill="{s.band_colour}"/>'
    )
    parts.extend(_icon(s.icon, s.icon_box, WHITE))
    if d.logo_box and logo_png:
        x, y, side = d.logo_box
        data = base64.b64encode(logo_png).decode("ascii")
        parts.append(
            f'<image x="{_n(x)}" y="{_n(y)}" width="{_n(side)}" height="{_n(side)}" '
            f'href="data:image/png;base64,{data}"/>'
        )
    # Text is cut to width by layout; the clip keeps any fallback font inside the column.
    parts.append(f'<g clip-path="url(#t)" font-family="{_FAMILY}">')
    parts.extend(_line(line, d.rtl) for line in _lines(d.texts))
    parts.append("</g></svg>")
    return "".join(parts).encode("utf-8")

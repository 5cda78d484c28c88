"""Text on the certificate in any of its languages: shaped, ordered, one font per run.

ReportLab draws glyphs in the order it is given them and, on its own, does no shaping: its
``shaping=True`` needs ``uharfbuzz`` *and* ``rlbidi`` (ReportLab's bidi package, not on PyPI),
and without the latter it shapes Arabic as left-to-right, letters unjoined. So the strings are
prepared here instead, with two kept packages: ``arabic-reshaper`` picks each Arabic letter's
joined form (the presentation forms Noto Sans Arabic carries), ``python-bidi`` applies the
Unicode bidirectional algorithm (UAX #9) to give the visual order. The visual string is then cut
into runs of one face (``seals.render.fonts``, as the seal images choose faces) and drawn left
to right, each run in its face.

Vowel marks (harakat) are left out, as ``arabic-reshaper`` does by default: ReportLab does not
position marks (no GPOS), and Arabic prose is written and read without them.

PDF text extraction (``pdftotext``) reads the presentation forms back in logical order, so a
printed Arabic certificate can still be searched and copied.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import arabic_reshaper
from bidi import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from seals.render.fonts import FONT_DIR, runs

# The shipped faces ReportLab can embed, in ``seals.render.fonts`` order (Latin/Greek/Cyrillic,
# Hebrew, Arabic). The CJK face is CFF-flavoured OpenType, which ReportLab's TTFont refuses;
# its characters fall back to the Latin face (and draw as missing glyphs).
_FACES = {
    False: ("NotoSans-Regular.ttf", "NotoSansHebrew-Regular.ttf", "NotoSansArabic-Regular.ttf"),
    True: ("NotoSans-Bold.ttf", "NotoSansHebrew-Bold.ttf", "NotoSansArabic-Bold.ttf"),
}


@cache
def _font_names() -> dict[tuple[bool, int], str]:
    names = {}
    for bold, files in _FACES.items():
        for face, filename in enumerate(files):
            name = f"Trustseal-{face}{'-Bold' if bold else ''}"
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
            names[bold, face] = name
    return names


def font_name(bold: bool, face: int = 0) -> str:
    return _font_names().get((bold, face), _font_names()[bold, 0])


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def visual(text: str, *, rtl: bool) -> str:
    """``text`` (logical order) as drawn left to right. ``rtl`` is the paragraph direction:
    the language's, so a Latin name on an Arabic certificate still sits in Arabic order with
    the words around it."""
    if not rtl and not _has_rtl(text):
        return text
    return get_display(arabic_reshaper.reshape(text), base_dir="R" if rtl else "L")


@dataclass(frozen=True)
class Piece:
    text: str
    font: str


def pieces(text: str, *, bold: bool, rtl: bool) -> list[Piece]:
    """The runs to draw, left to right."""
    return [Piece(r.text, font_name(bold, r.face)) for r in runs(visual(text, rtl=rtl))]


def width(text: str, size: float, *, bold: bool, rtl: bool) -> float:
    return sum(
        pdfmetrics.stringWidth(p.text, p.font, size) for p in pieces(text, bold=bold, rtl=rtl)
    )


def fit(text: str, size: float, max_width: float, *, bold: bool, rtl: bool) -> str:
    """``text`` cut at the end of its logical order, with an ellipsis, to fit ``max_width``."""
    text = " ".join(text.split())
    if width(text, size, bold=bold, rtl=rtl) <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if width(text[:mid].rstrip() + "…", size, bold=bold, rtl=rtl) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def wrap(
    text: str, size: float, max_width: float, *, bold: bool, rtl: bool, max_lines: int = 99
) -> list[str]:
    """Lines in logical order, broken between words; each is ordered on its own when drawn
    (UAX #9 reorders per line, after line breaking). Past ``max_lines`` the last line ends
    with an ellipsis, so a cut never passes for the whole text."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and width(candidate, size, bold=bold, rtl=rtl) <= max_width:
            lines[-1] = candidate
        else:
            lines.append(word)
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :]) + " …"
        lines = [*lines[: max_lines - 1], fit(rest, size, max_width, bold=bold, rtl=rtl)]
    return [fit(line, size, max_width, bold=bold, rtl=rtl) for line in lines]


def draw(
    pdf: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    rtl: bool = False,
    align: str = "left",
) -> float:
    """Draw ``text`` with its baseline at ``y``; ``x`` is the left edge, the centre or the
    right edge for ``align`` left, centre or right. Returns the width drawn."""
    parts = pieces(text, bold=bold, rtl=rtl)
    total = sum(pdfmetrics.stringWidth(p.text, p.font, size) for p in parts)
    start = {"left": x, "centre": x - total / 2, "right": x - total}[align]
    for part in parts:
        pdf.setFont(part.font, size)
        pdf.drawString(start, y, part.text)
        start += pdfmetrics.stringWidth(part.text, part.font, size)
    return total

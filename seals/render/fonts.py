"""Shipped Noto faces, chosen per character, with cached font objects.

Pillow draws one face per call, so text is split into runs, each in the first face that has
its characters (Latin/Greek/Cyrillic, Hebrew, Arabic, CJK). Shaping and bidi inside a run are
libraqm's (Pillow's ``ImageFont.Layout.RAQM``) when available.
"""

from __future__ import annotations

import bisect
import json
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageFont, features

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
# Faces in fallback order; the CJK face has no bold, so bold CJK uses the regular one.
_FACES = {
    False: [
        "NotoSans-Regular.ttf",
        "NotoSansHebrew-Regular.ttf",
        "NotoSansArabic-Regular.ttf",
        "NotoSansCJKsc-Regular-subset.otf",
    ],
    True: [
        "NotoSans-Bold.ttf",
        "NotoSansHebrew-Bold.ttf",
        "NotoSansArabic-Bold.ttf",
        "NotoSansCJKsc-Regular-subset.otf",
    ],
}
# Ideographs outside the shipped subset use the full system face when the host has it.
_SYSTEM_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
HAS_RAQM = features.check("raqm")
LAYOUT = ImageFont.Layout.RAQM if HAS_RAQM else ImageFont.Layout.BASIC


@dataclass(frozen=True)
class Run:
    text: str
    face: int  # index into faces(bold)


@cache
def _coverage() -> list[tuple[list[int], list[int]]]:
    data = json.loads((FONT_DIR / "coverage.json").read_text())
    result = []
    for name in _FACES[False]:
        ranges = data[name]
        result.append(([r[0] for r in ranges], [r[1] for r in ranges]))
    return result


def _covers(face: int, cp: int) -> bool:
    starts, ends = _coverage()[face]
    i = bisect.bisect_right(starts, cp) - 1
    return i >= 0 and cp <= ends[i]


@lru_cache(maxsize=4096)
def face_for(ch: str) -> int:
    """First face covering ``ch``; -1 when none of the shipped faces has it."""
    cp = ord(ch)
    for face in range(len(_FACES[False])):
        if _covers(face, cp):
            return face
    return len(_FACES[False]) if _SYSTEM_CJK.exists() else 0


SHIPPED_FACES = len(_FACES[False])
# The faces drawn without their OpenType layout (Latin/Greek/Cyrillic and CJK): the SVG embeds
# them without GSUB/GPOS, whose decoding is most of the cost of a subset (~400 ms against
# ~30 ms without, measured with fontTools on Noto Sans), so the PNG leaves out kerning and
# ligatures too and both formats space every glyph alike. Hebrew and Arabic keep theirs:
# Arabic letters join through GSUB and marks sit through GPOS.
PLAIN_FACES = frozenset({0, 3})
_PLAIN = ["-kern", "-liga", "-clig", "-calt"]


def features_of(face: int) -> list[str] | None:
    """The OpenType features to switch off when drawing ``face`` (None: the face's own)."""
    return _PLAIN if HAS_RAQM and face in PLAIN_FACES else None


def face_file(face: int, bold: bool) -> str:
    """The file name of a shipped face (``face`` < SHIPPED_FACES)."""
    return _FACES[bold][face]


@lru_cache(maxsize=64)
def font(face: int, size: float, bold: bool) -> ImageFont.FreeTypeFont:
    if face >= len(_FACES[bold]):
        return ImageFont.truetype(str(_SYSTEM_CJK), size, index=2, layout_engine=LAYOUT)
    return ImageFont.truetype(str(FONT_DIR / _FACES[bold][face]), size, layout_engine=LAYOUT)


def _neutral(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "ZP" or cat in ("Nd", "Sm", "Sc", "Cf")


def runs(text: str) -> list[Run]:
    """Split ``text`` into runs of one face; spaces and punctuation stay with the run around
    them so an Arabic or Hebrew phrase is shaped and ordered as one piece."""
    result: list[Run] = []
    for ch in text:
        face = face_for(ch)
        if result and (face == result[-1].face or (_neutral(ch) and _has(result[-1].face, ch))):
            result[-1] = Run(result[-1].text + ch, result[-1].face)
        else:
            result.append(Run(ch, face))
    return result


def _has(face: int, ch: str) -> bool:
    return face >= len(_FACES[False]) or _covers(face, ord(ch))


def is_rtl(text: str) -> bool:
    """Paragraph direction from the first strong character (UAX #9, rules P2-P3)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def visual_runs(text: str) -> list[Run]:
    """Runs in drawing order. Within a run libraqm orders the characters; across runs an RTL
    paragraph reads right to left, so its runs are drawn in reverse. This is the whole of UAX
    #9 for the one- and two-script names seals carry; deeper nesting is approximated."""
    parts = runs(text)
    if not is_rtl(text) or len(parts) < 2:
        return parts
    # A left-to-right piece (digits, a Latin word) keeps the space after it in logical order;
    # drawn right to left, that space belongs on its left, between it and the next piece.
    moved = []
    for r in parts[::-1]:
        body = r.text.rstrip(" ")
        if body != r.text and not is_rtl(r.text):
            r = Run(r.text[len(body) :] + body, r.face)
        moved.append(r)
    return moved


def text_width(text: str, size: float, bold: bool) -> float:
    return sum(
        font(r.face, size, bold).getlength(r.text, features=features_of(r.face)) for r in runs(text)
    )


def ink_rows(text: str, size: float, bold: bool) -> tuple[float, float]:
    """Top and bottom of the glyphs' ink relative to the baseline (top is negative): how far a
    line really reaches up and down, for checking that lines never touch."""
    top = bottom = 0.0
    for r in runs(text):
        if r.text.strip():
            _, t, _, b = font(r.face, size, bold).getbbox(
                r.text, anchor="ls", features=features_of(r.face)
            )
            top, bottom = min(top, t), max(bottom, b)
    return top, bottom


def fit(text: str, size: float, bold: bool, max_width: float) -> str:
    """``text`` cut with an ellipsis so it fits ``max_width`` pixels (measured with the faces
    that will draw it, so SVG and PNG cut at the same character)."""
    text = " ".join(text.split())
    if text_width(text, size, bold) <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid].rstrip() + "…", size, bold) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def fit_middle(text: str, size: float, bold: bool, max_width: float, *, least: int = 8) -> str:
    """``text`` cut in the middle with an ellipsis so it fits ``max_width`` pixels, keeping
    more of its end than its start (a host name's end, ``….example``, says whose it is); ""
    when fewer than ``least`` of its characters would be left, which would name nothing."""
    if text_width(text, size, bold) <= max_width:
        return text

    def cut(kept: int) -> str:
        head = kept // 4  # three quarters from the end: the registrable name and its TLD
        return text[:head] + "…" + text[len(text) - (kept - head) :]

    lo, hi = 0, len(text) - 1
    while lo < hi:  # the most characters kept that fit with the ellipsis
        mid = (lo + hi + 1) // 2
        if text_width(cut(mid), size, bold) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return cut(lo) if lo >= least else ""

"""Rebuild the shipped fonts from Debian's Noto packages (fonts-noto-core, fonts-noto-cjk).

Run by hand: ``python seals/fonts/subset.py`` (needs fontTools; ``--cjk`` rebuilds only the
CJK face and coverage.json, so fonts-noto-core is not needed for that). Full Noto CJK is
~20 MB per weight, so the CJK face is a subset (~7 MB), wide enough that no CJK name shows a
missing-glyph box (a name drawn as boxes makes a genuine seal look forged):

- every character of the national standard sets — GB 2312, JIS X 0208, KS X 1001 — and of
  Big5 with HKSCS-2008 (Hong Kong: 滙, Cantonese 佢哋嘅, and the Extension A/B ideographs
  HKSCS maps);
- the whole CJK Unified Ideographs block (U+4E00-U+9FFF: 髙 and every other unified
  ideograph, not only the national sets' ~7k), all 11,172 precomposed Hangul syllables
  (KS X 1001 has only 2,350, so 똠 was missing) and the Hangul jamo;
- enclosed CJK letters and months (U+3200-U+32FF: ㈱), CJK compatibility forms and
  ideographs, kana, CJK punctuation and full-width forms.

Characters outside the subset fall back to a system Noto CJK when one is installed. The Latin
face keeps Latin, Greek and Cyrillic only. Licence: SIL Open Font License 1.1 (OFL.txt).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fontTools import subset

CORE = Path("/usr/share/fonts/truetype/noto")
CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
OUT = Path(__file__).resolve().parent


def _charset(encoding: str, first: range, second: list[int]) -> set[str]:
    chars: set[str] = set()
    for a in first:
        for b in second:
            try:
                chars.update(bytes([a, b]).decode(encoding))
            except UnicodeDecodeError:
                continue
    return chars


def cjk_characters() -> set[str]:
    high = list(range(0xA1, 0xFF))
    chars = _charset("gb2312", range(0xA1, 0xF8), high)
    chars |= _charset("euc_jp", range(0xA1, 0xFF), high)
    chars |= _charset("euc_kr", range(0xA1, 0xFF), high)
    # Big5-HKSCS: lead bytes 0x87-0xFE, trail bytes 0x40-0x7E and 0xA1-0xFE.
    chars |= _charset("big5hkscs", range(0x87, 0xFF), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])
    for start, end in (
        (0x1100, 0x11FF),  # Hangul jamo
        (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
        (0x3000, 0x30FF),  # CJK punctuation, hiragana, katakana
        (0x3100, 0x312F),  # bopomofo
        (0x3130, 0x318F),  # Hangul compatibility jamo
        (0x31F0, 0x31FF),  # katakana phonetic extensions
        (0x3200, 0x32FF),  # enclosed CJK letters and months (㈱)
        (0x3300, 0x33FF),  # CJK compatibility (㍿)
        (0x4E00, 0x9FFF),  # CJK Unified Ideographs, the whole block
        (0xAC00, 0xD7A3),  # every precomposed Hangul syllable
        (0xF900, 0xFAFF),  # CJK compatibility ideographs
        (0xFE30, 0xFE4F),  # CJK compatibility forms
        (0xFF00, 0xFFEF),  # half/full-width forms
    ):
        chars.update(chr(c) for c in range(start, end + 1))
    return chars


# The seal draws horizontal text with the face's own (Simplified Chinese) forms: the vertical
# alternates and the other regions' ``locl`` forms are never reached, and dropping them takes
# the CJK face from 11.6 MB to 7.2 MB with pixel-identical output (checked with Pillow+raqm).
_CJK_UNUSED_FEATURES = {"locl", "valt", "vchw", "vert", "vhal", "vjmo", "vkrn", "vpal", "vrt2"}


def _subset(src: Path, dst: Path, unicodes: set[int] | None, font_number: int = 0) -> None:
    options = subset.Options()
    options.font_number = font_number
    if font_number:
        options.layout_features = [
            f for f in options.layout_features if f not in _CJK_UNUSED_FEATURES
        ]
    else:
        options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    # CJK hints cost ~1 MB and matter little at these sizes; Latin loses even spacing without.
    options.hinting = font_number == 0
    font = subset.load_font(str(src), options)
    subsetter = subset.Subsetter(options)
    if unicodes is None:
        unicodes = set(font.getBestCmap())
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    subset.save_font(font, str(dst), options)


def write_coverage() -> None:
    """coverage.json: each shipped face's code points as [first, last] ranges, so the renderer
    picks a face per character without needing fontTools at run time."""
    from fontTools.ttLib import TTFont

    coverage = {}
    for path in sorted(OUT.glob("*.[ot]tf")):
        points = sorted(TTFont(str(path), lazy=True).getBestCmap())
        ranges: list[list[int]] = []
        for cp in points:
            if ranges and cp == ranges[-1][1] + 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
        coverage[path.name] = ranges
    (OUT / "coverage.json").write_text(json.dumps(coverage, separators=(",", ":")) + "\n")


def main(argv: list[str]) -> None:
    if "--cjk" not in argv:
        latin = set(range(0x20, 0x250)) | set(range(0x370, 0x530)) | set(range(0x1E00, 0x2070))
        latin |= set(range(0x2070, 0x2200))  # super/subscripts, currency, letterlike, arrows
        for weight in ("Regular", "Bold"):
            _subset(CORE / f"NotoSans-{weight}.ttf", OUT / f"NotoSans-{weight}.ttf", latin)
            for script in ("Hebrew", "Arabic"):
                name = f"NotoSans{script}-{weight}.ttf"
                _subset(CORE / name, OUT / name, None)
    _subset(CJK, OUT / "NotoSansCJKsc-Regular-subset.otf", {ord(c) for c in cjk_characters()}, 2)
    write_coverage()


if __name__ == "__main__":
    main(sys.argv[1:])

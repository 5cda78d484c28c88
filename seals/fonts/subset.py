"""Rebuild the shipped fonts from Debian's Noto packages (fonts-noto-core, fonts-noto-cjk).

Run by hand: ``python seals/fonts/subset.py`` (needs fontTools). Full Noto CJK is ~20 MB per
weight, so the CJK face is subset to the characters of the national standard sets — GB 2312,
JIS X 0208 and KS X 1001 (their 2,350 Hangul syllables included) plus kana, CJK punctuation
and full-width forms: ~14k characters that cover names in everyday Chinese, Japanese and Korean
in ~5 MB. Characters outside the subset fall back to a system Noto CJK when one is installed.
The Latin face keeps Latin, Greek and Cyrillic only. Licence: SIL Open Font License 1.1 (OFL.txt).
"""

from __future__ import annotations

import json
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
    for start, end in (
        (0x3000, 0x30FF),  # CJK punctuation, hiragana, katakana
        (0x3130, 0x318F),  # Hangul compatibility jamo
        (0xFF00, 0xFFEF),  # half/full-width forms
    ):
        chars.update(chr(c) for c in range(start, end + 1))
    return chars


def _subset(src: Path, dst: Path, unicodes: set[int] | None, font_number: int = 0) -> None:
    options = subset.Options()
    options.font_number = font_number
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


def main() -> None:
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
    main()

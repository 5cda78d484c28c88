"""Write the hostile-input corpus next to this script (run it again to regenerate).

    .venv/bin/python tests/data/hostile/make_corpus.py

Every file is small: the decompression bombs are tiny PNGs whose header declares a huge image
or whose text chunk inflates far beyond its size on disk. tests/security/test_hostile_inputs.py
sends each file where it could do harm (logo upload, bulk import) and each string into every
field that reaches a public page.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _png(width: int, height: int, idat: bytes, *extra: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + b"".join(extra)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _saved(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def logos() -> dict[str, bytes]:
    small = Image.new("RGB", (64, 32), (31, 111, 235))
    png = _saved(small, "PNG")
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "blue", "green")]
    return {
        # 60000 x 60000 declared, a few hundred bytes on disk: 3.6 gigapixels if decoded.
        "bomb-dimensions.png": _png(60000, 60000, zlib.compress(b"\x00" * 60001 * 4, 9)),
        # Within the side limit but 16 million pixels of zeros, compressed to a few KB.
        "bomb-pixels.png": _png(4096, 4096, zlib.compress(b"\x00" * 4097 * 4096, 9)),
        # A compressed text chunk that inflates to 16 MB.
        "bomb-text-chunk.png": _png(
            1,
            1,
            zlib.compress(b"\x00\x00", 9),
            _chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * (16 << 20), 9)),
        ),
        "truncated.png": png[: len(png) // 2],
        "truncated.jpg": _saved(small, "JPEG")[:300],
        "polyglot-html.png": png + b"<html><script>alert(document.domain)</script></html>",
        "polyglot-text-chunk.png": _png(
            1, 1, zlib.compress(b"\x00\x00"), _chunk(b"tEXt", b"Comment\x00<script>x()</script>")
        ),
        "script.svg": (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
            b"<script>alert(2)</script><image href='https://evil.example/x.png'/></svg>"
        ),
        "svg-without-prolog.png": b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
        "animated.gif": _saved(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        "animated.png": _saved(frames[0], "PNG", save_all=True, append_images=frames[1:]),
        "cmyk.jpg": _saved(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG"),
        "one-pixel.png": _saved(Image.new("RGBA", (1, 1), (0, 0, 0, 0)), "PNG"),
        "huge-exif.jpg": _saved(small, "JPEG", exif=b"Exif\x00\x00" + b"\x00" * 60000),
        "empty.png": b"",
        "not-an-image.png": b"MZ\x90\x00 this is an executable, not a picture",
    }


def csv_files() -> dict[str, bytes]:
    header = b"external_ref,legal_name,domains\r\n"
    return {
        "invalid-utf8.csv": header + b"M-1,Caf\xe9 \xff\xfe Ltd,cafe.example\r\n",
        "nul-bytes.csv": header + b"M-2,Nul\x00 Ltd,nul.example\r\n",
        "formula-injection.csv": header
        + b'M-3,"=HYPERLINK(""https://evil.example"")",x.example\r\n',
        "unbalanced-quote.csv": header + b'M-4,"never closed,x.example\r\n',
        "binary.csv": bytes(range(256)) * 4,
        "bom-only.csv": b"\xef\xbb\xbf",
        "header-only.csv": header,
        # Valid UTF-8, but characters no name may hold: C0 controls and the noncharacter U+FFFE.
        "control-characters.csv": header
        + b"M-5,Start\x01Of Heading Ltd,soh.example\r\n"
        + b"M-6,Vertical\x0bTab Ltd,vt.example\r\n"
        + b"M-7,Unit\x1fSeparator Ltd,us.example\r\n"
        + b"M-8,Non\xef\xbf\xbeCharacter Ltd,fffe.example\r\n",
        # A UTF-16 surrogate encoded as if it were a character (CESU-8): not UTF-8 at all.
        "surrogate-utf8.csv": header + b"M-9,Lone\xed\xa0\x80Surrogate Ltd,sur.example\r\n",
    }


def strings() -> dict[str, str]:
    return {
        "ten-thousand": "A" * 10_000,
        "rtl-override": "Trusted \u202eredis\u202c Ltd",
        "zero-width-joiners": "Pay\u200dPal\u200b \u200c\ufeffLtd",
        "combining-marks": "Z" + "\u0335\u0321\u0322\u0327\u0328\u0334" * 40 + " Ltd",
        "emoji": "\U0001f600 \U0001f469\u200d\U0001f469\u200d\U0001f467 Ltd "
        "\U0001f3f3\ufe0f\u200d\U0001f308",
        "html": '<b onmouseover="alert(1)">Bold</b><img src=x onerror=alert(2)>',
        "script": "</title><script>alert(document.cookie)</script>",
        "svg": '<svg/onload=alert(1)><foreignObject><iframe src="javascript:alert(2)">',
        "attribute-break": '" onload="alert(1)" x="\'><!--',
        "javascript-url": "javascript:alert(1)//",
        "template": "{{ settings.SECRET_KEY }}{% debug %}${7*7}",
        "nul": "Nul\x00Byte Ltd",
        "crlf": "Line\r\nSet-Cookie: x=1",
        "sql": "'; DROP TABLE issuers_member; --",
        "arabic": "\u0634\u0631\u0643\u0629 \u0627\u0644\u0645\u062b\u0627\u0644",
        "lone-surrogate-escape": "\\ud800",
        # Each of these must be refused (400): no name holds a control character, a
        # noncharacter or half a UTF-16 pair. The surrogate arrives as JSON's "\ud800".
        "c0-start-of-heading": "Start\x01Of Heading Ltd",
        "c0-vertical-tab": "Vertical\x0bTab Ltd",
        "c0-unit-separator": "Unit\x1fSeparator Ltd",
        "noncharacter-fffe": "Non\ufffeCharacter Ltd",
        "noncharacter-ffff": "Non\uffffCharacter Ltd",
        "lone-surrogate": "Lone\ud800Surrogate Ltd",
    }


def main() -> None:
    logo_dir, csv_dir = HERE / "logos", HERE / "csv"
    logo_dir.mkdir(exist_ok=True)
    csv_dir.mkdir(exist_ok=True)
    for name, data in logos().items():
        (logo_dir / name).write_bytes(data)
    for name, data in csv_files().items():
        (csv_dir / name).write_bytes(data)
    (HERE / "strings.json").write_text(json.dumps(strings(), indent=1, ensure_ascii=True) + "\n")
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"corpus written to {HERE}: {total} bytes")


if __name__ == "__main__":
    main()

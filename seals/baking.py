"""Baked badges (OB 3.0 §5.3): the seal's image carrying its signed credential.

PNG (§5.3.1): an ``iTXt`` chunk with the keyword ``openbadgecredential``, uncompressed, no
language tag, whose text is the compact JWS, placed before ``IEND``. SVG (§5.3.2): an
``<openbadges:credential verify="<JWS>">`` element, the first child of the root ``svg``, with
the namespace ``https://purl.imsglobal.org/ob/v3p0``. Only the badge routes bake; the seal
image on the hot path carries no credential and stays as small as it is.
"""

from __future__ import annotations

import re
import struct
import zlib

from django.utils.html import escape

KEYWORD = b"openbadgecredential"
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SVG_ROOT = re.compile(rb"<svg\b[^>]*>")
_SVG_CREDENTIAL = re.compile(rb"<openbadges:credential\b[^>]*\bverify=\"([^\"]*)\"")


class BakingError(ValueError):
    """Not a PNG or SVG this module can bake or read."""


def _chunks(png: bytes):
    if not png.startswith(_PNG_SIGNATURE):
        raise BakingError("Not a PNG (bad signature).")
    offset = len(_PNG_SIGNATURE)
    while offset + 8 <= len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        yield offset, kind, data, offset + 12 + length
        offset += 12 + length


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def bake_png(png: bytes, credential: str) -> bytes:
    """``png`` with an ``iTXt openbadgecredential`` chunk holding ``credential``, before IEND
    (an existing one is replaced: a badge carries one credential)."""
    # iTXt: keyword NUL, compression flag 0, method 0, language tag NUL, translated NUL, text.
    itxt = _chunk(b"iTXt", KEYWORD + b"\0\0\0\0\0" + credential.encode("utf-8"))
    kept = []
    for start, kind, data, end in _chunks(png):
        if kind == b"iTXt" and data.startswith(KEYWORD + b"\0"):
            continue
        if kind == b"IEND":
            kept.append(itxt)
        kept.append(png[start:end])
    return _PNG_SIGNATURE + b"".join(kept)


def extract_png(png: bytes) -> str | None:
    """The credential baked into ``png``, or None."""
    for _start, kind, data, _end in _chunks(png):
        if kind == b"iTXt" and data.startswith(KEYWORD + b"\0"):
            rest = data[len(KEYWORD) + 1 :]
            compressed, text = rest[0], rest[2:].split(b"\0", 2)[2]
            return (zlib.decompress(text) if compressed else text).decode("utf-8")
    return None


def bake_svg(svg: bytes, credential: str) -> bytes:
    """``svg`` with ``<openbadges:credential verify="…">`` as the root's first child."""
    root = _SVG_ROOT.search(svg)
    if root is None:
        raise BakingError("Not an SVG (no <svg> element).")
    tag = root.group(0)
    if b"xmlns:openbadges=" not in tag:
        tag = tag[:-1].rstrip(b"/") + f' xmlns:openbadges="{OB3_NAMESPACE}">'.encode()
    element = f'<openbadges:credential verify="{escape(credential)}"></openbadges:credential>'
    return svg[: root.start()] + tag + element.encode() + svg[root.end() :]


def extract_svg(svg: bytes) -> str | None:
    """The credential in the ``verify`` attribute of ``<openbadges:credential>``, or None."""
    match = _SVG_CREDENTIAL.search(svg)
    return match.group(1).decode("utf-8") if match else None

"""W3C Bitstring Status List: the encoded list and one bit of it."""

from __future__ import annotations

import base64
import gzip


class StatusListError(ValueError):
    pass


def decode(encoded: str) -> bytes:
    """``encodedList``: multibase ``u`` + base64url without padding of the GZIP'd bits."""
    if not encoded.startswith("u"):
        raise StatusListError("encodedList is not multibase base64url ('u' prefix)")
    body = encoded[1:]
    try:
        return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, OSError, EOFError) as exc:
        raise StatusListError(f"encodedList is not GZIP + base64url: {exc}") from exc


def bit(bits: bytes, index: int) -> bool:
    """Bit ``index``: bit 0 is the left-most, most significant bit of the first byte."""
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"index {index} is outside a list of {len(bits) * 8} entries")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))

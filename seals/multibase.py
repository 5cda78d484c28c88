"""Multibase base58btc (the ``z`` prefix), as Multikey and Data Integrity proofs write it."""

from __future__ import annotations

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
# Multicodec prefix of an Ed25519 public key (0xed, varint-encoded) in publicKeyMultibase.
ED25519_PUB = b"\xed\x01"


class MultibaseError(ValueError):
    """Not a base58btc multibase string."""


def encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, rest = divmod(number, 58)
        digits = _ALPHABET[rest] + digits
    # Leading zero bytes have no weight in the number; base58 keeps each as a "1".
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "z" + "1" * zeros + digits


def decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise MultibaseError("Not base58btc multibase (no 'z' prefix).")
    body = text[1:]
    number = 0
    for char in body:
        if char not in _VALUE:
            raise MultibaseError(f"{char!r} is not a base58btc character.")
        number = number * 58 + _VALUE[char]
    zeros = len(body) - len(body.lstrip("1"))
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + raw

"""C2SP signed notes (Ed25519) and tlog-checkpoint bodies, from the specifications alone.

- verifier key: ``<name>+<key ID: 8 hex digits>+<base64(0x01 || 32-byte Ed25519 key)>``, the key
  ID being ``SHA-256(name || 0x0A || 0x01 || key)[:4]`` (signed-note, "Ed25519 signatures");
- a note: its text (ending in a newline), a blank line, then one ``— <name> <base64(key ID ||
  signature)>`` line per signature; the signature covers the text with its final newline.
  Signatures by keys one does not know are skipped (witness cosignatures, other keys);
- a checkpoint's text: origin, decimal tree size, base64 root hash, then optional extension
  lines (tlog-checkpoint).

A cosignature (C2SP tlog-cosignature, ``cosignature/v1``) is a timestamped Ed25519 signature
by a witness over ``cosignature/v1\\ntime <t>\\n`` followed by the checkpoint text; its key ID
uses the type byte 0x04.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519, COSIGNATURE_V1 = 0x01, 0x04
PREFIX = "\u2014 "  # em dash, space
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A key, note or checkpoint that does not parse or does not verify."""


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes
    text: str


def parse_verifier_key(text: str) -> VerifierKey:
    text = text.strip()
    name, _, rest = text.partition("+")
    hex_id, _, encoded = rest.partition("+")
    try:
        raw = base64.b64decode(encoded, validate=True)
        declared = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("a verifier key is <name>+<hex key ID>+<base64 key>") from exc
    if not _NAME.fullmatch(name) or len(raw) != 33 or raw[0] != ED25519 or len(hex_id) != 8:
        raise NoteError("not an Ed25519 signed-note verifier key")
    if key_id(name, ED25519, raw[1:]) != declared:
        raise NoteError("the verifier key's ID does not match its name and key")
    return VerifierKey(name, declared, raw[1:], text)


def _split(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    text, sep, block = note.rpartition("\n\n")
    if not sep or not block.endswith("\n"):
        raise NoteError("not a signed note: no blank line before its signatures")
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(PREFIX):
            raise NoteError(f"malformed signature line {line[:60]!r}")
        name, _, encoded = line[len(PREFIX) :].partition(" ")
        try:
            signatures.append((name, base64.b64decode(encoded, validate=True)))
        except binascii.Error as exc:
            raise NoteError("a signature is not base64") from exc
    return text + "\n", signatures


def open_note(note: str, key: VerifierKey) -> str:
    """The note's text if ``key`` signed it; ``NoteError`` otherwise."""
    text, signatures = _split(note)
    verified = False
    for name, raw in signatures:
        if name != key.name or raw[:4] != key.key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(raw[4:], text.encode())
        except InvalidSignature as exc:
            raise NoteError("the log key's signature on the checkpoint does not verify") from exc
        verified = True
    if not verified:
        raise NoteError("the checkpoint carries no signature by the log key")
    return text


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
        raise NoteError("a checkpoint is at least three non-empty lines")
    origin, size, root = lines[:3]
    if not _SIZE.fullmatch(size):
        raise NoteError("the tree size is not a decimal number")
    try:
        digest = base64.b64decode(root, validate=True)
    except binascii.Error as exc:
        raise NoteError("the root hash is not base64") from exc
    if len(digest) != 32:
        raise NoteError("the root hash is not 32 bytes")
    return Checkpoint(origin, int(size), digest)


def open_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """The checkpoint ``note`` holds, verified with ``key``; its origin must be the key's name
    (tlog-checkpoint: the log's key is named after its origin)."""
    checkpoint = parse_checkpoint(open_note(note, key))
    if checkpoint.origin != key.name:
        raise NoteError(f"the checkpoint's origin {checkpoint.origin!r} is not the log key's name")
    return checkpoint


# --- cosignatures (C2SP tlog-cosignature) -----------------------------------------------------
def witness_verifier_key(name: str, private_key: Ed25519PrivateKey) -> str:
    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    hex_id = key_id(name, COSIGNATURE_V1, public).hex()
    return f"{name}+{hex_id}+{base64.b64encode(bytes([COSIGNATURE_V1]) + public).decode()}"


def cosign(note: str, *, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """``note`` with a ``cosignature/v1`` line added by the witness ``name``: the signature is
    over ``cosignature/v1\\ntime <timestamp>\\n`` + the checkpoint text, and the line carries
    key ID || 8-byte big-endian timestamp || signature."""
    if not _NAME.fullmatch(name):
        raise NoteError(f"{name!r} is not a valid key name")
    text, _ = _split(note)
    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    raw = key_id(name, COSIGNATURE_V1, public) + timestamp.to_bytes(8, "big")
    raw += private_key.sign(message)
    return f"{note}{PREFIX}{name} {base64.b64encode(raw).decode()}\n"


def cosignature_verifies(note: str, witness_key: str) -> bool:
    """Whether ``note`` carries a valid ``cosignature/v1`` by the witness ``witness_key``
    (``<name>+<key ID>+<base64(0x04 || key)>``)."""
    name, _, rest = witness_key.strip().partition("+")
    hex_id, _, encoded = rest.partition("+")
    try:
        raw_key = base64.b64decode(encoded, validate=True)
        declared = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        return False
    if len(raw_key) != 33 or raw_key[0] != COSIGNATURE_V1:
        return False
    if key_id(name, COSIGNATURE_V1, raw_key[1:]) != declared:
        return False
    text, signatures = _split(note)
    for signer, raw in signatures:
        if signer != name or raw[:4] != declared or len(raw) != 4 + 8 + 64:
            continue
        timestamp = int.from_bytes(raw[4:12], "big")
        message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
        try:
            Ed25519PublicKey.from_public_bytes(raw_key[1:]).verify(raw[12:], message)
        except InvalidSignature:
            return False
        return True
    return False

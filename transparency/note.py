"""C2SP signed notes with Ed25519 signatures, and the tlog-checkpoint body they carry.

Pure functions over ``cryptography``'s Ed25519, no Django:

- key ID = ``SHA-256(name || 0x0A || 0x01 || public key)[:4]`` (signed-note, "Ed25519
  signatures"); the verifier key is ``<name>+<key ID, 8 hex digits>+<base64(0x01 || key)>``, the
  form Go's ``golang.org/x/mod/sumdb/note`` and the witness network read;
- a note is its text (ending in a newline), a blank line, then ``— <name> <base64(key ID ||
  signature)>`` lines; the signature covers the text with its final newline;
- a checkpoint's text is the origin, the tree size in decimal and the base64 root hash, one a
  line (tlog-checkpoint).
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

ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
# Key names: non-empty, no Unicode space and no "+" (signed-note, "Format").
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, checkpoint or verifier key that does not parse or does not verify."""


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_key(name: str, public_key: bytes) -> str:
    if not _NAME.fullmatch(name):
        raise NoteError(f"{name!r} is not a valid key name")
    encoded = base64.b64encode(ED25519 + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: bytes


def parse_verifier_key(text: str) -> Verifier:
    name, _, rest = text.strip().partition("+")
    hash_hex, _, encoded = rest.partition("+")
    try:
        raw = base64.b64decode(encoded, validate=True)
        declared = bytes.fromhex(hash_hex)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("verifier key is not <name>+<hex key ID>+<base64 key>") from exc
    if not _NAME.fullmatch(name) or len(raw) != 33 or raw[:1] != ED25519:
        raise NoteError("verifier key is not an Ed25519 signed-note key")
    if key_id(name, raw[1:]) != declared or len(hash_hex) != 8:
        raise NoteError("verifier key's ID does not match its name and key")
    return Verifier(name, declared, raw[1:])


def sign(text: str, *, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note of ``text`` (which must end in a newline) by one key."""
    if not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text must end in a newline and hold no control characters")
    if not _NAME.fullmatch(name):
        raise NoteError(f"{name!r} is not a valid key name")
    public = public_bytes(private_key.public_key())
    signature = key_id(name, public) + private_key.sign(text.encode())
    return f"{text}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The text of ``note`` if ``verifier``'s key signed it; ``NoteError`` otherwise.

    Signatures by other keys are ignored, as the spec requires (a witness's cosignature, a
    rotated key), but one that claims this key's name and ID must verify."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("not a signed note: no blank line before the signatures")
    text += "\n"
    verified = False
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError("signature is not base64") from exc
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(raw[4:], text.encode())
        except InvalidSignature as exc:
            raise NoteError("the log key's signature does not verify") from exc
        verified = True
    if not verified:
        raise NoteError("no signature by the log key")
    return text


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
        raise NoteError("a checkpoint is at least three non-empty lines")
    origin, size, root = lines[:3]
    if not _SIZE.fullmatch(size):
        raise NoteError("tree size is not a decimal number without leading zeroes")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except binascii.Error as exc:
        raise NoteError("root hash is not base64") from exc
    if len(root_hash) != 32:
        raise NoteError("root hash is not 32 bytes")
    return Checkpoint(origin, int(size), root_hash)

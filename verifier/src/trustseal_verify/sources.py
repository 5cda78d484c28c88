"""What the command was given: a verification URL, a credential JWT, a baked badge (PNG or
SVG, OB 3.0 §5.3) or a verification bundle."""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
# A regular expression rather than an XML parser: the credential is one attribute of one
# element, and reading an untrusted file with a full XML parser (entities, DTDs) is a risk
# this does not need. A compact JWS is base64url and dots only.
_SVG_CREDENTIAL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?credential\b[^>]*?\bverify\s*=\s*[\"']([A-Za-z0-9_.=-]+)[\"']",
)
_SEAL_ID = r"[A-Za-z0-9_-]{22}"
_VERIFY_URL = re.compile(rf"(?P<base>.*)/verify/(?P<seal>{_SEAL_ID})(?:\.json|/bundle\.json)?/?")
_SEAL_URL = re.compile(rf"(?P<base>.*)/s/(?P<seal>{_SEAL_ID})(?:/[a-z._]+|\.(?:svg|png))?")


class SourceError(ValueError):
    pass


@dataclass(frozen=True)
class Source:
    kind: str  # "url", "credential", "bundle"
    base_url: str = ""
    seal_id: str = ""
    credential: str = ""
    bundle: dict[str, Any] | None = None
    label: str = ""


def png_credential(data: bytes) -> str:
    if not data.startswith(PNG_SIGNATURE):
        raise SourceError("not a PNG file")
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"iTXt" and body.startswith(KEYWORD + b"\0"):
            rest = body[len(KEYWORD) + 1 :]
            compressed, _method, rest = rest[0], rest[1], rest[2:]
            _language, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            if compressed:
                text = zlib.decompress(text)
            return text.decode("utf-8").strip()
        if kind == b"IEND":
            break
    raise SourceError("the PNG carries no openbadgecredential iTXt chunk (not a baked badge)")


def svg_credential(data: bytes) -> str:
    match = _SVG_CREDENTIAL.search(data)
    if match is None:
        raise SourceError("the SVG carries no <openbadges:credential verify=…> (not a baked badge)")
    return match.group(1).decode()


def from_url(url: str) -> Source:
    for pattern in (_VERIFY_URL, _SEAL_URL):
        match = pattern.fullmatch(url.split("?", 1)[0].split("#", 1)[0])
        if match and urlsplit(url).scheme in ("http", "https"):
            return Source("url", base_url=match["base"], seal_id=match["seal"], label=url)
    raise SourceError(f"{url!r} is not a seal's verification URL (…/verify/<seal id>)")


def load(argument: str) -> Source:
    """The source an argument names: a URL, or a file read by its content."""
    if argument.startswith(("http://", "https://")):
        return from_url(argument)
    path = Path(argument)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {argument}: {exc.strerror or exc}") from exc
    if data.startswith(PNG_SIGNATURE):
        return Source("credential", credential=png_credential(data), label=f"{argument} (PNG)")
    text = data.lstrip()
    if text.startswith(b"{"):
        try:
            bundle = json.loads(data)
        except ValueError as exc:
            raise SourceError(f"{argument} is not valid JSON: {exc}") from exc
        if not isinstance(bundle, dict) or not str(bundle.get("format", "")).startswith(
            "trustseal-verification-bundle/"
        ):
            raise SourceError(f"{argument} is JSON but not a Trustseal verification bundle")
        return Source(
            "bundle",
            base_url=str(bundle.get("verification_url", "")).rsplit("/verify/", 1)[0],
            seal_id=str(bundle.get("seal_id", "")),
            credential=str(bundle.get("credential", "")),
            bundle=bundle,
            label=f"{argument} (bundle)",
        )
    if text.startswith(b"<"):
        return Source("credential", credential=svg_credential(data), label=f"{argument} (SVG)")
    return Source("credential", credential=data.decode("utf-8", "replace").strip(), label=argument)

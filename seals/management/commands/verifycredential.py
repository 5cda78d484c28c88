"""Verify a credential, status list or status token from a file or a URL: a JWT, a JSON-LD
credential with a Data Integrity proof, or a baked badge (PNG or SVG) carrying a JWT."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from django.core.management.base import BaseCommand, CommandError

from config.tenancy import scopes_disabled
from seals.baking import BakingError, extract_png, extract_svg
from seals.verification import VerificationResult, verify_document, verify_jwt

MAX_BYTES = 64 * 1024


def _read(source: str) -> bytes:
    if source.startswith(("https://", "http://")):
        try:
            response = requests.get(source, timeout=10, stream=True)
            response.raise_for_status()
            body = response.raw.read(MAX_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise CommandError(f"Cannot fetch {source}: {exc}") from exc
        if len(body) > MAX_BYTES:
            raise CommandError(f"{source} is larger than {MAX_BYTES} bytes.")
        return body
    path = Path(source)
    if not path.is_file():
        raise CommandError(f"No such file: {source}")
    return path.read_bytes()


def _verify(body: bytes) -> VerificationResult:
    """By what the bytes are: a baked PNG or SVG badge, JSON with a proof, or a JWT."""
    try:
        if body.startswith(b"\x89PNG"):
            baked = extract_png(body)
        elif body.lstrip()[:1] == b"<":
            baked = extract_svg(body)
        else:
            baked = None
            text = body.decode("utf-8", errors="replace").strip()
            if text.startswith("{"):
                try:
                    return verify_document(json.loads(text))
                except ValueError as exc:
                    raise CommandError(f"Not JSON: {exc}") from exc
            return verify_jwt(text)
    except BakingError as exc:
        raise CommandError(str(exc)) from exc
    if baked is None:
        raise CommandError("The image carries no baked credential (OB 3.0 §5.3).")
    return verify_jwt(baked)


class Command(BaseCommand):
    help = (
        "Verify a JWT, a Data Integrity credential or a baked badge (file or http(s) URL): "
        "signature, key, time, schema and status bits."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "source", help="a file (JWT, JSON-LD credential, badge PNG or SVG), or its URL"
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print the full result as JSON"
        )

    @scopes_disabled()  # the keys and lists of whichever issuer signed it
    def handle(self, *args, source: str, as_json: bool = False, **options) -> None:
        result = _verify(_read(source))
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
        else:
            for check in result.checks:
                mark = "ok  " if check.ok else "FAIL"
                self.stdout.write(
                    f"{mark} {check.name}{': ' + check.detail if check.detail else ''}"
                )
        if not result.valid:
            raise CommandError(f"Invalid ({result.failed}): {result.reason}")
        self.stdout.write(self.style.SUCCESS(f"Valid {result.kind}."))

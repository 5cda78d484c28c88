"""Verify a credential, status list or status token JWT from a file or a URL."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from django.core.management.base import BaseCommand, CommandError

from config.tenancy import scopes_disabled
from seals.verification import verify_jwt

MAX_BYTES = 64 * 1024


def _read(source: str) -> str:
    if source.startswith(("https://", "http://")):
        try:
            response = requests.get(source, timeout=10, stream=True)
            response.raise_for_status()
            body = response.raw.read(MAX_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise CommandError(f"Cannot fetch {source}: {exc}") from exc
        if len(body) > MAX_BYTES:
            raise CommandError(f"{source} is larger than {MAX_BYTES} bytes.")
        return body.decode("utf-8", errors="replace")
    path = Path(source)
    if not path.is_file():
        raise CommandError(f"No such file: {source}")
    return path.read_text(encoding="utf-8", errors="replace")


class Command(BaseCommand):
    help = "Verify a JWT (file or http(s) URL): signature, key, time, schema and status bits."

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help="a file holding the JWT, or its URL")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print the full result as JSON"
        )

    @scopes_disabled()  # the keys and lists of whichever issuer signed it
    def handle(self, *args, source: str, as_json: bool = False, **options) -> None:
        result = verify_jwt(_read(source))
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

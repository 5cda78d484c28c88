"""A local webhook receiver for ``make run``: checks each delivery's signature, prints one line.

Development only. The standard library's ``http.server`` is enough here: one client (our own
worker) on the loopback interface, a handful of small requests a minute, no TLS; the module's
own documentation says it is not for production, and neither is this. A real receiver verifies
the same way (``effects.webhooks.verify_signature``, or its equivalent in another language).

The signing secret is read from a file the ``demo`` command writes under the var directory
(git-ignored, mode 0600), so it never appears in a process list or a log line. It is re-read on
every request: re-running ``demo`` needs no restart of the sink.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from effects.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verify_signature

DEFAULT_PORT = 8001
PATH = "/demo-webhooks"
SECRET_FILE_NAME = "demo-webhook-secret"  # noqa: S105 (the name of the file, not a secret)
MAX_BODY = 1024 * 1024  # deliveries are a few hundred bytes; anything near this is not ours


def sink_port() -> int:
    """The port ``make run`` gives the sink (TRUSTSEAL_SINK_PORT), shared with ``demo``."""
    return int(os.environ.get("TRUSTSEAL_SINK_PORT") or DEFAULT_PORT)


def secret_file() -> Path:
    return Path(settings.VAR_DIR) / SECRET_FILE_NAME


def write_secret(secret: str, path: Path | None = None) -> Path:
    """Store the demo endpoint's secret for the sink: owner-only, replaced atomically."""
    path = path or secret_file()
    if path.exists() and path.read_text().strip() == secret:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    os.replace(tmp, path)
    return path


def describe(headers: Any, body: bytes, secret: str | None) -> tuple[bool, str]:
    """``(signature ok, the line to print)`` for one delivery."""
    ok = bool(secret) and verify_signature(
        secret=secret or "", header=headers.get(SIGNATURE_HEADER, ""), body=body
    )
    try:
        payload = json.loads(body)
        data = payload.get("data") or {}
    except (ValueError, AttributeError):
        payload, data = {}, {}
    event = headers.get(EVENT_HEADER) or (payload.get("type") if payload else None) or "?"
    subject = f"import={data['import']}" if "import" in data else f"seal={data.get('seal', '-')}"
    signature = "ok" if ok else ("bad" if secret else "bad (no secret file)")
    line = (
        f"webhook {event} delivery={headers.get(DELIVERY_HEADER, '-')} {subject} "
        f"signature={signature}"
    )
    return ok, line


def make_server(
    *, port: int, secret_path: Path, write: Callable[[str], None], host: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.send_error(413)
                return
            body = self.rfile.read(length)
            try:
                secret = secret_path.read_text().strip()
            except OSError:
                secret = None
            ok, line = describe(self.headers, body, secret)
            write(line)
            # A bad signature is refused, as a real receiver would: the delivery then shows
            # the 400 in the API and is retried, which is what an issuer would need to see.
            self.send_response(200 if ok else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per delivery, written above, is the whole output

    return ThreadingHTTPServer((host, port), Handler)


class Command(BaseCommand):
    help = "Receive the demo issuer's webhooks on 127.0.0.1, check signatures, print each one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=sink_port())
        parser.add_argument(
            "--secret-file",
            dest="secret_path",
            type=Path,
            default=None,
            help=f"file holding the endpoint secret (default: <var dir>/{SECRET_FILE_NAME})",
        )

    def handle(self, *args: Any, port: int, secret_path: Path | None, **options: Any) -> None:
        path = secret_path or secret_file()

        def write(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()  # under honcho stdout is a pipe: print each line as it comes

        server = make_server(port=port, secret_path=path, write=write)
        write(f"Webhook sink on http://127.0.0.1:{port}{PATH} (secret read from {path})")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

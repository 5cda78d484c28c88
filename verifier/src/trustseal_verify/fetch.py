"""HTTP reads with the standard library. Every failure to get an answer (no route, a refused
connection, a timeout, a 5xx) is a ``Unreachable``, which a check reports as "unknown", never as
either verdict; a definite answer of absence (404, 410) is a ``NotFound``."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from trustseal_verify import __version__

TIMEOUT = 15
MAX_BYTES = 8 * 1024 * 1024

Fetch = Callable[[str], bytes]


class Unreachable(OSError):
    """No answer could be had."""


class NotFound(LookupError):
    """The server answered that there is no such thing."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url} answered {status}")
        self.status = status


def http_fetch(url: str) -> bytes:
    """GET ``url`` (http or https only) and return its body."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise Unreachable(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        headers={
            "User-Agent": f"trustseal-verify/{__version__}",
            # Ask caches along the way for a fresh answer: status evidence should be current.
            "Cache-Control": "no-cache",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            raise NotFound(url, exc.code) from exc
        raise Unreachable(f"{url} answered {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Unreachable(f"{url}: {getattr(exc, 'reason', exc)}") from exc
    if len(body) > MAX_BYTES:
        raise Unreachable(f"{url}: the answer is larger than {MAX_BYTES} bytes")
    return body


def offline_fetch(url: str) -> bytes:
    """The fetcher of ``--offline``: any attempt to use the network is refused."""
    raise Unreachable(f"offline: {url} was not fetched")

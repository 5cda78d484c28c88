"""Where a seal is being shown: the referring site of an image or page request, and whether it
is one of the member's.

The rule (docs/public.md, "Where the seal is shown"):

- only the *origin* of the ``Referer`` counts (scheme, host, port), cut exactly as the edge cuts
  it for its cache key (``deploy/nginx/seal-referer.conf``: ``REFERER_ORIGIN`` below is the
  same pattern), so an answer the edge keeps never depends on more than its key holds;
- no ``Referer``, or one that is not an http(s) URL, or this service itself: nothing to judge;
  this service itself is marked ``own``: the seal is on one of our pages (the verification
  page's badge, the embed preview, the console and portal), so the request is no impression;
- a member's domain entries are bare host names (``issuers.domains``) meaning that host or a
  subdomain *on the scheme's default port*: ``https://shop.example:8443`` is another site than
  ``https://shop.example``, as browsers hold it (RFC 6454), and so it is foreign;
- ``?d=`` (set by the script snippet) is judged too; either one foreign is misuse.

The host recorded for a foreign site is its IDNA A-label, with ``:port`` when not the default;
an IP literal or a name that is not a valid hostname counts as misuse but is not recorded
(DESIGN §1.3: nothing on the public side stores an address).
"""

from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from issuers.domains import display_domain, normalise_domain

# Keep equal to the map in deploy/nginx/seal-referer.conf (tests/seals/test_shown_on.py).
REFERER_ORIGIN = re.compile(r"https?://[^/?#]+", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ShownOn:
    """``foreign``: not one of the member's sites. ``name``: the site as the visitor's browser
    named it (for the verification page's warning). ``host``: what the statistics record, or
    "" when nothing may be (not foreign, an IP literal, not a hostname). ``own``: the Referer
    is this service itself (one of our pages shows the seal; not counted as an impression)."""

    foreign: bool
    name: str = ""
    host: str = ""
    own: bool = False


NOWHERE = ShownOn(False)
OURS = ShownOn(False, own=True)


def referer_origin(referer: str) -> str:
    """``scheme://authority`` of a Referer, or "" when it is not an http(s) URL."""
    found = REFERER_ORIGIN.match(referer)
    return found.group(0) if found else ""


# A site's hostname is normalised (IDNA, UTS #46) once per process, not once per hit: the
# member's own site sends the same few origins on every page view. Bounded, so forged Referers
# cost memory no more than this.
@functools.lru_cache(maxsize=4096)
def _ascii_host(host: str) -> str:
    try:
        return normalise_domain(host)
    except ValidationError:
        return ""


def _matches(ascii_host: str, domains: tuple[str, ...] | list[str]) -> bool:
    return any(ascii_host == d or ascii_host.endswith("." + d) for d in domains)


def _host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return (parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme))


@functools.lru_cache(maxsize=64)
def _own(public_base_url: str, request_host: str, scheme: str) -> frozenset[tuple[str, int | None]]:
    own = {_host_port(public_base_url)}
    with contextlib.suppress(ValueError):  # a Host header with no valid port: not ours
        own.add(_host_port(f"{scheme}://{request_host}"))
    return frozenset(own)


def judge_origin(
    origin: str, domains: tuple[str, ...] | list[str], *, request_host: str, scheme: str
) -> ShownOn:
    """Where an origin (``referer_origin``) is, for a member with ``domains``."""
    if not origin:
        return NOWHERE
    parts = urlsplit(origin)
    host = parts.hostname or ""
    try:
        explicit = parts.port
    except ValueError:  # a port that is no port: nobody's site
        return ShownOn(True, host)
    if not host:
        return NOWHERE
    default = _DEFAULT_PORTS[parts.scheme.lower()]
    port = explicit or default
    own = _own(settings.PUBLIC_BASE_URL, request_host, scheme)
    if (host, port) in own:
        return OURS
    ascii_host = _ascii_host(host)
    # Another port of this service's own host is named with its port even when that port is
    # the scheme's default: the bare host would read as this service.
    ours = any(host == own_host for own_host, _ in own)
    name = f"{host}:{port}" if port != default or ours else host
    if port == default and ascii_host and _matches(ascii_host, domains):
        return NOWHERE
    if not ascii_host:
        return ShownOn(True, name)
    return ShownOn(True, name, ascii_host if port == default else f"{ascii_host}:{port}")


# Once per process per host, as _ascii_host: a copied seal's site asks for its card on every hit.
@functools.lru_cache(maxsize=4096)
def display_host(host: str) -> str:
    """A recorded host (``ShownOn.host``: A-label, ``:port`` when not the default) as people
    read it, as the certificate shows a member's domains: ``xn--bckerei-5wa.example:8443`` is
    ``bäckerei.example:8443``. Never more than host and port: a recorded host holds no path."""
    name, colon, port = host.partition(":")
    return display_domain(name) + colon + port


def judge_host(host: str, domains: tuple[str, ...] | list[str]) -> ShownOn:
    """Where a bare host (``?d=``: the script snippet's ``location.hostname``) is."""
    if not host:
        return NOWHERE
    ascii_host = _ascii_host(host)
    if ascii_host and _matches(ascii_host, domains):
        return NOWHERE
    return ShownOn(True, host, ascii_host)


def shown_on(
    referer: str,
    d: str,
    domains: tuple[str, ...] | list[str],
    *,
    request_host: str,
    scheme: str,
) -> ShownOn:
    """The verdict on a request's Referer and ``?d=``: foreign when either is; the Referer's
    host is the one recorded when both are (the browser sent it; ``d`` is in the URL)."""
    by_referer = judge_origin(
        referer_origin(referer), domains, request_host=request_host, scheme=scheme
    )
    if by_referer.foreign:
        return by_referer
    return also_ours(judge_host(d, domains), by_referer.own)


def also_ours(site: ShownOn, own: bool) -> ShownOn:
    """``site`` (the ``?d=`` verdict) marked as shown on our own page when the Referer was."""
    return replace(site, own=True) if own and not site.own else site

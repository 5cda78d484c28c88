"""The client's network, proxy-aware and truncated, for the few places that need one.

Nothing on the public side stores or logs a raw address (DESIGN §1.3): callers that need to
tell clients apart (throttling, abuse counters) use ``client_network``, which keeps the /24 of
an IPv4 address or the /48 of an IPv6 one — enough to rate-limit, not enough to single out a
household. ``client_ip`` exists for that function and for tests; do not persist what it returns.

Behind proxies, ``settings.TRUSTED_PROXY_COUNT`` says how many of them append to
``X-Forwarded-For``. Only the entries those proxies wrote are believed: the client is the
N-th entry from the right, so anything a client writes into the header itself is ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPV4_PREFIX = 24
IPV6_PREFIX = 48

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(raw: str) -> Address | None:
    value = raw.strip()
    if value.startswith("["):  # "[2001:db8::1]:443"
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # "203.0.113.9:443"
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value.partition("%")[0])  # drop an IPv6 zone id
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_ip(request: HttpRequest) -> Address | None:
    """The client's address as the trusted proxies saw it, or None when unparseable."""
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted > 0:
        forwarded = [
            part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if forwarded:
            # Fewer entries than proxies: every entry was still written by a trusted proxy, and
            # the leftmost is the nearest to the client.
            return _parse(forwarded[-trusted] if len(forwarded) >= trusted else forwarded[0])
    return _parse(request.META.get("REMOTE_ADDR", ""))


def truncate(address: Address) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def client_network(request: HttpRequest) -> str:
    """``"203.0.113.0/24"`` or ``"2001:db8:1::/48"``; ``""`` when the address is unknown."""
    address = client_ip(request)
    return str(truncate(address)) if address is not None else ""

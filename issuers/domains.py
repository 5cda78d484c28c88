"""Hostname validation for members' domains."""

from __future__ import annotations

import re
from collections.abc import Iterable

import idna
from django.core.exceptions import ValidationError

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(value: str) -> str:
    """A bare hostname, lower-case, IDNA (punycode) encoded; scheme, port or path refused."""
    raw = value.strip()
    if not raw:
        raise ValidationError("Domain is empty.")
    if any(ch in raw for ch in "/:@?# \t"):
        raise ValidationError(
            f"{raw!r} is not a bare hostname: give it without scheme, port or path "
            "(example.com, not https://example.com/)."
        )
    host = raw.rstrip(".")
    try:
        # IDNA 2008 with UTS #46 mapping, as browsers resolve names (and so as a Referer or
        # ?d= host arrives): the kept `idna` package, not Python's IDNA 2003 codec, which maps
        # "ß" to "ss" and lets an invalid A-label such as "xn--zz" through.
        ascii_host = idna.encode(host, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValidationError(f"{raw!r} is not a valid internationalised hostname.") from exc
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2 or not all(_LABEL.match(lb) for lb in labels):
        raise ValidationError(f"{raw!r} is not a valid hostname.")
    if labels[-1].isdigit():
        raise ValidationError(f"{raw!r} is an IP address; give a hostname.")
    return ascii_host


def display_domain(ascii_host: str) -> str:
    """A stored (A-label) hostname as people read it: ``xn--bckerei-5xa.example`` is
    ``bäckerei.example``. A label that does not decode is shown as stored, never dropped."""
    try:
        return idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError):
        return ascii_host


def normalise_domains(values: list[str]) -> list[str]:
    result: list[str] = []
    for value in values:
        host = normalise_domain(value)
        if host in result:
            raise ValidationError(f"Domain {host!r} is listed twice.")
        result.append(host)
    return result


def host_matches(host: str, domains: Iterable[str]) -> bool:
    """True when ``host`` is one of ``domains`` or a subdomain of one."""
    try:
        host = normalise_domain(host)
    except ValidationError:
        return False
    return any(host == d or host.endswith("." + d) for d in domains)

"""Absolute public URLs of a seal (the public contract of DESIGN §4)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlencode

from django.conf import settings
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from seals.models import Seal
from seals.render import SCALES, SIZES, clean_text


def image_url(seal: Seal, fmt: str = "svg") -> str:
    return f"{settings.PUBLIC_BASE_URL}/s/{seal.public_id}.{fmt}"


def verify_url(seal: Seal) -> str:
    return f"{settings.PUBLIC_BASE_URL}/verify/{seal.public_id}"


def check_url(domain: str | None = None) -> str:
    """``/check`` ("which seals are valid for this website?"), asked about ``domain``."""
    query = f"?{urlencode({'domain': domain})}" if domain else ""
    return f"{settings.PUBLIC_BASE_URL}/check{query}"


def check_urls(domains: list[str]) -> list[tuple[str, str]]:
    """(domain, its /check URL) for each of a member's domains, for the pages that link them."""
    return [(domain, check_url(domain)) for domain in domains]


def lang_query(lang: str | None, *, first: bool = False) -> str:
    """``&lang=fr`` (``?lang=fr`` when ``first``), or nothing for the default language."""
    if not lang:
        return ""
    return f"{'?' if first else '&'}lang={lang}"


def seal_alt(seal: Seal, lang: str | None = None) -> str:
    """The image's alt text, in the snippet's language (the image itself speaks it too)."""
    with translation.override(lang or settings.LANGUAGE_CODE):
        return _("%(member)s: %(programme)s seal of %(issuer)s") % {
            # The same cleaning as the image's own text: a stored control character must not
            # reach an attribute of the member's page either.
            "member": clean_text(seal.member.display_name),
            "programme": clean_text(seal.programme.name),
            "issuer": clean_text(seal.issuer.name),
        }


def embed_snippet(seal: Seal, *, size: str = "medium", lang: str | None = None) -> str:
    """The plain ``<a><img></a>`` snippet. ``lang`` fixes the image's language in its URL, so
    the image stays one cacheable body per URL; the link opens the page in the same language.

    The image is the PNG with a ``srcset`` of its 2x and 3x drawings: a high-density screen
    fetches the one it needs, each its own URL (``&scale=``), ETag and cache entry, and the 1x
    and 2x ones are rendered ahead of visitors (``seals.render.images``). The PNG rather than
    the SVG: a few KB where the SVG carries its font, and drawn the same everywhere."""
    width, height = SIZES[size]
    base = f"{image_url(seal, 'png')}?size={size}{lang_query(lang)}"
    srcset = ", ".join(f"{base}&scale={k} {k}x" for k in SCALES if k != 1)
    return format_html(
        '<a href="{}" target="_blank" rel="noopener"><img src="{}" srcset="{} 1x, {}" '
        'width="{}" height="{}" alt="{}"></a>',
        verify_url(seal) + lang_query(lang, first=True),
        base,
        base,
        srcset,
        width,
        height,
        seal_alt(seal, lang),
    )


def share_links(
    *,
    page_url: str,
    seal_id: str,
    title: str,
    issuer_name: str,
    issued: datetime,
    expires: datetime | None,
) -> dict[str, str]:
    """Where the holder can share their verification page: LinkedIn's "add to profile"
    (its documented Add to Profile for Certifications parameters), and an e-mail."""
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": title,
        "organizationName": issuer_name,
        "issueYear": str(issued.year),
        "issueMonth": str(issued.month),
    }
    if expires is not None:
        params |= {"expirationYear": str(expires.year), "expirationMonth": str(expires.month)}
    params |= {"certUrl": page_url, "certId": seal_id}
    mail = urlencode({"subject": title, "body": page_url}, quote_via=quote)
    return {
        "page": page_url,
        "linkedin": "https://www.linkedin.com/profile/add?" + urlencode(params),
        "email": f"mailto:?{mail}",
    }

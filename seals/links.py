"""Absolute public URLs of a seal (the public contract of DESIGN §4)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from seals.models import Seal
from seals.render import clean_text


def image_url(seal: Seal, fmt: str = "svg") -> str:
    return f"{settings.PUBLIC_BASE_URL}/s/{seal.public_id}.{fmt}"


def verify_url(seal: Seal) -> str:
    return f"{settings.PUBLIC_BASE_URL}/verify/{seal.public_id}"


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
    the image stays one cacheable body per URL; the link opens the page in the same language."""
    width, height = {"small": (160, 48), "medium": (240, 72), "large": (320, 96)}[size]
    return format_html(
        '<a href="{}" target="_blank" rel="noopener"><img src="{}?size={}" width="{}" '
        'height="{}" alt="{}"></a>',
        verify_url(seal) + lang_query(lang, first=True),
        image_url(seal),
        size + lang_query(lang),
        width,
        height,
        seal_alt(seal, lang),
    )

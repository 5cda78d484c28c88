"""What every mail to a member shares: its language, layout, seal image and links.

Expiry notices (effects.notices) and announcements (announcements.mail) are both
``EmailMultiAlternatives`` with a text body and an HTML alternative rendered from Django
templates (autoescaped: member and issuer data cannot inject markup), in the member's language.
The HTML styles itself with one ``<style>`` block, ``MAIL_CSS``, and no ``style`` attributes,
so the console's preview of a mail can allow exactly that block by its hash.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from issuers.models import Issuer, Member, Programme
from seals import links
from seals.models import Seal

MAIL_CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1f24;"
    "line-height:1.5;max-width:40em;margin:0 auto;padding:1em}"
    "a{color:#0969da}.seal{margin:1em 0}.seal img{border:0}"
    ".action{display:inline-block;padding:.5em 1em;background:#1f6feb;color:#fff;"
    "text-decoration:none;border-radius:4px}"
    ".foot{font-size:small;color:#57606a;border-top:1px solid #d0d7de;margin-top:2em;"
    "padding-top:1em}"
)
MAIL_CSS_HASH = base64.b64encode(hashlib.sha256(MAIL_CSS.encode()).digest()).decode()


def mail_language(member: Member | None) -> str:
    """The member's chosen language, or the default one (mail to an issuer, an unknown code)."""
    codes = {code for code, _name in settings.LANGUAGES}
    lang = getattr(member, "language", "") or ""
    return lang if lang in codes else settings.LANGUAGE_CODE


def portal_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse("portal:home")


def preferences_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse("portal:preferences")


def seal_image_url(seal: Seal, lang: str) -> str:
    """The PNG (mail clients do not all draw SVG), in the mail's language."""
    return f"{links.image_url(seal, 'png')}?size=medium{links.lang_query(lang)}"


@dataclass(frozen=True)
class Renewal:
    """How a member renews: the programme's renewal link, or else the issuer's contact."""

    url: str
    email: str
    website: str


def renewal_of(programme: Programme, issuer: Issuer) -> Renewal:
    if programme.renewal_url:
        return Renewal(url=programme.renewal_url, email="", website="")
    return Renewal(url="", email=issuer.public_email, website=issuer.website)


def named_once(programme_name: str, issuer_name: str) -> bool:
    """True when the programme's name already says the issuer's ("Guild of Bakers Gold"), so
    a subject names the programme alone."""
    return issuer_name.casefold() in programme_name.casefold()


def sender_of(issuer: Issuer) -> str:
    """In the issuer's name, from the platform's address (which the SPF/DKIM setup covers)."""
    return formataddr((issuer.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


@dataclass(frozen=True)
class Rendered:
    text: str
    html: str


def render_mail(template: str, context: dict[str, object], *, lang: str) -> Rendered:
    """``<template>.txt`` and ``<template>.html`` in ``lang`` (dates and words alike)."""
    with translation.override(lang):
        full = {
            **context,
            "css": MAIL_CSS,
            "lang": lang,
            "rtl": translation.get_language_bidi(),
        }
        return Rendered(
            text=render_to_string(f"{template}.txt", full),
            html=render_to_string(f"{template}.html", full),
        )

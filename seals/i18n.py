"""Which language a public answer speaks, and dates written the way that language writes them.

Rules:
- The verification page and the certificate take ``?lang=`` first; the page then falls back to
  ``Accept-Language`` and says so with ``Vary: Accept-Language``.
- Seal images take the language from ``?lang=`` only (set once in the embed snippet), so one
  image URL always has one body and shared caches need no ``Vary: Accept-Language``.
- No cookie and no session: the public routes keep none (DESIGN §1.3).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import formats, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.utils.translation.trans_real import parse_accept_lang_header

RTL_LANGUAGES = frozenset({"ar"})


def supported() -> tuple[str, ...]:
    return tuple(code for code, _name in settings.LANGUAGES)


def _match(value: str) -> str | None:
    """``value`` (``fr``, ``fr-CA``, ``FR_ca``) as one of our codes, or None."""
    code = value.strip().lower().replace("_", "-")
    if code in supported():
        return code
    base = code.split("-", 1)[0]
    return base if base in supported() else None


def query_language(request: HttpRequest) -> str | None:
    return _match(request.GET.get("lang", "")[:16])


def image_language(request: HttpRequest) -> str:
    """Images: ``?lang=`` or the default, never a request header (see module docstring)."""
    return query_language(request) or settings.LANGUAGE_CODE


def page_language(request: HttpRequest) -> str:
    """Pages: ``?lang=``, then the best ``Accept-Language`` match by weight, then English."""
    chosen = query_language(request)
    if chosen:
        return chosen
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")[:512]
    for code, _quality in parse_accept_lang_header(header):
        if code != "*" and (found := _match(code)):
            return found
    return settings.LANGUAGE_CODE


def direction(lang: str) -> str:
    return "rtl" if lang in RTL_LANGUAGES else "ltr"


def speaks_page_language(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run ``view`` in the page language; mark the answer with it and, when no ``?lang=`` fixed
    it, with ``Vary: Accept-Language``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        lang = page_language(request)
        with translation.override(lang):
            response = view(request, *args, **kwargs)
        response["Content-Language"] = lang
        if query_language(request) is None:
            patch_vary_headers(response, ("Accept-Language",))
        return response

    return wrapper


def speaks_query_language(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run ``view`` in the ``?lang=`` language (images, certificates): cacheable, no Vary."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        lang = image_language(request)
        with translation.override(lang):
            response = view(request, *args, **kwargs)
        response["Content-Language"] = lang
        return response

    return wrapper


# --- dates --------------------------------------------------------------------------------
# Compact day formats for the seal image, where width is scarce. Django's SHORT_DATE_FORMAT
# is m/d/Y for English, which reads wrongly outside the US, so English spells the month.
# Arabic spells it too: the PNG painter orders right-to-left text run by run (one font per
# run), and "22/11/2026" would be split at the slashes and come out as "/11/202622".
_IMAGE_DAY = {"en": "j M Y", "ar": "j F Y"}


def _clean(text: str) -> str:
    # Django's Arabic formats carry RIGHT-TO-LEFT MARKs; the seal fonts have no glyph for them
    # and the renderer already orders right-to-left text itself.
    return text.replace("\u200f", "")


def image_day(day: date) -> str:
    """A day as the seal image writes it, in the active language."""
    lang = translation.get_language() or settings.LANGUAGE_CODE
    fmt = _IMAGE_DAY.get(lang, "SHORT_DATE_FORMAT")
    return _clean(formats.date_format(day, fmt))


def long_day(value: date | datetime) -> str:
    """``22 novembre 2026``: the page's and the certificate's way of writing a day."""
    return _clean(formats.date_format(value, "DATE_FORMAT"))


def long_datetime(value: datetime, *, seconds: bool = False) -> str:
    """A UTC moment as a day in the language's words and a 24-hour time: unambiguous in every
    language (Django's own DATETIME_FORMAT is 12-hour for English)."""
    time = value.strftime("%H:%M:%S" if seconds else "%H:%M")
    return _("%(day)s, %(time)s UTC") % {"day": long_day(value), "time": time}


# --- labels of stored codes -----------------------------------------------------------------
# The model choices keep their English labels (changing them would be a migration); these are
# the words visitors read. Issuer kinds: ``issuers.labels.issuer_kind_word``.
EVENT_WORDS = {
    "issued": gettext_noop("Issued"),
    "renewed": gettext_noop("Renewed"),
    "activated": gettext_noop("Activated"),
    "suspended": gettext_noop("Suspended"),
    "reinstated": gettext_noop("Reinstated"),
    "revoked": gettext_noop("Revoked"),
    "expired": gettext_noop("Expired"),
    "details_changed": gettext_noop("Details changed"),
    "erased": gettext_noop("Erased"),
}


def event_word(kind: str) -> str:
    return _(EVENT_WORDS[kind]) if kind in EVENT_WORDS else kind

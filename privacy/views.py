"""Public privacy pages: ``GET /privacy`` and the one-click unsubscribe endpoint.

Both render without the request (no context processors, so nothing reaches for the session,
the user or the CSRF token) and so set no cookie.

The unsubscribe page speaks the language of ``?lang=``, else the one the token's member gets
its mail in (the message the link came from spoke it), else the browser's ``Accept-Language``
(and then says it varies by it); right to left in Arabic.
"""

from __future__ import annotations

import base64
import hashlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from config.tenancy import scopes_disabled
from privacy.services import member_unsubscribe
from privacy.unsubscribe import member_id_from_token, member_language
from seals import i18n

_CSS = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
    "color:#1b1f24}h1,h2{line-height:1.2}code{font-size:.9em}"
    "button{font:inherit;padding:.4rem 1rem}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
# form-action 'self': the unsubscribe page posts its own form back to itself.
_CSP = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def _page(template: str, context: dict, status: int = 200) -> HttpResponse:
    # The portal page a member signs in to (a link, not a session: nothing here reads one).
    preferences = settings.PUBLIC_BASE_URL + reverse("portal:preferences")
    body = render_to_string(template, {**context, "css": _CSS, "preferences_url": preferences})
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = _CSP
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def privacy_page(request: HttpRequest) -> HttpResponse:
    response = _page(
        "issuers/privacy.html",
        {
            "trusted_proxies": settings.TRUSTED_PROXY_COUNT,
            "stats_months": settings.RETENTION_DAILY_STATS_MONTHS,
            "webhook_days": settings.RETENTION_WEBHOOK_DELIVERY_DAYS,
            "request_years": settings.RETENTION_CLOSED_DATA_REQUEST_YEARS,
        },
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _unsubscribe_page(
    request: HttpRequest, member_id: int | None, state: str, status: int = 200
) -> HttpResponse:
    chosen = i18n.query_language(request)
    if chosen is None and member_id is not None:
        chosen = member_language(member_id)
    lang = chosen or i18n.page_language(request)
    with translation.override(lang):
        response = _page(
            "privacy/unsubscribe.html",
            {"state": state, "lang": lang, "dir": i18n.direction(lang)},
            status=status,
        )
    response["Content-Language"] = lang
    if chosen is None:
        patch_vary_headers(response, ("Accept-Language",))
    response["Cache-Control"] = "no-store"
    return response


# CSRF-exempt on purpose: RFC 8058 one-click POSTs come from mail clients and providers, which
# hold no CSRF cookie (and we set none). The signed token in the URL is the authorisation, and
# the only effect is an opt-out, which a forged request could not turn against the member.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@scopes_disabled()  # the signed token names a member of any issuer
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    member_id = member_id_from_token(token)
    if member_id is None:
        return _unsubscribe_page(request, None, "invalid", status=400)
    if request.method == "GET":
        # GET only asks: link scanners and previews fetch URLs in mail and must not unsubscribe.
        return _unsubscribe_page(request, member_id, "ask")
    member_unsubscribe(member_id=member_id)
    # The same answer whether or not the member still exists: nothing to learn from it.
    return _unsubscribe_page(request, member_id, "done")

"""Public pages beside the verification page: how to verify, report misuse, check a
credential, the issuer's own page. No account and no cookie, like every public route
(``seals.public_middleware``); no script; the one stylesheet, by hash (``public_views.CSP``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from typing import Any

import rfc8785
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt

from config import ratelimit
from config.tenancy import scopes_disabled
from issuers.models import Issuer, Programme
from seals import i18n, snapshot
from seals.baking import extract_png, extract_svg
from seals.keys import issuer_did, issuer_url
from seals.log_state import log_state
from seals.misuse import MisuseReportForm, form_token, misuse_report_create
from seals.models import Seal, SigningKey, StatusList
from seals.public_views import (
    FORM_CSP_HEADER,
    UNREADABLE,
    _page_response,
    _unknown_page,
)
from seals.status_lists import status_list_url
from seals.verification import CHECKS, VerificationResult, verify_document, verify_jwt

log = logging.getLogger(__name__)

MISUSE_SCOPE = "misuse-report"
# A baked PNG is the seal image plus its credential: a few tens of KB. A megabyte is ample,
# and is read into memory only after the size is known.
MAX_UPLOAD_BYTES = 1024 * 1024


def _form_page(request: HttpRequest, template: str, context: dict, status: int = 200):
    response = _page_response(request, template, context, status)
    response["Content-Security-Policy"] = FORM_CSP_HEADER
    # Each form carries its own token (or none is needed): nothing here may be kept.
    response["Cache-Control"] = "no-store"
    return response


# --- how to verify ----------------------------------------------------------------------------
@i18n.speaks_page_language
def verify_how(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    response = _page_response(request, "seals/verify_how.html", {})
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- report misuse ----------------------------------------------------------------------------
# The form needs no CSRF cookie and cannot have one on a cookie-less route: it is anonymous (a
# forged post gains nothing a direct one would not) and a signed, time-limited token, a
# honeypot and the per-network limit keep scripts out instead (seals/misuse.py explains).
@csrf_exempt
@i18n.speaks_page_language
@scopes_disabled()  # a public id names one seal among every issuer's
def misuse_report(request: HttpRequest, seal_id: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    try:
        snap = snapshot.get(seal_id)
    except UNREADABLE:
        return _unknown_page(request)
    if snap is None or snap.erased:
        return _page_response(request, "seals/not_found.html", {}, status=404)
    context: dict[str, Any] = {"snap": snap, "verify_url": f"/verify/{seal_id}"}
    if request.method != "POST":
        referer = request.META.get("HTTP_REFERER", "")[:500]
        own = referer.startswith((settings.PUBLIC_BASE_URL, f"//{request.get_host()}"))
        initial = {"token": form_token(seal_id), "site_url": "" if own else referer}
        form = MisuseReportForm(initial=initial, seal_id=seal_id)
        return _form_page(request, "seals/misuse_report.html", {**context, "form": form})
    wait = ratelimit.retry_after(request, scope=MISUSE_SCOPE)
    if wait is not None:
        minutes = max(1, (wait + 59) // 60)
        detail = ngettext(
            "Too many reports were sent from your network. Please try again in %(n)d minute.",
            "Too many reports were sent from your network. Please try again in %(n)d minutes.",
            minutes,
        ) % {"n": minutes}
        response = _form_page(
            request,
            "seals/message.html",
            {**context, "title": _("Report misuse"), "detail": detail},
            429,
        )
        response["Retry-After"] = str(wait)
        return response
    form = MisuseReportForm(request.POST, seal_id=seal_id)
    if not form.is_valid():
        # Shown again with a fresh token, so an expired one costs a single resubmission.
        data = request.POST.copy()
        data["token"] = form_token(seal_id)
        data["website"] = ""
        form.data = data
        return _form_page(request, "seals/misuse_report.html", {**context, "form": form}, 400)
    seal = Seal.objects.get(pk=snap.pk)
    misuse_report_create(
        seal=seal,
        site_url=form.cleaned_data["site_url"],
        site_host=form.cleaned_data["site_host"],
        message=form.cleaned_data["message"],
        reporter_email=form.cleaned_data["email"],
    )
    return _form_page(request, "seals/misuse_thanks.html", context)


# --- check a credential -----------------------------------------------------------------------
class _Refused(Exception):
    pass


class _TooLarge(Exception):
    pass


def _too_large() -> str:
    return _("The file is too large: at most %(size)d KB.") % {"size": MAX_UPLOAD_BYTES // 1024}


def _from_json(text: str) -> str | dict:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _Refused(_("The file is not valid JSON.")) from exc
    if isinstance(data, dict) and "proof" in data:
        return data
    value = (data.get("credential") or data.get("jwt")) if isinstance(data, dict) else data
    if isinstance(value, str | dict) and value:
        return value
    raise _Refused(_("The JSON holds no credential."))


def _posted_credential(request: HttpRequest) -> str | dict:
    """The pasted JWT or the uploaded file's credential (a baked PNG or SVG, a JWT, or JSON:
    a Data Integrity credential or ``{"credential": …}``)."""
    upload = request.FILES.get("upload")
    if upload is not None:
        if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            raise _TooLarge
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise _TooLarge
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            found = extract_png(data)
        elif b"<svg" in data[:4096]:
            found = extract_svg(data)
        else:
            text = data.decode("utf-8", errors="replace").strip()
            found = text if not text.startswith(("{", '"')) else None
            if found is None:
                return _from_json(text)
        if not found:
            raise _Refused(_("This image carries no credential: it is not a baked badge."))
        return found.strip()
    pasted = (request.POST.get("credential") or "").strip()
    if not pasted:
        raise _Refused(_("Paste a credential or choose a file."))
    return _from_json(pasted) if pasted.startswith("{") else pasted


def _check_word(name: str) -> str:
    words = {
        "format": _("Format"),
        "algorithm": _("Signature algorithm"),
        "kid": _("Signing key"),
        "signature": _("Signature"),
        "issuer": _("Issuer"),
        "time": _("Validity dates"),
        "schema": _("Open Badges 3.0 schema"),
        "status": _("Revocation and suspension status"),
        "proof": _("Data Integrity proof"),
    }
    return words.get(name, name)


def _result_context(result: VerificationResult) -> dict[str, Any]:
    issuer = None
    issuer_ref = result.payload.get("issuer") if isinstance(result.payload, dict) else None
    issuer_id = issuer_ref.get("id") if isinstance(issuer_ref, dict) else issuer_ref
    if isinstance(issuer_id, str):
        slug = issuer_id.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        issuer = Issuer.objects.filter(slug=slug).first()
    state = log_state(issuer.pk) if issuer is not None else None
    return {
        "result": result,
        "verdict": result.verdict,
        "checks": [
            {"name": _check_word(c.name), "ok": c.ok, "detail": c.detail} for c in result.checks
        ],
        "not_run": [
            _check_word(name) for name in CHECKS if name not in {c.name for c in result.checks}
        ]
        if not result.valid
        else [],
        "issuer": issuer,
        "log_state": state,
    }


def _check_page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    return _form_page(request, "seals/check_credential.html", context, status)


@i18n.speaks_page_language
def credential_check_page(request: HttpRequest) -> HttpResponse:
    """``GET /verify/credential``: the form; its POST (``?answer=page``) comes here too and is
    answered as a page. Read-only: nothing is stored, so there is nothing to forge (no CSRF
    cookie on a cookie-less route; ``credential_views.verify_credential_view`` is exempt)."""
    if request.method != "POST":
        return _check_page(request, {})
    wait = ratelimit.retry_after(request, scope="verify-credential")
    if wait is not None:
        detail = _("Too many checks from your network; retry in %(n)d s.") % {"n": wait}
        response = _check_page(request, {"error": detail}, 429)
        response["Retry-After"] = str(wait)
        return response
    # Refused before the body is read: the declared length is what would be parsed.
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_UPLOAD_BYTES + 64 * 1024:
        return _check_page(request, {"error": _too_large()}, 413)
    try:
        posted = _posted_credential(request)
    except _TooLarge:
        return _check_page(request, {"error": _too_large()}, 413)
    except _Refused as refused:
        return _check_page(request, {"error": str(refused)}, 400)
    try:
        result = verify_document(posted) if isinstance(posted, dict) else verify_jwt(posted)
    except UNREADABLE:
        return _unknown_page(request)
    return _check_page(request, _result_context(result))


# --- the issuer's page ------------------------------------------------------------------------
def key_thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url): the required members only, in
    lexicographic order, no whitespace, which is what RFC 8785 canonical JSON writes for them
    (the rfc8785 dependency already does JCS; no JOSE library is among the runtime ones)."""
    required = {
        "EC": ("crv", "kty", "x", "y"),
        "RSA": ("e", "kty", "n"),
        "OKP": ("crv", "kty", "x"),
    }
    members = {k: jwk[k] for k in required.get(jwk.get("kty", ""), ()) if k in jwk}
    digest = hashlib.sha256(rfc8785.dumps(members)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _url(name: str, **kwargs: Any) -> str:
    try:
        return settings.PUBLIC_BASE_URL + reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


@i18n.speaks_page_language
def issuer_page(request: HttpRequest, issuer: Issuer) -> HttpResponse:
    """The issuer's page for people: the same facts as its Profile JSON, and what to check
    them with. Called by ``credential_views.issuer_profile`` when the client prefers HTML."""
    numbers = sorted(
        set(StatusList.objects.filter(issuer=issuer).values_list("number", flat=True))
    ) or [0]
    keys = SigningKey.objects.filter(
        issuer=issuer, state__in=[SigningKey.State.ACTIVE, SigningKey.State.RETIRED]
    ).order_by("created_at", "pk")
    logo = issuer.logo_png
    context = {
        "issuer": issuer,
        "logo_data": base64.b64encode(bytes(logo)).decode() if logo else "",
        "programmes": Programme.objects.filter(issuer=issuer).order_by("name"),
        "keys": [
            {
                "key_id": key.key_id,
                "algorithm": key.algorithm,
                "state": key.state,
                "thumbprint": key_thumbprint(key.public_jwk),
                "created_at": key.created_at,
            }
            for key in keys
        ],
        "log_state": log_state(issuer.pk),
        "profile_url": issuer_url(issuer),
        "did": issuer_did(issuer),
        "links": {
            "register": _url("issuer-register", slug=issuer.slug),
            "jwks": _url("issuer-jwks", slug=issuer.slug),
            "did": _url("issuer-did", slug=issuer.slug),
            "checkpoint": _url("log-checkpoint", slug=issuer.slug),
            "revocation": [
                status_list_url(issuer, StatusList.Purpose.REVOCATION, n) for n in numbers
            ],
            "suspension": [
                status_list_url(issuer, StatusList.Purpose.SUSPENSION, n) for n in numbers
            ],
        },
        "checked_at": timezone.now(),
    }
    response = _page_response(request, "seals/issuer.html", context)
    response["Cache-Control"] = "public, max-age=300"
    return response

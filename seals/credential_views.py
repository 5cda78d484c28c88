"""Public, cacheable endpoints for keys, issuer profiles, credentials and status lists.

No authentication, no sessions, no cookies: these answers are the same for everyone, so shared
caches (nginx, a CDN) may keep them for ``max-age``.
"""

from __future__ import annotations

import json
import re

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from config import ratelimit
from config.tenancy import scopes_disabled
from issuers.models import Issuer
from seals import snapshot
from seals.credentials import OB3_CONTEXTS, credential_jwt
from seals.keys import issuer_jwks, issuer_url, key_public_jwk
from seals.models import SEAL_ID_PATTERN, Seal, SigningKey, StatusList
from seals.status_lists import status_list_published, status_list_url
from seals.verification import verify_jwt

KEYS_MAX_AGE = 300
# Bits change within a minute, so a shared cache must not keep a list longer than that.
STATUS_LIST_MAX_AGE = 30
CREDENTIAL_MAX_AGE = 60
MAX_TOKEN_BYTES = 64 * 1024
_SEAL_ID = re.compile(SEAL_ID_PATTERN)
# The profile's own terms, so it still expands under JSON-LD with no undefined term.
PROFILE_TERMS = {
    "revocationStatusLists": {
        "@id": "https://w3id.org/security#revocationStatusLists",
        "@type": "@id",
        "@container": "@set",
    },
    "suspensionStatusLists": {
        "@id": "https://w3id.org/security#suspensionStatusLists",
        "@type": "@id",
        "@container": "@set",
    },
    "jwks": {"@id": "https://w3id.org/security#jwks", "@type": "@id"},
}


# Every view here is public and reads what any issuer published (keys, lists, credentials), found
# by slug or public id: each runs with scopes disabled (config.tenancy).


def _public(response: HttpResponse, max_age: int) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _issuer(slug: str) -> Issuer:
    return get_object_or_404(Issuer, slug=slug)


@require_GET
@scopes_disabled()
def issuer_profile(request: HttpRequest, slug: str) -> HttpResponse:
    """The issuer as an OB 3.0 Profile, announcing its key set and both status lists."""
    issuer = _issuer(slug)
    numbers = sorted(
        set(StatusList.objects.filter(issuer=issuer).values_list("number", flat=True))
    ) or [0]
    profile = {
        "@context": [*OB3_CONTEXTS[:2], PROFILE_TERMS],
        "id": issuer_url(issuer),
        "type": ["Profile"],
        "name": issuer.name,
        "jwks": f"{issuer_url(issuer)}/jwks.json",
        "revocationStatusLists": [
            status_list_url(issuer, StatusList.Purpose.REVOCATION, n) for n in numbers
        ],
        "suspensionStatusLists": [
            status_list_url(issuer, StatusList.Purpose.SUSPENSION, n) for n in numbers
        ],
    }
    if issuer.website:
        profile["url"] = issuer.website
    if issuer.description:
        profile["description"] = issuer.description
    if issuer.public_email:
        profile["email"] = issuer.public_email
    response = JsonResponse(profile, json_dumps_params={"indent": 2})
    return _public(response, KEYS_MAX_AGE)


@require_GET
@scopes_disabled()
def issuer_jwks_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _public(JsonResponse(issuer_jwks(_issuer(slug))), KEYS_MAX_AGE)


@require_GET
@scopes_disabled()
def issuer_key_view(request: HttpRequest, slug: str, key_id: str) -> HttpResponse:
    """One bare JWK at its ``kid`` URL (the 1EdTech validator expects a JWK, not a set)."""
    key = get_object_or_404(
        SigningKey.objects.select_related("issuer"),
        issuer__slug=slug,
        key_id=key_id,
        state__in=(SigningKey.State.ACTIVE, SigningKey.State.RETIRED),
    )
    return _public(JsonResponse(key_public_jwk(key)), KEYS_MAX_AGE)


@require_GET
@scopes_disabled()
def status_list_view(
    request: HttpRequest, slug: str, purpose: str, number: int = 0
) -> HttpResponse:
    if purpose not in StatusList.Purpose.values:
        raise Http404("Unknown status purpose.")
    published = status_list_published(_issuer(slug), purpose, number)
    if published is None:
        raise Http404("No such status list.")
    response = HttpResponse(published[0], content_type="application/jwt")
    return _public(response, STATUS_LIST_MAX_AGE)


@require_GET
@scopes_disabled()
def credential_view(request: HttpRequest, seal_id: str) -> HttpResponse:
    if not _SEAL_ID.fullmatch(seal_id):
        raise Http404("Unknown seal.")
    seal = get_object_or_404(
        Seal.objects.select_related("issuer", "programme", "member"), public_id=seal_id
    )
    snap = snapshot.get(seal_id)
    if snap is not None and snapshot.is_erased(snap):
        # A fresh credential would name the erased holder; copies already issued still verify
        # offline, and their revocation bit is set.
        response = HttpResponse(
            _("This seal is no longer valid."), status=410, content_type="text/plain; charset=utf-8"
        )
        return _public(response, CREDENTIAL_MAX_AGE)
    response = HttpResponse(credential_jwt(seal), content_type="application/jwt")
    return _public(response, CREDENTIAL_MAX_AGE)


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )


def _token_from(request: HttpRequest) -> str:
    body = request.body.decode("utf-8", errors="replace").strip()
    if request.content_type == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            return ""
        value = data.get("credential") or data.get("jwt") if isinstance(data, dict) else None
        return value if isinstance(value, str) else ""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.POST.get("credential", "")
    return body


@csrf_exempt  # a public, cookie-less API: there is no session for a forged request to ride on
@require_POST
@scopes_disabled()
def verify_credential_view(request: HttpRequest) -> HttpResponse:
    """Verify a posted JWT (raw body, JSON ``{"credential": …}`` or a form field)."""
    # The shared per-network limiter (config/ratelimit.py): verifying costs a signature check.
    wait = ratelimit.retry_after(request, scope="verify-credential")
    if wait is not None:
        return ratelimit.too_many_requests(request, wait)
    if len(request.body) > MAX_TOKEN_BYTES:
        return _problem(413, "Too large", f"A credential is at most {MAX_TOKEN_BYTES} bytes.")
    token = _token_from(request)
    if not token:
        return _problem(
            400, "No credential", 'Send the JWT as the body or as {"credential": "<jwt>"}.'
        )
    result = verify_jwt(token)
    response = JsonResponse(result.as_dict(), json_dumps_params={"indent": 2})
    response["Cache-Control"] = "no-store"
    return response

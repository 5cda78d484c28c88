"""Public, cacheable endpoints for keys, issuer profiles, credentials and status lists.

No authentication, no sessions, no cookies: these answers are the same for everyone, so shared
caches (nginx, a CDN) may keep them for ``max-age``.
"""

from __future__ import annotations

import json
import re

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from config import ratelimit
from config.tenancy import scopes_disabled
from issuers.models import Issuer, Programme
from seals import public_pages, snapshot
from seals.baking import bake_png, bake_svg
from seals.credentials import (
    OB3_CONTEXTS,
    achievement_build,
    credential_data_integrity,
    credential_jwt,
)
from seals.keys import (
    issuer_did,
    issuer_did_document,
    issuer_jwks,
    issuer_url,
    key_public_jwk,
)
from seals.models import SEAL_ID_PATTERN, Seal, SigningKey, StatusList
from seals.render import FORMATS, images
from seals.status_lists import (
    LIST_TTL_MS,
    status_list_data_integrity,
    status_list_published,
    status_list_url,
)
from seals.verdict import verdict_unknown
from seals.verification import verify_document, verify_jwt

KEYS_MAX_AGE = 300
# A list's own `ttl` says how long a verifier may keep it; no HTTP cache may keep it longer.
STATUS_LIST_MAX_AGE = LIST_TTL_MS // 1000
CREDENTIAL_MAX_AGE = 60
MAX_TOKEN_BYTES = 64 * 1024
_SEAL_ID = re.compile(SEAL_ID_PATTERN)

# Media types, each where a spec names one: a credential or status list secured as a JWT is
# `application/vc+jwt` (VC-JOSE-COSE §6.1.1, IANA-registered; the header's `typ` stays "JWT"
# as OB 3.0 §8.2.4 and the 1EdTech validator require), a credential secured by a Data
# Integrity proof `application/vc` (VC Data Model 2.0 §C.1), a DID document with an
# `@context` `application/did+ld+json` (DID Core §6.3.1), a key set and a key
# `application/jwk-set+json` and `application/jwk+json` (RFC 7517 §8.5), a JSON-LD profile or
# achievement `application/ld+json` (JSON-LD 1.1 §C).
VC_JWT = "application/vc+jwt"
VC_JSON_LD = "application/vc"
DID_JSON_LD = "application/did+ld+json"
JWK_SET = "application/jwk-set+json"
JWK = "application/jwk+json"
JSON_LD = "application/ld+json"

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
    # DID Core's own term for "the same subject under another identifier".
    "alsoKnownAs": {
        "@id": "https://www.w3.org/ns/activitystreams#alsoKnownAs",
        "@type": "@id",
        "@container": "@set",
    },
}


# Every view here is public and reads what any issuer published (keys, lists, credentials), found
# by slug or public id: each runs with scopes disabled (config.tenancy).


def _public(response: HttpResponse, max_age: int) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _issuer(slug: str) -> Issuer:
    return get_object_or_404(Issuer, slug=slug)


def _json(data: dict, content_type: str) -> HttpResponse:
    return JsonResponse(data, content_type=content_type, json_dumps_params={"indent": 2})


@require_safe
@scopes_disabled()
def issuer_profile(request: HttpRequest, slug: str) -> HttpResponse:
    """The issuer as an OB 3.0 Profile, announcing its key set and both status lists; to a
    client that prefers HTML over both JSON types (a browser), the issuer's page for people.
    JSON-LD stays the answer to ``*/*`` and to no Accept at all: the Profile is the contract."""
    issuer = _issuer(slug)
    wants_json = request.GET.get("format") == "json"  # the page's own link to the JSON-LD
    if not wants_json and request.get_preferred_type(PROFILE_TYPES) == "text/html":
        response = public_pages.issuer_page(request, issuer)
        patch_vary_headers(response, ("Accept",))
        return _public(response, KEYS_MAX_AGE)
    numbers = sorted(
        set(StatusList.objects.filter(issuer=issuer).values_list("number", flat=True))
    ) or [0]
    profile = {
        "@context": [*OB3_CONTEXTS[:2], PROFILE_TERMS],
        "id": issuer_url(issuer),
        "type": ["Profile"],
        "name": issuer.name,
        "alsoKnownAs": [issuer_did(issuer)],
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
    response = _public(_json(profile, JSON_LD), KEYS_MAX_AGE)
    patch_vary_headers(response, ("Accept",))
    return response


# In the order of preference when the client's Accept ranks them equally (or says */*).
PROFILE_TYPES = [JSON_LD, "application/json", "text/html"]


@require_safe
@scopes_disabled()
def issuer_did_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The DID document ``did:web:<host>:issuers:<slug>`` resolves to (did:web §3.2)."""
    return _public(_json(issuer_did_document(_issuer(slug)), DID_JSON_LD), KEYS_MAX_AGE)


@require_safe
@scopes_disabled()
def achievement_view(request: HttpRequest, slug: str, programme: str) -> HttpResponse:
    """The programme as the OB 3.0 Achievement every credential's achievement ``id`` names."""
    found = get_object_or_404(
        Programme.objects.select_related("issuer"), issuer__slug=slug, slug=programme
    )
    document = {"@context": OB3_CONTEXTS[:2], **achievement_build(found)}
    return _public(_json(document, JSON_LD), KEYS_MAX_AGE)


@require_safe
@scopes_disabled()
def issuer_jwks_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _public(_json(issuer_jwks(_issuer(slug)), JWK_SET), KEYS_MAX_AGE)


@require_safe
@scopes_disabled()
def issuer_key_view(request: HttpRequest, slug: str, key_id: str) -> HttpResponse:
    """One bare JWK at its ``kid`` URL (the 1EdTech validator expects a JWK, not a set)."""
    key = get_object_or_404(
        SigningKey.objects.select_related("issuer"),
        issuer__slug=slug,
        key_id=key_id,
        state__in=(SigningKey.State.ACTIVE, SigningKey.State.RETIRED),
    )
    return _public(_json(key_public_jwk(key), JWK), KEYS_MAX_AGE)


@require_safe
@scopes_disabled()
def status_list_view(
    request: HttpRequest, slug: str, purpose: str, number: int = 0
) -> HttpResponse:
    if purpose not in StatusList.Purpose.values:
        raise Http404("Unknown status purpose.")
    published = status_list_published(_issuer(slug), purpose, number)
    if published is None:
        raise Http404("No such status list.")
    return _public(HttpResponse(published[0], content_type=VC_JWT), STATUS_LIST_MAX_AGE)


@require_safe
@scopes_disabled()
def status_list_data_integrity_view(
    request: HttpRequest, slug: str, purpose: str, number: int = 0
) -> HttpResponse:
    """The same list secured by a Data Integrity proof, for ``credential.json``'s status."""
    if purpose not in StatusList.Purpose.values:
        raise Http404("Unknown status purpose.")
    secured = status_list_data_integrity(_issuer(slug), purpose, number)
    if secured is None:
        raise Http404("No such status list.")
    return _public(_json(secured, VC_JSON_LD), STATUS_LIST_MAX_AGE)


def _seal_for_credential(seal_id: str) -> Seal | HttpResponse:
    """The seal, or the 410 of a seal whose holder's data was erased."""
    if not _SEAL_ID.fullmatch(seal_id):
        raise Http404("Unknown seal.")
    seal = get_object_or_404(
        Seal.objects.select_related("issuer", "programme", "member"), public_id=seal_id
    )
    snap = snapshot.get(seal_id)
    if snap is not None and snap.erased:
        # A fresh credential would name the erased holder; copies already issued still verify
        # offline, and their revocation bit is set.
        response = HttpResponse(
            _("This seal is no longer valid."), status=410, content_type="text/plain; charset=utf-8"
        )
        return _public(response, CREDENTIAL_MAX_AGE)
    return seal


@require_safe
@scopes_disabled()
def credential_view(request: HttpRequest, seal_id: str) -> HttpResponse:
    seal = _seal_for_credential(seal_id)
    if isinstance(seal, HttpResponse):
        return seal
    response = HttpResponse(credential_jwt(seal), content_type=VC_JWT)
    return _public(response, CREDENTIAL_MAX_AGE)


@require_safe
@scopes_disabled()
def credential_data_integrity_view(request: HttpRequest, seal_id: str) -> HttpResponse:
    """The same credential as JSON-LD with an ``eddsa-rdfc-2022`` Data Integrity proof."""
    seal = _seal_for_credential(seal_id)
    if isinstance(seal, HttpResponse):
        return seal
    return _public(_json(credential_data_integrity(seal), VC_JSON_LD), CREDENTIAL_MAX_AGE)


BADGE_SIZE = "large"


def badge_view(request: HttpRequest, seal_id: str, fmt: str) -> HttpResponse:
    """The seal's image baked with its signed credential (OB 3.0 §5.3), to hand to a wallet or
    backpack. The image is the seal card as it is now (the same bytes the image route serves
    at this size, from the same cache); the credential is ``/s/<id>/credential.jwt``."""
    seal = _seal_for_credential(seal_id)
    if isinstance(seal, HttpResponse):
        return seal
    snap = snapshot.get(seal_id)
    if snap is None:
        raise Http404("Unknown seal.")
    now = timezone.now()
    status, day = snap.status_at(now), now.date()
    theme = snap.programme.theme or "light"
    etag = images.image_etag(
        seal_id, snap.digest, status, day, fmt, BADGE_SIZE, theme, get_language()
    )
    image = images.cached_image(
        etag, lambda: images.render_seal(snap, status, day, fmt, BADGE_SIZE, theme)
    )
    bake = bake_png if fmt == "png" else bake_svg
    response = HttpResponse(bake(image, credential_jwt(seal)), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'inline; filename="{seal_id}-badge.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    return _public(response, CREDENTIAL_MAX_AGE)


@require_safe
@scopes_disabled()
def badge_png_view(request: HttpRequest, seal_id: str) -> HttpResponse:
    return badge_view(request, seal_id, "png")


@require_safe
@scopes_disabled()
def badge_svg_view(request: HttpRequest, seal_id: str) -> HttpResponse:
    return badge_view(request, seal_id, "svg")


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _is_json(content_type: str) -> bool:
    return content_type in ("application/json", VC_JSON_LD) or content_type.endswith("+json")


def _credential_from(request: HttpRequest) -> str | dict:
    """What was posted: a compact JWT, or a JSON-LD credential with a Data Integrity proof.

    Accepted as the raw body (``application/jwt``, ``application/vc+jwt``, ``text/plain`` or no
    type), as JSON (``{"credential": …}``, ``{"jwt": …}``, a JSON string, or the secured
    credential itself), or as a form field ``credential`` or ``jwt``. A form whose body is the
    bare JWT (``curl -d @credential.jwt`` sends that with the form type) is read as the raw
    body: a JWT has no ``=`` or ``&``, so it parses as one empty-valued field.
    """
    content_type = request.content_type or ""
    body = request.body.decode("utf-8", errors="replace").strip()
    if _is_json(content_type) or (content_type in ("", "text/plain") and body[:1] in '{"'):
        try:
            data = json.loads(body)
        except ValueError:
            return "" if _is_json(content_type) else body
        if isinstance(data, dict) and "proof" in data:
            return data
        value = data.get("credential") or data.get("jwt") if isinstance(data, dict) else data
        return value if isinstance(value, str | dict) else ""
    if content_type in _FORMS:
        value = request.POST.get("credential") or request.POST.get("jwt")
        if value:
            return value.strip()
        upload = request.FILES.get("credential")
        if upload is not None:
            return upload.read(MAX_TOKEN_BYTES).decode("utf-8", errors="replace").strip()
        return body if _COMPACT_JWS.fullmatch(body) else ""
    return body


# Exempt from CSRF: a public, cookie-less route (there is no session for a forged request to
# ride on), and a read-only check, page or API, that stores nothing.
@csrf_exempt
@scopes_disabled()
def verify_credential_view(request: HttpRequest) -> HttpResponse:
    """``GET``: the page to check a credential by hand. ``POST``: verify a posted credential (a
    JWT or a JSON-LD credential with a Data Integrity proof) and answer JSON, or the page when
    it is that page's form (``?answer=page``, form-encoded or multipart)."""
    if request.method in ("GET", "HEAD"):
        return public_pages.credential_check_page(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    if request.GET.get("answer") == "page" and (request.content_type or "") in _FORMS:
        return public_pages.credential_check_page(request)
    return _verify_credential_api(request)


def _verify_credential_api(request: HttpRequest) -> HttpResponse:
    # The shared per-network limiter (config/ratelimit.py): verifying costs a signature check.
    wait = ratelimit.retry_after(request, scope="verify-credential")
    if wait is not None:
        return ratelimit.too_many_requests(request, wait)
    if len(request.body) > MAX_TOKEN_BYTES:
        return _problem(413, "Too large", f"A credential is at most {MAX_TOKEN_BYTES} bytes.")
    posted = _credential_from(request)
    if not posted:
        return _problem(
            400,
            "No credential",
            'Send the JWT as the body (application/jwt or text/plain), as {"credential": '
            '"<jwt>"}, as the form field credential, or the JSON-LD credential itself.',
        )
    try:
        result = verify_document(posted) if isinstance(posted, dict) else verify_jwt(posted)
    except (OperationalError, InterfaceError):
        # Our keys and lists cannot be read: no check could be finished, so no verdict either
        # way (config/degraded.py would say 503 too, without the verdict).
        detail = "The issuers' keys and status lists cannot be read at the moment; retry shortly."
        response = JsonResponse(
            {"valid": False, "verdict": verdict_unknown(detail).as_dict(), "reason": detail},
            status=503,
        )
        response["Retry-After"] = "5"
        response["Cache-Control"] = "no-store"
        return response
    response = JsonResponse(result.as_dict(), json_dumps_params={"indent": 2})
    response["Cache-Control"] = "no-store"
    return response

"""Public seal surface (DESIGN §4): images, verification page, JSON, embed snippet.

Each view reads like the recipe of STYLE §12: id (already shape-checked by the URL pattern) →
cached snapshot → effective status now → cached bytes → headers. Nothing here touches the
session, the user or the CSRF token, and ``PublicResponseMiddleware`` strips any cookie anyway.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
from dataclasses import dataclass
from datetime import date, datetime

import jwt
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render as render_template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import parse_etags
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from config.problems import problem_response
from config.tenancy import scopes_disabled
from issuers.labels import issuer_kind_word
from seals import history, i18n, page_cache, snapshot, stats
from seals.credentials import status_token
from seals.links import (
    embed_snippet,
    image_url,
    lang_query,
    seal_alt,
    share_links,
    verify_url,
)
from seals.models import Seal, SealStatus
from seals.render import (
    FORMATS,
    MISUSE,
    NO_LONGER_VALID,
    NOT_FOUND,
    SCALES,
    SIZES,
    THEMES,
    Card,
    images,
    render,
)
from seals.render.layout import UNKNOWN, status_words
from seals.shown_on import (
    NOWHERE,
    OURS,
    ShownOn,
    also_ours,
    display_host,
    judge_host,
    judge_origin,
    referer_origin,
)
from seals.snapshot_types import SealSnapshot
from seals.status import effective_status
from seals.verdict import (
    UNKNOWN_SEAL,
    status_verdict_dict,
    verdict_invalid,
    verdict_of_status,
    verdict_unknown,
)

log = logging.getLogger(__name__)

# Any cache may show an answer for at most 60 s, stale copies included (DESIGN §1.1: a
# revocation reaches every visitor within 60 s): max-age, then either stale window.
FRESHNESS_BUDGET = 60
MAX_AGE = 45
STALE = FRESHNESS_BUDGET - MAX_AGE  # stale-while-revalidate and stale-if-error
# The record could not be read: what Django's DB layer raises when PostgreSQL is unreachable
# (config/degraded.py answers the same on every other route).
UNREADABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


# --- bytes: in-process LRU, then the shared cache, then render, keyed by the ETag
# (seals/render/images.py, shared with the write-time pre-render).
_bytes = images.local_bytes
_cached_bytes = images.cached_image
_etag = images.image_etag
_render_seal = images.render_seal


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match ``header`` names ``etag`` (the weak comparison, RFC 9110
    §13.1.2)."""
    if not header:
        return False
    tags = {t.removeprefix("W/") for t in parse_etags(header)}
    return "*" in tags or etag in tags


def _not_modified(request: HttpRequest, etag: str) -> bool:
    return etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), etag)


DAY = 86_400  # POSIX days (UTC) have no leap seconds


def _freshness_budget(now: datetime, next_change: datetime | None) -> int:
    """How long any cache may show an answer given at ``now``, stale copies included: ≤ 60 s,
    and over before the next scheduled change and before midnight UTC (the date is drawn).

    Counted in whole seconds as caches count: nginx stores ``valid_sec = <its now, in
    seconds> + max-age`` and keeps serving the entry until its clock passes that second
    (``valid_sec < now``), so max-age=40 given at 12:00:00.000 is served until 12:00:40.999.
    Counting from the start of the current second and leaving out the last keeps a scheduled
    change exactly on time at the edge (tests/deploy/test_edge_cache.py shows nginx doing so).
    Plain integer arithmetic: this runs on every replayed hit (fastpath/replay.py).
    """
    start = math.floor(now.timestamp())
    budget = min(FRESHNESS_BUDGET, DAY - start % DAY - 1)
    if next_change is not None:
        budget = min(budget, math.floor(next_change.timestamp()) - start - 1)
    return max(0, budget)


def cache_control(now: datetime, next_change: datetime | None) -> str:
    """max-age + either stale window ≤ the budget: a cache honouring stale-while-revalidate or
    stale-if-error (the edge does, deploy/nginx/seal-cache.conf) may show the old answer until
    max-age + that window, never past a scheduled change. Both stay present, at 0 if need be,
    so a CDN's own default never fills the gap."""
    budget = _freshness_budget(now, next_change)
    age = min(MAX_AGE, budget)
    stale = min(STALE, budget - age)
    return f"public, max-age={age}, stale-while-revalidate={stale}, stale-if-error={stale}"


def _finish(response: HttpResponse, *, cors: bool = True) -> HttpResponse:
    if cors:
        response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    if not isinstance(response, HttpResponseNotModified):
        response["Content-Length"] = str(len(response.content))
    return response


# --- images ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageBasis:
    """What a seal image answer rests on besides the request and the clock: while the seal's
    snapshot has this digest and this effective status on this day, the same request gets the
    same answer (``fastpath.replay`` relies on it). ``counted``: the kinds the view counted;
    ``host``: the foreign host it counted them for ("" for none)."""

    seal_id: str
    digest: str
    status: str
    day: date
    counted: tuple[str, ...]
    host: str = ""


class SealImageResponse(HttpResponse):
    """A seal image, marked with what it rests on (fastpath.replay learns it by this)."""

    image_basis: ImageBasis


class SealImageNotModified(HttpResponseNotModified):
    """The 304 of a seal image, marked the same way."""

    image_basis: ImageBasis


def _image_params(request: HttpRequest) -> tuple[str, str, str, int]:
    # Unknown values fall back to the defaults: an embedding page never gets a broken image.
    size = request.GET.get("size", "medium")
    theme = request.GET.get("theme", "")
    scale = request.GET.get("scale", "1")
    return (
        size if size in SIZES else "medium",
        theme if theme in THEMES else "",
        request.GET.get("d", "")[:253],
        int(scale) if scale in _SCALES else 1,
    )


_SCALES = {str(k) for k in SCALES}


_not_found_cache: dict[tuple[str, str, str, str, int], bytes] = {}


def _not_found_image(fmt: str, size: str, theme: str, scale: int = 1) -> HttpResponse:
    key = (fmt, size, theme, get_language(), scale)
    body = _not_found_cache.get(key)
    if body is None:
        body = render(Card(state=NOT_FOUND), fmt=fmt, size=size, theme=theme, scale=scale)
        _not_found_cache[key] = body
    response = HttpResponse(body, content_type=FORMATS[fmt], status=404)
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return _finish(response)


_unknown_cache: dict[tuple[str, str, str, str], bytes] = {}


def _unknown_image(fmt: str, size: str, theme: str) -> HttpResponse:
    """The neutral "status unknown" seal while the record cannot be read: an image (never a
    broken one, never "valid"), 503 with Retry-After, and stored by no cache, so the real
    answer is back the moment the database is."""
    key = (fmt, size, theme, get_language())
    body = _unknown_cache.get(key)
    if body is None:
        body = _unknown_cache[key] = render(Card(state=UNKNOWN), fmt=fmt, size=size, theme=theme)
    response = HttpResponse(body, content_type=FORMATS[fmt], status=503)
    response["Cache-Control"] = "no-store"
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return _finish(response)


def seal_image(request: HttpRequest, seal_id: str, fmt: str) -> HttpResponse:
    size, theme, host, scale = _image_params(request)
    try:
        snap = snapshot.get(seal_id)
    except UNREADABLE:
        log.warning("seal %s unreadable; answering 'status unknown'", seal_id)
        return _unknown_image(fmt, size, theme or "light")
    if snap is None:
        return _not_found_image(fmt, size, theme or "light", scale)
    counted: tuple[str, ...]  # the kinds of hit this answer counts (none for an erased seal)
    site = NOWHERE  # where the seal is shown (seals.shown_on)
    now = timezone.now()
    theme = theme or snap.programme.theme or "light"
    day = now.date()
    status = snap.status_at(now)
    if snap.erased:
        # Its holder's data was erased: a card naming nobody, and nothing counted.
        state, counted = NO_LONGER_VALID, ()
    else:
        site = shown_on(request, host, snap.member.domains)
        misuse = site.foreign
        # The misuse card replaces only a seal that would look valid: a revoked, suspended,
        # expired or pending one shows that, wherever it is shown (it is still counted).
        state = MISUSE if misuse and status == SealStatus.ACTIVE else status
        counted = (stats.IMPRESSION, stats.MISUSE) if misuse else (stats.IMPRESSION,)
        if site.own:
            # Shown on one of this service's own pages (the verification page's badge, the
            # embed preview, console and portal): nobody saw it on a site, nothing counted.
            # The replay repeats ``counted`` and the edge keys on the Referer's origin, so
            # neither counts it either.
            counted = ()
        else:
            stats.count(seal_id, *counted, day=day, host=site.host)
    shown = images.variant(fmt, size, scale)
    # The misuse card names the site it is shown on: its recorded host (IDNA, never a path),
    # drawn in Unicode. An address or a name that is no hostname is recorded as nothing, so
    # it is drawn as nothing too: no image, cache key or ETag ever holds an IP address.
    drawn_site = display_host(site.host) if state == MISUSE and site.host else ""
    # The site is a part of the ETag (and so of the cache key) only when one is drawn, so the
    # other answers keep the ETag the prerender and the baked badge compute for them.
    named = (drawn_site,) if drawn_site else ()
    etag = _etag(seal_id, snap.digest, state, day, shown, size, theme, get_language(), *named)
    if _not_modified(request, etag):
        response: SealImageResponse | SealImageNotModified = SealImageNotModified()
    else:
        body = _cached_bytes(
            etag,
            lambda: _render_seal(snap, state, day, fmt, size, theme, scale, drawn_site),
        )
        response = SealImageResponse(body, content_type=FORMATS[fmt])
    response["ETag"] = etag
    response["Cache-Control"] = cache_control(now, snap.next_change(now))
    # Tags for a CDN purge by seal (every cached variant of one seal dropped at once): Fastly
    # reads Surrogate-Key, Cloudflare Cache-Tag.
    response["Surrogate-Key"] = response["Cache-Tag"] = f"seal-{seal_id}"
    # The answer depends on the referring site (shown_on): a shared cache that cannot key on
    # the Referer's origin as the edge does (deploy/nginx/seal-referer.conf) must not hand one
    # site's answer to another. The edge ignores this header and keys on the origin instead.
    response["Vary"] = "Referer"
    response.image_basis = ImageBasis(
        seal_id, snap.digest, status, day, counted, site.host if counted else ""
    )
    return _finish(response)


def shown_on(request: HttpRequest, d: str, domains: tuple[str, ...] | list[str]) -> ShownOn:
    """Where this request shows the seal (seals.shown_on): its Referer's origin, then ``d``.
    Without a Referer nothing about the request's host is read (the common case, cheapest)."""
    origin = referer_origin(request.META.get("HTTP_REFERER", ""))
    if origin:
        by_referer = judge_origin(
            origin, domains, request_host=request.get_host(), scheme=request.scheme or "http"
        )
        if by_referer.foreign:
            return by_referer
        if by_referer.own:
            return also_ours(judge_host(d, domains), True) if d else OURS
    return judge_host(d, domains) if d else NOWHERE


@i18n.speaks_query_language
def seal_svg(request: HttpRequest, seal_id: str) -> HttpResponse:
    return seal_image(request, seal_id, "svg")


@i18n.speaks_query_language
def seal_png(request: HttpRequest, seal_id: str) -> HttpResponse:
    return seal_image(request, seal_id, "png")


@i18n.speaks_query_language
def seal_image_malformed(request: HttpRequest, fmt: str) -> HttpResponse:
    """An image URL whose id is not the shape of a seal id (a truncated or mangled embed): the
    neutral "seal not found" image with its 404, so the embedding page shows no broken image.
    Nothing is looked up: the id is never read."""
    size, theme, _host, scale = _image_params(request)
    return _not_found_image(fmt, size, theme or "light", scale)


# --- JSON -----------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _status_token(snap: SealSnapshot, now: datetime) -> str | None:
    """The short-lived signed status token (``seals.credentials.status_token``), kept in the
    cache for half its remaining life so a warm JSON read needs no database query."""
    key = f"pub:tok:{snap.public_id}:{snap.digest}"
    try:
        hit = cache.get(key)
    except Exception:
        hit = None
    if hit is not None and hit[1] == snap.status_at(now):
        return hit[0]
    with scopes_disabled():  # the seal of a public id, signed with its issuer's key
        seal = Seal.objects.select_related("issuer", "member", "programme").get(pk=snap.pk)
        try:
            token = status_token(seal, now)
        except Exception:
            # The record itself is still the truth; a token can be fetched again later.
            log.exception("status token unavailable for seal %s", snap.public_id)
            return None
    try:
        exp = jwt.decode(token, options={"verify_signature": False})["exp"]
        ttl = int((exp - now.timestamp()) / 2)
        if ttl > 0:
            cache.set(key, (token, snap.status_at(now)), min(ttl, MAX_AGE))
    except Exception:
        log.debug("status token not cached", exc_info=True)
    return token


def public_document(snap: SealSnapshot, now: datetime) -> dict:
    """The stable JSON shape of ``/verify/<id>.json`` (docs/public.md)."""
    if snap.erased:
        return _no_longer_valid_document(snap, now)
    issuer, programme, member = snap.issuer, snap.programme, snap.member
    next_change = snap.next_change(now)
    status = snap.status_at(now)
    return {
        "seal_id": snap.public_id,
        "status": status,
        "verdict": status_verdict_dict(status),
        "valid_from": _iso(snap.valid_from),
        "expires_at": _iso(snap.expires_at),
        "status_changed_at": _iso(snap.status_changed_at),
        "next_change_at": _iso(next_change),
        "checked_at": _iso(now.replace(microsecond=0)),
        "issuer": {
            "slug": issuer.slug,
            "name": issuer.name,
            "kind": issuer.kind,
            "website": issuer.website or None,
            "chain_head": issuer.chain_head,
            "chain_length": issuer.chain_length,
        },
        "programme": {
            "slug": programme.slug,
            "name": programme.name,
            "criteria_url": programme.criteria_url or None,
        },
        "member": {
            "display_name": member.display_name,
            "legal_name": member.legal_name,
            "domains": list(member.domains),
            "country": member.country or None,
        },
        "history": [{"kind": e.kind, "at": _iso(e.at)} for e in snap.history],
        "links": {
            "verification_page": f"{settings.PUBLIC_BASE_URL}/verify/{snap.public_id}",
            "image_svg": f"{settings.PUBLIC_BASE_URL}/s/{snap.public_id}.svg",
            "image_png": f"{settings.PUBLIC_BASE_URL}/s/{snap.public_id}.png",
            **_credential_links(snap),
        },
        # Both W3C BitstringStatusListEntry objects (revocation, suspension; same index): the
        # credential can carry only the revocation one (OB 3.0), so suspension is announced here.
        "credential_status": snapshot.status_entries_of(snap),
        "status_token": _status_token(snap, now),
    }


def _no_longer_valid_document(snap: SealSnapshot, now: datetime) -> dict:
    """The same keys, emptied: after an erasure the answer says only that the seal is no longer
    valid. No issuer, status list entry or status token either: each names the issuer,
    and with it the seal's former holder's membership."""
    return {
        "seal_id": snap.public_id,
        "status": snap.status_at(now),
        "verdict": status_verdict_dict(snap.status_at(now)),
        "detail": _("This seal is no longer valid."),
        "valid_from": None,
        "expires_at": None,
        "status_changed_at": None,
        "next_change_at": None,
        "checked_at": _iso(now.replace(microsecond=0)),
        "issuer": None,
        "programme": None,
        "member": None,
        "history": [],
        "links": {"verification_page": f"{settings.PUBLIC_BASE_URL}/verify/{snap.public_id}"},
        "credential_status": [],
        "status_token": None,
    }


def _json_response(data: dict, status: int = 200) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return HttpResponse(body, status=status, content_type="application/json")


def _unknown_json(request: HttpRequest) -> HttpResponse:
    """The 503 problem+json every route gives while the database is away (config/degraded.py),
    with the verdict as an extension member: ``unknown``, so no reader takes it for either."""
    detail = _("The seal's record cannot be read at the moment; retry shortly.")
    response = problem_response(
        request,
        status_code=503,
        code="service_unavailable",
        detail=detail,
        retry_after=RETRY_AFTER_SECONDS,
        verdict=verdict_unknown(detail).as_dict(),
    )
    response["Cache-Control"] = "no-store"
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return _finish(response)


def verify_json(request: HttpRequest, seal_id: str) -> HttpResponse:
    # The query string first: parsing an empty one into request.GET costs the hot path ~9 µs.
    if request.META.get("QUERY_STRING") and "at" in request.GET:
        return verify_at_json(request, seal_id)
    return _plain_json(request, seal_id)


def _plain_json(request: HttpRequest, seal_id: str) -> HttpResponse:
    try:
        snap = snapshot.get(seal_id)
    except UNREADABLE:
        log.warning("seal %s unreadable; answering 'unknown'", seal_id)
        return _unknown_json(request)
    if snap is None:
        response = _json_response(
            {
                "error": "not_found",
                "detail": _("Seal not found."),
                "verdict": verdict_invalid(UNKNOWN_SEAL).as_dict(),
            },
            404,
        )
        response["Cache-Control"] = f"public, max-age={MAX_AGE}"
        return _finish(response)
    now = timezone.now()
    if not snap.erased:
        # A verification view like the page's (docs/api.md §8); no Referer check: the JSON
        # says nothing about the site it is fetched for.
        stats.count(seal_id, stats.VIEW, day=now.date())
    data = public_document(snap, now)
    response = _json_response(data)
    etag = _etag(hashlib.blake2b(response.content, digest_size=16).hexdigest())
    if _not_modified(request, etag):
        response = HttpResponseNotModified()
    response["ETag"] = etag
    response["Cache-Control"] = cache_control(now, snap.next_change(now))
    response["Surrogate-Key"] = response["Cache-Tag"] = f"seal-{seal_id}"
    return _finish(response)


# --- historical answers (?at=) ---------------------------------------------------------------
class _AtRefused(Exception):
    """The answer for ``?at=`` is a plain response already (bad input, unknown, erased)."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _at_answer(request: HttpRequest, seal_id: str, page: bool) -> tuple[dict, datetime]:
    """The historical document (seals.history) for ``?at=``, or _AtRefused with the answer for
    a malformed time (400, plain words), an unknown seal (404) or an erased one (its plain
    "no longer valid" answer: the history of an erased holder is not shown)."""
    now = timezone.now()
    try:
        at = history.parse_at(request.GET.get("at", ""))
    except history.BadMoment as exc:
        if page:
            raise _AtRefused(
                _page_response(request, "seals/bad_moment.html", {"detail": str(exc)}, 400)
            ) from exc
        body = {"error": "bad_request", "detail": str(exc)}
        raise _AtRefused(_finish(_json_response(body, 400))) from exc
    try:
        snap = snapshot.get(seal_id)
    except UNREADABLE as exc:
        raise _AtRefused(_unknown_page(request) if page else _unknown_json(request)) from exc
    if snap is None or snap.erased:
        plain = _plain_page if page else _plain_json
        raise _AtRefused(plain(request, seal_id))
    with scopes_disabled():
        seal = Seal.objects.select_related("issuer").get(pk=snap.pk)
        return history.at_document(seal, at, now=now), now


def _at_cache_control(document: dict) -> str:
    # A past moment's answer never changes (the chain only grows); its proofs are against the
    # checkpoint of now, so the answer is kept as briefly as the plain one. A moment still to
    # come is answered again each time.
    if document["answer"] == history.FUTURE:
        return "no-store"
    return f"public, max-age={MAX_AGE}"


def verify_at_json(request: HttpRequest, seal_id: str) -> HttpResponse:
    try:
        document, _now = _at_answer(request, seal_id, page=False)
    except _AtRefused as refused:
        return refused.response
    response = _json_response(document)
    response["Cache-Control"] = _at_cache_control(document)
    return _finish(response)


def verify_at_page(request: HttpRequest, seal_id: str) -> HttpResponse:
    try:
        document, now = _at_answer(request, seal_id, page=True)
    except _AtRefused as refused:
        return refused.response
    words = status_words()
    context = {
        "doc": document,
        "at": history.parse_at(document["at"]),
        "status_word": words.get(document["status"] or "", ""),
        "events": [
            {**e, "at": datetime.fromisoformat(e["at"]), "label": i18n.event_word(e["kind"])}
            for e in document["events"]
        ],
        "json_url": f"/verify/{seal_id}.json?at={document['at']}",
        "plain_url": f"/verify/{seal_id}",
        "checked_at": now,
    }
    return _page_response(request, "seals/verify_at.html", context)


# --- verification page ----------------------------------------------------------------------
def _credential_links(snap: SealSnapshot) -> dict[str, str]:
    """Links to the credential (JWT, Data Integrity, baked badges) and the issuer's keys and
    DID document, only when those routes are installed."""
    from django.urls import NoReverseMatch, reverse

    links = {}
    seal, issuer = {"seal_id": snap.public_id}, {"slug": snap.issuer.slug}
    for name, route, kwargs in (
        ("credential", "seal-credential", seal),
        ("credential_data_integrity", "seal-credential-di", seal),
        ("badge_png", "seal-badge-png", seal),
        ("badge_svg", "seal-badge-svg", seal),
        ("issuer_keys", "issuer-jwks", issuer),
        ("issuer_did", "issuer-did", issuer),
        ("verification_bundle", "seal-verify-bundle", seal),
    ):
        try:
            links[name] = settings.PUBLIC_BASE_URL + reverse(route, kwargs=kwargs)
        except NoReverseMatch:
            continue
    return links


_CSS_PATH = settings.BASE_DIR / "seals" / "static" / "seals" / "verify.css"


def _css() -> tuple[str, str]:
    css = _CSS_PATH.read_text()
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, f"'sha256-{digest}'"


_STYLE = _css()
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src {style}; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
CSP_HEADER = CSP.format(style=_STYLE[1])
# Pages with a form (report misuse, check a credential) post to this site only.
FORM_CSP_HEADER = CSP_HEADER.replace("form-action 'none'", "form-action 'self'")


def _page_response(request: HttpRequest, template: str, context: dict, status: int = 200):
    response = render_template(request, template, {**context, "css": _STYLE[0]}, status=status)
    return _page_headers(response)


def _page_headers(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CSP_HEADER
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    # The page depends on Referer (misuse warning) and the time: no shared caching.
    response["Cache-Control"] = "private, no-cache"
    return _finish(response, cors=False)


@i18n.speaks_page_language
def verify_page(request: HttpRequest, seal_id: str) -> HttpResponse:
    if "at" in request.GET:
        return verify_at_page(request, seal_id)
    return _plain_page(request, seal_id)


def _plain_page(request: HttpRequest, seal_id: str) -> HttpResponse:
    try:
        snap = snapshot.get(seal_id)
    except UNREADABLE:
        log.warning("seal %s unreadable; answering 'status unknown'", seal_id)
        return _unknown_page(request)
    if snap is None:
        return _page_response(request, "seals/not_found.html", {}, status=404)
    now = timezone.now()
    if snap.erased:
        return no_longer_valid_page(request, seal_id, now)
    status = snap.status_at(now)
    shown = shown_on(request, "", snap.member.domains)
    misuse_host = shown.name if shown.foreign else ""
    stats.count(
        seal_id,
        *((stats.VIEW, stats.MISUSE) if shown.foreign else (stats.VIEW,)),
        day=now.date(),
        host=shown.host,
    )
    if misuse_host:
        # Never kept (seals/page_cache.py): the warning names a host the visitor's Referer chose.
        context = _verify_context(seal_id, snap, status, misuse_host)
        context.update(page_cache.checked_strings(now))
        return _page_response(request, "seals/verify.html", context)
    body = page_cache.render_page(
        request,
        "seals/verify.html",
        # Built only when the page is not kept: the logo read and the history are miss work.
        lambda: {**_verify_context(seal_id, snap, status, ""), "css": _STYLE[0]},
        key=page_cache.page_key(seal_id, snap, status),
        now=now,
    )
    return _page_headers(HttpResponse(body, content_type="text/html; charset=utf-8"))


def _unknown_page(request: HttpRequest) -> HttpResponse:
    response = _page_response(request, "seals/unknown.html", {}, status=503)
    response["Cache-Control"] = "no-store"
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _verify_context(seal_id: str, snap: SealSnapshot, status: str, misuse_host: str) -> dict:
    logo = snapshot.logo(snap)
    return {
        "snap": snap,
        "status": status,
        "status_word": status_words()[status],
        "verdict": verdict_of_status(status),
        "icon": {"active": "✓", "pending": "◷", "expired": "⧗", "suspended": "Ⅱ", "revoked": "✕"}[
            status
        ],
        "issuer_kind": issuer_kind_word(snap.issuer.kind),
        "logo_data": base64.b64encode(logo).decode() if logo else "",
        "misuse_host": misuse_host,
        "history": [{"at": e.at, "label": i18n.event_word(e.kind)} for e in snap.history],
        "links": _credential_links(snap),
        "json_url": f"/verify/{seal_id}.json",
        "badge": _badge(seal_id),
        "share": share_links(
            page_url=f"{settings.PUBLIC_BASE_URL}/verify/{seal_id}",
            seal_id=seal_id,
            title=snap.programme.name,
            issuer_name=snap.issuer.name,
            issued=snap.valid_from,
            expires=snap.expires_at,
        ),
        "lang_suffix": _lang_suffix(),
    }


def _lang_suffix() -> str:
    """``?lang=xx`` for links to the other public pages, so they speak the page's language."""
    lang = get_language() or settings.LANGUAGE_CODE
    return "" if lang == settings.LANGUAGE_CODE else f"?lang={lang}"


def _badge(seal_id: str) -> dict[str, str | int]:
    """The seal image as the embed snippet shows it (seals.links.embed_snippet): the PNG with
    its 2x and 3x drawings in a srcset, in the page's language."""
    width, height = SIZES[BADGE_SIZE]
    lang = get_language() or settings.LANGUAGE_CODE
    base = f"/s/{seal_id}.png?size={BADGE_SIZE}" + (
        f"&lang={lang}" if lang != settings.LANGUAGE_CODE else ""
    )
    srcset = ", ".join(f"{base}&scale={k} {k}x" for k in SCALES if k != 1)
    return {"src": base, "srcset": f"{base} 1x, {srcset}", "width": width, "height": height}


BADGE_SIZE = "large"


def no_longer_valid_page(
    request: HttpRequest, seal_id: str, now: datetime, status: int = 200
) -> HttpResponse:
    """The page of a seal whose holder's data was erased: its state, its id, nothing more."""
    return _page_response(
        request,
        "seals/no_longer_valid.html",
        {"seal_id": seal_id, "checked_at": now},
        status=status,
    )


# --- embed ----------------------------------------------------------------------------------
@i18n.speaks_page_language
@scopes_disabled()  # a public id names one seal among every issuer's
def embed(request: HttpRequest, seal_id: str) -> HttpResponse:
    snap = snapshot.get(seal_id)
    if snap is not None and snap.erased:
        # Nothing left to embed; the snippet's alt text would name the former holder.
        return no_longer_valid_page(request, seal_id, timezone.now(), status=410)
    seal = (
        Seal.objects.select_related("issuer", "member", "programme")
        .filter(public_id=seal_id)
        .first()
    )
    if seal is None:
        return _page_response(request, "seals/not_found.html", {}, status=404)
    state = effective_status(seal, timezone.now())
    if state not in EMBEDDABLE:
        return _not_embeddable(request, seal_id, state)
    size = request.GET.get("size", "medium")
    size = size if size in SIZES else "medium"
    lang = i18n.query_language(request)
    snippet = embed_snippet(seal, size=size, lang=lang)
    script = script_snippet(seal, size, lang=lang)
    if request.GET.get("format") == "text":
        response = HttpResponse(snippet, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = f"public, max-age={MAX_AGE}"
        return _finish(response)
    return _page_response(
        request,
        "seals/embed.html",
        {
            "snippet": snippet,
            "script_snippet": script,
            "seal_id": seal_id,
            "size": size,
            "sizes": SIZES,
        },
    )


# A pending seal may be placed before its start date (it shows "Not yet valid" until then); a
# suspended, expired or revoked one would only put a "not valid" seal on the member's site.
EMBEDDABLE = frozenset({SealStatus.ACTIVE, SealStatus.PENDING})


def _not_embeddable(request: HttpRequest, seal_id: str, state: str) -> HttpResponse:
    """No snippet for a seal that is not valid: the page says why and links its verification
    page; the plain-text form (for tools) is a 409 with the same sentence."""
    message = _(
        "This seal is not valid at the moment (%(status)s), so there is no snippet to "
        "embed: a seal on a website must show a valid membership."
    ) % {"status": status_words()[state]}
    if request.GET.get("format") == "text":
        response = HttpResponse(message, content_type="text/plain; charset=utf-8", status=409)
        response["Cache-Control"] = "no-cache"
        return _finish(response)
    return _page_response(
        request, "seals/embed.html", {"not_embeddable": message, "seal_id": seal_id}
    )


def script_snippet(seal: Seal, size: str, *, lang: str | None = None) -> str:
    """The optional variant: adds ``?d=<location.hostname>`` so a copied snippet shows as
    misuse on a foreign site. The script runs on the member's page, never on ours."""
    width, height = SIZES[size]
    element_id = f"trustseal-{seal.public_id}"
    alt = seal_alt(seal, lang)
    return format_html(
        '<a href="{}" target="_blank" rel="noopener"><img id="{}" src="{}?size={}" width="{}" '
        'height="{}" alt="{}"></a>\n<script>(function(i){{i.src+="&d="+'
        'encodeURIComponent(location.hostname)}})(document.getElementById("{}"));</script>',
        verify_url(seal) + lang_query(lang, first=True),
        element_id,
        image_url(seal),
        size + lang_query(lang),
        width,
        height,
        alt,
        element_id,
    )

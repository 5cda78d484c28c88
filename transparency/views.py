"""The log's public routes: checkpoint, verifier key, proofs, tiles and entry bundles.

No authentication, no cookies, the same answer for everyone. The checkpoint changes (a few
seconds of cache); a full tile or bundle never does, and a partial one of a given width does
not either (its hashes are fixed by the leaves it covers), so both are cacheable for a year.
Everything served is bounded by the latest signed checkpoint: nothing past what the log has
committed to is shown.
"""

from __future__ import annotations

import base64
import json
import math
import re

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_safe

from config.problems import problem_response
from config.tenancy import scopes_disabled
from issuers.models import Issuer
from transparency import merkle
from transparency.bundle import BundleUnavailable, verification_bundle
from transparency.models import LogCheckpoint, LogLeaf
from transparency.selectors import (
    TILE_HEIGHT,
    TILE_WIDTH,
    StoredTree,
    checkpoint_latest,
    entry_bundle,
    tile_hashes,
)
from transparency.services import log_key_active, log_verifier_key

CHECKPOINT_MAX_AGE = 5  # tlog-tiles: the checkpoint is mutable, cache a few seconds at most
KEY_MAX_AGE = 300
PROOF_MAX_AGE = 60
# A bundle holds the status lists as served: no cache keeps it longer than a list may be kept
# (seals.credential_views.STATUS_LIST_MAX_AGE), nor past the seal's next scheduled change.
BUNDLE_MAX_AGE = 20
IMMUTABLE = "public, max-age=31536000, immutable"
MAX_TILE_LEVEL = 63
# The tile index's path: x-prefixed 3-digit elements, then the last 3 digits (tlog-tiles).
TILE_INDEX = r"(?:x[0-9]{3}/)*[0-9]{3}"
_INDEX = re.compile(TILE_INDEX)


class BadQuery(ValueError):
    pass


def _public(response: HttpResponse, cache_control: str) -> HttpResponse:
    response["Cache-Control"] = cache_control
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _latest(slug: str) -> tuple[Issuer, LogCheckpoint]:
    issuer = get_object_or_404(Issuer.objects.only("id", "slug"), slug=slug)
    checkpoint = checkpoint_latest(issuer.pk)
    if checkpoint is None:
        raise Http404("This issuer's log has no checkpoint yet.")
    return issuer, checkpoint


def _int(request: HttpRequest, name: str, default: int | None = None) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadQuery(f"The query parameter '{name}' is required.")
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise BadQuery(f"'{name}' must be a non-negative integer, not {raw[:40]!r}.")
    return int(raw)


def _bad(request: HttpRequest, detail: str) -> HttpResponse:
    response = problem_response(request, status_code=400, code="validation_error", detail=detail)
    return _public(response, "no-store")


def _root(size: int, latest: LogCheckpoint, tree: StoredTree) -> bytes:
    if size == latest.size:
        return bytes(latest.root_hash)
    return merkle.root_hash(size, tree.perfect)


@require_safe
@scopes_disabled()
def checkpoint_view(request: HttpRequest, slug: str) -> HttpResponse:
    _, checkpoint = _latest(slug)
    response = HttpResponse(checkpoint.note, content_type="text/plain; charset=utf-8")
    return _public(response, f"public, max-age={CHECKPOINT_MAX_AGE}")


@require_safe
@scopes_disabled()
def key_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The checkpoints' verifier key, ``<name>+<key ID>+<base64(0x01 || key)>``."""
    issuer = get_object_or_404(Issuer.objects.only("id", "slug"), slug=slug)
    key = log_key_active(issuer)
    if key is None:
        raise Http404("This issuer's log has no key yet.")
    response = HttpResponse(log_verifier_key(key) + "\n", content_type="text/plain; charset=utf-8")
    return _public(response, f"public, max-age={KEY_MAX_AGE}")


@require_safe
@scopes_disabled()
def inclusion_view(request: HttpRequest, slug: str) -> HttpResponse:
    """``?leaf=<index>&size=<n>`` (size: the latest checkpoint's by default)."""
    issuer, latest = _latest(slug)
    try:
        index = _int(request, "leaf")
        size = _int(request, "size", latest.size)
        if size > latest.size:
            raise BadQuery(f"size {size} is past the latest checkpoint ({latest.size} leaves).")
        if index >= size:
            raise BadQuery(f"leaf {index} is not in a tree of {size} leaves (indices from 0).")
    except BadQuery as exc:
        return _bad(request, str(exc))
    tree = StoredTree(issuer.pk)
    leaf = LogLeaf.objects.get(issuer_id=issuer.pk, index=index)
    body = {
        "leaf_index": index,
        "tree_size": size,
        "leaf": _b64(bytes(leaf.data)),
        "leaf_hash": _b64(bytes(leaf.hash)),
        "root_hash": _b64(_root(size, latest, tree)),
        "proof": [_b64(h) for h in merkle.inclusion_proof(index, size, tree.perfect)],
    }
    return _public(JsonResponse(body), f"public, max-age={PROOF_MAX_AGE}")


@require_safe
@scopes_disabled()
def consistency_view(request: HttpRequest, slug: str) -> HttpResponse:
    """``?from=<m>&to=<n>``, 1 <= m <= n (to: the latest checkpoint's size by default)."""
    issuer, latest = _latest(slug)
    try:
        old = _int(request, "from")
        new = _int(request, "to", latest.size)
        if new > latest.size:
            raise BadQuery(f"to={new} is past the latest checkpoint ({latest.size} leaves).")
        if not 1 <= old <= new:
            raise BadQuery(
                f"from={old} must be at least 1 and at most to={new} (every tree extends the "
                "empty one; no proof is needed for it)."
            )
    except BadQuery as exc:
        return _bad(request, str(exc))
    tree = StoredTree(issuer.pk)
    body = {
        "from": old,
        "to": new,
        "from_root_hash": _b64(_root(old, latest, tree)),
        "to_root_hash": _b64(_root(new, latest, tree)),
        "proof": [_b64(h) for h in merkle.consistency_proof(old, new, tree.perfect)],
    }
    return _public(JsonResponse(body), f"public, max-age={PROOF_MAX_AGE}")


def _tile_index(path: str) -> int:
    parts = path.split("/")
    return int("".join(p.lstrip("x") for p in parts))


def _width(level: int, index: int, width: str | None, size: int) -> int:
    """The tile's width if the latest checkpoint covers it, else 404 (tlog-tiles: no empty
    tile, no partial tile wider than the tree)."""
    wide = int(width) if width is not None else TILE_WIDTH
    available = (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH
    if wide > available or (width is not None and wide >= TILE_WIDTH):
        raise Http404("No such tile in the latest checkpoint's tree.")
    return wide


@require_safe
@scopes_disabled()
def tile_view(
    request: HttpRequest, slug: str, level: str, index: str, width: str | None = None
) -> HttpResponse:
    issuer, latest = _latest(slug)
    tile_level = int(level)
    if tile_level > MAX_TILE_LEVEL or not _INDEX.fullmatch(index):
        raise Http404("No such tile.")
    tile_index = _tile_index(index)
    wide = _width(tile_level, tile_index, width, latest.size)
    data = tile_hashes(issuer.pk, level=tile_level, index=tile_index, width=wide)
    return _public(HttpResponse(data, content_type="application/octet-stream"), IMMUTABLE)


@require_safe
@scopes_disabled()
def entries_view(
    request: HttpRequest, slug: str, index: str, width: str | None = None
) -> HttpResponse:
    issuer, latest = _latest(slug)
    tile_index = _tile_index(index)
    wide = _width(0, tile_index, width, latest.size)
    data = entry_bundle(issuer.pk, index=tile_index, width=wide)
    return _public(HttpResponse(data, content_type="application/octet-stream"), IMMUTABLE)


@require_safe
def bundle_view(request: HttpRequest, seal_id: str) -> HttpResponse:
    """``/verify/<id>/bundle.json``: the seal's offline verification bundle
    (transparency.bundle)."""
    now = timezone.now()
    try:
        bundle = verification_bundle(seal_id, now=now)
    except BundleUnavailable as exc:
        status, code, detail = (
            (410, "gone", "This seal is no longer valid.")
            if exc.gone
            else (404, "not_found", "Seal not found.")
        )
        response = problem_response(request, status_code=status, code=code, detail=detail)
        return _public(response, f"public, max-age={BUNDLE_MAX_AGE}")
    max_age = BUNDLE_MAX_AGE
    if bundle.next_change is not None:
        max_age = max(0, min(max_age, math.floor((bundle.next_change - now).total_seconds()) - 1))
    body = json.dumps(bundle.document, indent=2, ensure_ascii=False).encode()
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="seal-{seal_id}-bundle.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return _public(response, f"public, max-age={max_age}")

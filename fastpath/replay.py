"""Seal image cache hits answered before Django's handler, by replaying Django's own answer.

Why: on a hit the view's work is ~10 % of the request; the rest is Django's handler around it
(URL resolving, request and response objects, the middlewares, request signals, the i18n
wrapper): ~120 µs of CPU against ~40 µs for a bare Django view (docs/performance.md).
No amount of tuning inside the view reaches the bare-Django floor from there.

How, without answering anything Django would not (why it cannot be stale: ``fastpath``):

1. Learning. ``handle`` hands every GET of ``/s/<id>.png|svg`` it cannot replay to Django.
   The image view marks its response with the *basis* of the answer
   (``seals.public_views.ImageBasis``: the seal, its snapshot digest, its effective status,
   the day, what it counted); when the response is a 200 or 304 so marked, its final headers
   (after every middleware) and body are kept under the request's *key*: path, query string,
   Host, scheme, the proxy's scheme header and the Referer's origin, i.e. everything that
   answer depended on besides the seal and the clock.
2. Replaying. A later GET with the same key is answered from that copy only when the seal's
   snapshot is held in this process and vouched for by Redis tracking
   (``seals.snapshot.get_local``: the same freshness rule as the view, so a revocation is
   visible on the very next request) and still has the same digest, the same effective
   status now, and it is the same day. Then the bytes, ETag and every header are what Django
   answered for this exact request, except ``Cache-Control``, recomputed for now by the
   view's own function (it depends on the clock and the next scheduled change). The
   impression is counted as the view counts it. A conditional request is answered 304 from
   a learned 304 only.
3. Anything else (no copy, another status, a new day, HEAD, an unknown key, any error) goes
   to Django, which then teaches the new answer.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from seals import public_views, snapshot, stats
from seals.models import SEAL_ID_PATTERN
from seals.public_views import ImageBasis
from seals.shown_on import referer_origin
from seals.snapshot_types import SealSnapshot

log = logging.getLogger(__name__)

ROUTE = re.compile(rf"/s/{SEAL_ID_PATTERN}\.(?:png|svg)\Z")
SIZE = 2048  # answers kept per process: ~3 KB of body (shared with the image LRU) + headers


@dataclass
class _Answer:
    basis: ImageBasis
    etag: str
    body: bytes
    headers: list[tuple[str, str]]  # without Cache-Control
    not_modified: list[tuple[str, str]] | None = None


class Answers:
    """Learned answers by request key, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple, _Answer] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> _Answer | None:
        answer = self.items.get(key)
        if answer is not None:
            with contextlib.suppress(KeyError):  # evicted by another thread just now
                self.items.move_to_end(key)
        return answer

    def put(self, key: tuple, answer: _Answer) -> None:
        with self.lock:
            self.items[key] = answer
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


answers = Answers(SIZE)


def _key(environ: dict) -> tuple:
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    return (
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}",
        environ.get("wsgi.url_scheme", ""),
        environ.get(proxy[0], "") if proxy else "",
        # The answer depends on the referring site (seals.shown_on), which is this much of
        # the Referer: its origin, as the edge cuts it for its own key.
        referer_origin(environ.get("HTTP_REFERER", "")),
    )


def _without_cache_control(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() != "cache-control"]


def learn(environ: dict, status: str, headers: list[tuple[str, str]], response: Any) -> None:
    """Keep Django's answer to this request if the image view marked it (step 1)."""
    basis = getattr(response, "image_basis", None)
    if basis is None or environ.get("REQUEST_METHOD") != "GET":
        return
    etag = response.get("ETag")
    if not etag:
        return
    key = _key(environ)
    if status.startswith("200 "):
        answers.put(key, _Answer(basis, etag, response.content, _without_cache_control(headers)))
    elif status.startswith("304 "):
        known = answers.get(key)
        if known is not None and known.basis == basis and known.etag == etag:
            known.not_modified = _without_cache_control(headers)


def _current(answer: _Answer) -> tuple[SealSnapshot, datetime] | None:
    """The seal's snapshot and now, if ``answer`` is still what the view would answer."""
    basis = answer.basis
    snap = snapshot.get_local(basis.seal_id)
    if snap is None or snap.digest != basis.digest:
        return None
    now = timezone.now()
    if now.date() != basis.day or snap.status_at(now) != basis.status:
        return None
    return snap, now


def serve(environ: dict, start_response: Callable) -> list[bytes] | None:
    """Django's answer to this request replayed (step 2), or None to ask Django."""
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    answer = answers.get(_key(environ))
    if answer is None:
        return None
    try:
        current = _current(answer)
        if current is None:
            return None
        snap, now = current
        conditional = environ.get("HTTP_IF_NONE_MATCH")
        if conditional:
            if answer.not_modified is None:
                return None
            # Usually the client sends back exactly the tag it got: skip the parsing then.
            not_modified = conditional == answer.etag or public_views.etag_matches(
                conditional, answer.etag
            )
        else:
            not_modified = False
        cache_control = public_views.cache_control(now, snap.next_change(now))
    except Exception:
        log.warning("seal image replay failed; answering through Django", exc_info=True)
        return None
    if answer.basis.counted:
        basis = answer.basis
        stats.count(basis.seal_id, *basis.counted, day=basis.day, host=basis.host)
    if not_modified:
        held = answer.not_modified or []  # set: a conditional request without it returned above
        start_response("304 Not Modified", [*held, ("Cache-Control", cache_control)])
        return []
    start_response("200 OK", [*answer.headers, ("Cache-Control", cache_control)])
    return [answer.body]


def handle(environ: dict, start_response: Callable, django_app: Callable) -> Iterable[bytes]:
    """The seal image route: a replayed answer when one is current, else Django's (learned)."""
    if environ.get("REQUEST_METHOD") != "GET":
        return django_app(environ, start_response)
    served = serve(environ, start_response)
    if served is not None:
        return served
    seen: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, headers
        return start_response(status, headers, exc_info)

    response = django_app(environ, capture)
    if seen:
        try:
            learn(environ, seen["status"], seen["headers"], response)
        except Exception:
            log.warning("seal image answer not kept for replay", exc_info=True)
    return response

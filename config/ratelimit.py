"""The one rate limiter of the public endpoints: per client network, through the shared cache.

Clients are told apart by ``config.client_ip.client_network`` (the /24 or /48, proxy-aware with
``TRUSTED_PROXY_COUNT``), so an address a client writes into ``X-Forwarded-For`` itself never
becomes the key and cannot rotate it, and no raw address is stored. Counting is a fixed window
per minute in the default cache, shared by every web node:

- on Redis, ``INCR`` and ``EXPIRE`` go in one pipelined round trip;
- elsewhere (the embedded default's disk cache, shared by its processes), ``add`` then ``incr``,
  each atomic.

When the cache is down the limiter lets the request through and logs: the public pages must
keep answering from the database (DESIGN §1.1), and an outage is no time to refuse verifiers.

Seal images are not limited here: they are the hottest route, answered from the edge cache
(deploy/nginx) with no database query, and a per-request counter would double their origin
cost; volume on them is the edge's job (nginx ``limit_req``, a CDN's rules).

    urlpatterns = [path("verify/<seal:seal_id>", rate_limited(views.verify_page, scope="page"))]
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from config.cache import RedisCache  # the backend settings name with Redis (or a subclass)
from config.client_ip import client_network

log = logging.getLogger("config.ratelimit")
WINDOW_SECONDS = 60


def limit_for(scope: str) -> int:
    """Requests per minute per client network for ``scope``; 0 switches the limit off."""
    limits: dict[str, int] = settings.PUBLIC_RATE_LIMITS
    return limits.get(scope, limits["default"])


def _count(key: str) -> int:
    ttl = WINDOW_SECONDS * 2
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        pipe = cache._cache.get_client(full_key, write=True).pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, ttl)
        return int(pipe.execute()[0])
    if cache.add(key, 1, ttl):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, ttl)
        return 1


def retry_after(request: HttpRequest, *, scope: str) -> int | None:
    """Count this request; the seconds to wait when it is over the limit, else None."""
    limit = limit_for(scope)
    if limit <= 0:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    network = hashlib.sha256(client_network(request).encode()).hexdigest()[:16]
    try:
        count = _count(f"rl:{scope}:{network}:{window}")
    except Exception:  # any cache failure: fail open (see the module docstring)
        log.warning("rate limiter cache unavailable; %s not limited", scope, exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))


def too_many_requests(request: HttpRequest, wait: int) -> HttpResponse:
    from config.problems import problem_response

    response = problem_response(
        request,
        status_code=429,
        code="throttled",
        detail=f"Too many requests from your network; retry in {wait} s.",
        retry_after=wait,
    )
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    return response


def rate_limited(view: Callable[..., HttpResponse], *, scope: str = "default") -> Callable:
    """``view`` behind the per-network limit of ``scope`` (settings.PUBLIC_RATE_LIMITS)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = retry_after(request, scope=scope)
        if wait is not None:
            return too_many_requests(request, wait)
        return view(request, *args, **kwargs)

    return wrapper

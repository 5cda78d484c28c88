"""Django's Redis cache backend, keeping one redis-py client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache call, and
redis-py ≥ 5 fills a case-insensitive table of ~170 response callbacks in each constructor:
measured here at ~0.28 ms per call (redis 8.1), more than the Redis round trip itself and
most of the seal image's origin cost. A ``redis.Redis`` is only a thin, thread-safe
handle on its pool, so building it once per pool changes nothing else.

``local_copies(prefix)`` hands out process-local copies kept true by Redis invalidation pushes
(config/cache_tracking.py): the seal snapshot uses them so a hit needs no round trip at all.
``CACHES["default"]["TRACKING"] = False`` (env ``CACHE_TRACKING=0``) switches them off.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.cache_tracking import KeyMirror, LocalCopies


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    # Per process, shared by the per-thread instances Django creates; a test simulating a
    # second web node gives its instance its own dict.
    mirrors: dict[tuple[str, str], KeyMirror] = {}
    _mirrors_lock = threading.Lock()

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        # Client-side copies need every read to come from the server that sends invalidations.
        self.tracking = bool(params.get("TRACKING", True)) and len(self._servers) == 1
        self._copies: dict[str, LocalCopies] = {}

    def local_copies(self, prefix: str) -> LocalCopies | None:
        """Process-local copies of values bound to the keys under ``prefix``, invalidated by
        Redis (config/cache_tracking.py), or None when tracking is off or unavailable."""
        if not self.tracking:
            return None
        copies = self._copies.get(prefix)  # this instance's handle, built once
        if copies is None:
            full = self.make_and_validate_key(prefix)
            with self._mirrors_lock:
                mirror = self.mirrors.setdefault(
                    (self._servers[0], full), KeyMirror(self._servers[0], full)
                )
            # make_key, not make_and_validate_key: the callers' keys are fixed prefixes plus
            # URL-safe ids, and the validation's per-character scan cost ~2 µs a hit.
            copies = self._copies[prefix] = LocalCopies(mirror, self.make_key, self.settle)
        return None if copies.mirror.disabled else copies

    def settle(self) -> None:
        """Return once Redis has pushed the invalidations of this thread's earlier writes to
        every tracking connection: any command answered after them proves it (one PING)."""
        try:
            self._cache.get_client(write=True).ping()
        except _UNAVAILABLE as exc:
            _warn(exc)


# --- Degraded mode: the cache is an accelerator, never a dependency (DESIGN §1.1) -----------
# With Redis down every cache call would raise and turn a cache miss into a 500. Each call below
# instead behaves as a miss (get → default, add → False, incr → ValueError as for a missing key)
# and logs at most once a minute; callers already recompute from the database on a miss, and
# the calls succeed again by themselves once Redis is back (redis-py reconnects per call).
_log = logging.getLogger("config.cache")
_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
_last_warning = 0.0


def _warn(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        _log.warning("cache unavailable, answering as a miss: %s", exc)


def _soft(name: str, fallback: Any) -> Any:
    method = getattr(DjangoRedisCache, name)

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except _UNAVAILABLE as exc:
            _warn(exc)
            if fallback is _MISS:
                return kwargs.get("default", args[1] if len(args) > 1 else None)
            if name == "set_many":  # Django's contract: the keys that were not stored
                return list(args[0]) if args else []
            if isinstance(fallback, type) and issubclass(fallback, Exception):
                raise fallback(f"cache unavailable: {exc}") from exc
            return fallback() if callable(fallback) else fallback

    call.__name__ = name
    return call


_MISS = object()
for _name, _fallback in (
    ("get", _MISS),
    ("get_many", dict),
    ("has_key", False),
    ("add", False),
    ("set", None),
    ("set_many", list),
    ("touch", False),
    ("delete", False),
    ("delete_many", None),
    ("incr", ValueError),
    ("clear", False),
):
    setattr(RedisCache, _name, _soft(_name, _fallback))


_soft_clear = RedisCache.clear


def _clear(self: RedisCache) -> bool:
    cleared = _soft_clear(self)
    # FLUSHDB's own invalidation reaches the tracking socket a moment later; this process
    # must not serve a copy in between.
    for mirror in self.mirrors.values():
        mirror.flush()
    return cleared


RedisCache.clear = _clear  # type: ignore[method-assign]

"""The cache backend of the fast path: ``config.cache.RedisCache`` plus process-local copies.

Named in settings (``CACHES["default"]["BACKEND"]``) while ``PUBLIC_IMAGE_FASTPATH`` is on.
``local_copies(prefix)`` hands out copies kept true by Redis invalidation pushes
(``fastpath.tracking``); ``seals.snapshot`` asks its cache for them and reads Redis as before
when the backend has none to give. ``settle`` is the writers' half of the bargain.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from config.cache import RedisCache as BaseRedisCache
from fastpath.tracking import KeyMirror, LocalCopies


class RedisCache(BaseRedisCache):
    # Per process, shared by the per-thread instances Django creates; a test simulating a
    # second web node gives its instance its own dict.
    mirrors: dict[tuple[str, str], KeyMirror] = {}
    _mirrors_lock = threading.Lock()

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        # Client-side copies need every read of a tracked key to come from the server that
        # sends the invalidations, the first one listed (or the master the Sentinels name): a
        # lagging replica could answer after the invalidation arrived. So with replicas listed
        # those reads go to the primary (get, get_many below) and every other read may still
        # spread over the replicas.
        self.tracking = True
        self._copies: dict[str, LocalCopies] = {}
        self._tracked: tuple[str, ...] = ()

    def local_copies(self, prefix: str) -> LocalCopies | None:
        """Process-local copies of values bound to the keys under ``prefix``, invalidated by
        Redis (``fastpath.tracking``), or None when tracking is unavailable."""
        if not self.tracking:
            return None
        copies = self._copies.get(prefix)  # this instance's handle, built once
        if copies is None:
            full = self.make_and_validate_key(prefix)
            with self._mirrors_lock:
                mirror = self.mirrors.get((self._servers[0], full))
                if mirror is None:
                    mirror = self.mirrors[(self._servers[0], full)] = self._mirror(full)
            self._tracked = (*self._tracked, prefix)
            # make_key, not make_and_validate_key: the callers' keys are fixed prefixes plus
            # URL-safe ids, and the validation's per-character scan cost ~2 µs a hit.
            copies = self._copies[prefix] = LocalCopies(mirror, self.make_key, self.settle)
        return None if copies.mirror.disabled else copies

    def _mirror(self, full_prefix: str) -> KeyMirror:
        sentinel = self._cache.sentinel
        if sentinel is None:
            return KeyMirror(self._servers[0], full_prefix)
        client = self._cache.sentinel_client()

        def master() -> tuple[str, int]:
            host, port = client.discover_master(sentinel.service_name)
            return str(host), int(port)

        password = self._cache._pool_options.get("password")
        return KeyMirror(self._servers[0], full_prefix, resolve=master, password=password)

    def _reads_tracked(self, keys: Iterable[Any]) -> bool:
        tracked = self._tracked
        return bool(tracked) and any(str(k).startswith(tracked) for k in keys)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        if len(self._servers) > 1 and self._reads_tracked((key,)):
            with self._cache.primary():
                return super().get(key, default, version)
        return super().get(key, default, version)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        if len(self._servers) > 1 and self._reads_tracked(keys):
            with self._cache.primary():
                return super().get_many(keys, version)
        return super().get_many(keys, version)

    def settle(self) -> None:
        """Return once Redis has pushed the invalidations of this thread's earlier writes to
        every tracking connection: any command answered after them proves it (one PING)."""
        self.ping()

    def clear(self) -> None:
        super().clear()
        # FLUSHDB's own invalidation reaches the tracking socket a moment later; this process
        # must not serve a copy in between.
        for mirror in self.mirrors.values():
            mirror.flush()

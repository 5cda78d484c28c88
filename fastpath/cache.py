"""The cache backend of the fast path: ``config.cache.RedisCache`` plus process-local copies.

Named in settings (``CACHES["default"]["BACKEND"]``) while ``PUBLIC_IMAGE_FASTPATH`` is on.
``local_copies(prefix)`` hands out copies kept true by Redis invalidation pushes
(``fastpath.tracking``); ``seals.snapshot`` asks its cache for them and reads Redis as before
when the backend has none to give. ``settle`` is the writers' half of the bargain.
"""

from __future__ import annotations

import threading
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
        # Client-side copies need every read to come from the server that sends invalidations:
        # a lagging replica could answer after the invalidation arrived.
        self.tracking = len(self._servers) == 1
        self._copies: dict[str, LocalCopies] = {}

    def local_copies(self, prefix: str) -> LocalCopies | None:
        """Process-local copies of values bound to the keys under ``prefix``, invalidated by
        Redis (``fastpath.tracking``), or None when tracking is unavailable."""
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
        self.ping()

    def clear(self) -> None:
        super().clear()
        # FLUSHDB's own invalidation reaches the tracking socket a moment later; this process
        # must not serve a copy in between.
        for mirror in self.mirrors.values():
            mirror.flush()

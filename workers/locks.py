"""A short lock so a second beat started by mistake does no double work.

``cache.add`` is atomic on both shared caches, Redis and the embedded default's diskcache (one
SQLite transaction), and every process on every host that runs jobs sees the same cache. The lock
is never released: it expires after most of the job's interval, so two beats firing the same slot
(at the same moment or out of phase) run the job once, and the next slot is free again.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def beat_lock(name: str, *, interval: float) -> bool:
    """True if this run of the job ``name`` (scheduled every ``interval`` seconds) may go ahead."""
    # Whole seconds: the Redis SET EX option takes an integer.
    ttl = max(1, int(interval * 0.9))
    return bool(cache.add(f"beat-lock:{name}", str(time.time()), timeout=ttl))

"""A short lock so a second beat started by mistake does no double work.

``cache.add`` is atomic on Redis. The lock is never released: it expires after most of the
job's interval, so two beats firing the same slot (at the same moment or out of phase) run the
job once, and the next slot is free again. With the local-memory cache (embedded defaults) each
process has its own cache, so the lock falls back to a file under var/ guarded by ``flock``,
which every process on the one host shares.
"""

from __future__ import annotations

import fcntl
import os
import time

from django.conf import settings
from django.core.cache import cache


def _shared_cache() -> bool:
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith("LocMemCache")


def _file_lock(name: str, ttl: float) -> bool:
    """The same contract on one host: under an exclusive ``flock`` read when the job last ran
    and record this run if the previous one is older than ``ttl``."""
    folder = settings.VAR_DIR / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.read(fd, 64)
        now = time.time()
        last = float(raw) if raw.strip() else 0.0
        if now - last < ttl:
            return False
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, f"{now:.6f}".encode())
        return True
    finally:
        os.close(fd)  # closing releases the flock


def beat_lock(name: str, *, interval: float) -> bool:
    """True if this run of the job ``name`` (scheduled every ``interval`` seconds) may go ahead."""
    # Whole seconds: the Redis SET EX option takes an integer.
    ttl = max(1, int(interval * 0.9))
    if _shared_cache():
        return bool(cache.add(f"beat-lock:{name}", str(time.time()), timeout=ttl))
    return _file_lock(name, ttl)

"""Beat job locks: one run per slot, and never two runs of a job at once.

Two locks, both in the shared cache every process on every host that runs jobs sees (Redis, or
the embedded default's diskcache):

- the **slot lock** (``beat_lock``) is never released: it expires after most of the job's
  interval, so two beats firing the same slot (at the same moment or out of phase) run the job
  once, and the next slot is free again;
- the **execution lock** (``execution_lock``) is held for as long as a run lasts: taken with a
  random token for ``EXECUTION_LOCK_SECONDS``, renewed by a background thread every third of
  that while the job runs, released (only if still ours) when it ends. A run that outlasts its
  interval makes the next slot skip instead of overlapping it; a holder that crashed (a worker
  killed at its hard time limit, a host gone) stops renewing, and its lock expires within one
  TTL.

On Redis the lock is redis-py's ``Lock`` (token checked by a Lua script on extend and release);
on diskcache the same compare-then-act runs inside one SQLite transaction.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger("workers.beat")


def beat_lock(name: str, *, interval: float) -> bool:
    """True if this run of the job ``name`` (scheduled every ``interval`` seconds) may go ahead."""
    # Whole seconds: the Redis SET EX option takes an integer.
    ttl = max(1, int(interval * 0.9))
    return bool(cache.add(f"beat-lock:{name}", str(time.time()), timeout=ttl))


class _Lease(Protocol):
    def acquire(self) -> bool: ...
    def renew(self) -> bool: ...
    def release(self) -> None: ...


class _RedisLease:
    """redis-py's lock: SET NX PX to take it, Lua scripts that check the token to extend and
    release, so a lock that expired and was taken by another run is never touched."""

    def __init__(self, client: Any, key: str, ttl: float) -> None:
        self._lock = client.lock(key, timeout=ttl, blocking=False, thread_local=False)
        self._ttl = ttl

    def acquire(self) -> bool:
        return bool(self._lock.acquire(blocking=False))

    def renew(self) -> bool:
        from redis.exceptions import LockError

        try:
            return bool(self._lock.reacquire())
        except LockError:
            return False

    def release(self) -> None:
        from redis.exceptions import LockError

        with contextlib.suppress(LockError):
            self._lock.release()


class _CacheLease:
    """The same lease on any Django cache: ``add`` to take it; renew and release compare the
    token first, inside the backend's transaction where it has one (diskcache), so another
    process's lock taken after ours expired is left alone."""

    def __init__(self, key: str, ttl: float) -> None:
        self._key, self._ttl = key, ttl
        self._token = secrets.token_hex(16)

    def _transaction(self) -> contextlib.AbstractContextManager[Any]:
        inner = getattr(cache, "cache", None)  # diskcache.DjangoCache's FanoutCache
        transact = getattr(inner, "transact", None)
        return transact(retry=True) if transact is not None else contextlib.nullcontext()

    def acquire(self) -> bool:
        return bool(cache.add(self._key, self._token, timeout=self._ttl))

    def renew(self) -> bool:
        with self._transaction():
            if cache.get(self._key) != self._token:
                return False
            cache.set(self._key, self._token, timeout=self._ttl)
            return True

    def release(self) -> None:
        with self._transaction():
            if cache.get(self._key) == self._token:
                cache.delete(self._key)


def _lease(name: str, ttl: float) -> _Lease:
    key = f"beat-run:{name}"
    redis_client = getattr(cache, "redis_client", None)
    if redis_client is not None:
        return _RedisLease(redis_client(), cache.make_and_validate_key(key), ttl)
    return _CacheLease(key, ttl)


@contextlib.contextmanager
def execution_lock(name: str, *, ttl: float | None = None) -> Iterator[bool]:
    """Hold the execution lock of job ``name`` while the block runs; yields False (and holds
    nothing) when another run holds it.

    Steps: take the lease (``ttl`` seconds, EXECUTION_LOCK_SECONDS by default); start a daemon
    thread that renews it every ``ttl / 3``; run the block; stop the thread; release the lease
    if it is still ours. A renewal that finds the lease gone (this process stalled past the TTL,
    or Redis failed over and lost it) is logged: the job itself cannot be stopped halfway, and
    every job is safe to run twice (STYLE §5), so the cost is an overlap, never a wrong answer.
    """
    ttl = float(ttl if ttl is not None else settings.EXECUTION_LOCK_SECONDS)
    lease = _lease(name, ttl)
    try:
        taken = lease.acquire()
    except Exception as exc:  # the cache is down: run anyway, as before locks existed
        # A job skipped for as long as Redis is away would leave notices and status lists
        # waiting; every job is safe to run twice, so an unlocked run is the lesser harm.
        log.warning("execution lock of %s unavailable (%s); running unlocked", name, exc)
        yield True
        return
    if not taken:
        yield False
        return
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl / 3):
            try:
                kept = lease.renew()
            except Exception as exc:
                log.warning("execution lock of %s not renewed: %s", name, exc)
                continue
            if not kept:
                log.warning("execution lock of %s was lost while the job ran", name)
                return

    renewer = threading.Thread(target=renew, name=f"lock-renew:{name}", daemon=True)
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join()
        with contextlib.suppress(Exception):
            lease.release()

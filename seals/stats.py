"""Per seal per day counters: image impressions, verification views, misuse hits.

Counted with no IP, no cookie and nothing about the visitor, in three steps:

1. ``count`` adds to a buffer in this process (a dict under a lock: no I/O on the hot path; a
   Redis round trip per hit was half the seal image's origin cost, as measured);
2. the buffer is pushed to the shared counters in one pipeline every ``FLUSH_EVERY_HITS`` hits
   (by the request that reaches it) or ``FLUSH_EVERY_SECONDS`` (a daemon thread per process),
   and once more at interpreter exit;
3. ``flush_counts`` (a periodic task, every minute) moves the shared counters into
   ``DailyStat`` (and the per-host misuse hits into ``SealMisuseHostDay``,
   ``seals.misuse_hosts``), leaving out the seals of members excluded from statistics (restricted or
   erased: ``seals.selectors.seal_ids_excluded_from_stats``, docs/privacy.md).

Counting never blocks or fails a response. What a crash can lose is bounded: the counts buffered
in the process that dies (at most ``FLUSH_EVERY_SECONDS`` of its traffic or
``FLUSH_EVERY_HITS`` hits, whichever is less), or one push when the cache is unreachable
(docs/operations.md, "Statistics").

The shared counters hold *running totals* per day: with Redis one hash per day (``HINCRBY``:
atomic); without it (embedded default) one cache entry per day holding a dict, read, added to
and written back inside one diskcache transaction (a SQLite write lock every process on the host
takes), so the web's pushes and the worker's flush never lose each other's counts. The flush
writes those totals with ``GREATEST(stored, counted)``, so running it twice, or two flushes at
once, gives the same rows and a slower flush can never move a count backwards. A process-local
cache (LocMemCache, configured by hand) keeps them in that process only.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from diskcache import FanoutCache
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection, transaction

from config.tenancy import scopes_disabled
from seals.misuse_hosts import misuse_hosts_record
from seals.models import DailyStat, Seal
from seals.selectors import seal_ids_excluded_from_stats

log = logging.getLogger(__name__)

IMPRESSION = "i"
VIEW = "v"
MISUSE = "m"
_FIELDS = {IMPRESSION: "impressions", VIEW: "verification_views", MISUSE: "misuse_hits"}
# "<public id>:h:<host>": a day's misuse hits on one foreign host (seals.misuse_hosts). Seal ids
# hold no ":", a host may (its port), so names are split at their first ":".
HOST = "h"
# Totals of a day stay counted this long, so the flushes after midnight still see them.
RETENTION = 3 * 24 * 3600
# The loss bound on a crash (module docstring). One push is one pipelined round trip carrying
# one HINCRBY per counted (seal, kind, day), so at 10,000 hits/s a process pushes ~10 times a
# second: noise next to 10,000 round trips.
FLUSH_EVERY_HITS = 1000
FLUSH_EVERY_SECONDS = 1.0

# Serialises this process's threads around the read-modify-write of a day's totals without Redis.
_local_lock = threading.Lock()


class _Buffer:
    """This process's counts not yet pushed: {(day, "<public id>:<kind>"): n}."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[tuple[date, str], int] = defaultdict(int)
        self.hits = 0
        self.pid = 0  # the process whose flusher thread runs; 0: none yet

    def add(self, day: date, names: list[str]) -> bool:
        """Count; True when the buffer is due for a push."""
        with self.lock:
            for name in names:
                self.counts[day, name] += 1
            self.hits += 1
            return self.hits >= FLUSH_EVERY_HITS

    def take(self) -> dict[tuple[date, str], int]:
        with self.lock:
            taken, self.counts, self.hits = self.counts, defaultdict(int), 0
        return taken

    def clear(self) -> None:
        self.take()


_buffer = _Buffer()


def _hash_key(day: date) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return f"{prefix}:pub:stats:{day.isoformat()}"


def _redis():
    """The raw client behind Django's RedisCache (the counters' own instance when
    REDIS_COUNTERS_URL names one), or None for other backends."""
    if not settings.REDIS_CONFIGURED:
        return None  # and diskcache's FanoutCache asserts on unknown attributes: ask nothing
    backend = caches["counters"] if "counters" in settings.CACHES else cache
    client = getattr(backend, "_cache", None)
    get_client = getattr(client, "get_client", None)
    return get_client(write=True) if get_client else None


def _day_key(day: date) -> str:
    """The cache entry holding a day's totals when there is no Redis: {"<id>:<kind>": total}."""
    return f"pub:stats:{day.isoformat()}"


@contextlib.contextmanager
def _totals_transaction() -> Iterator[None]:
    """Around a read-modify-write of a day's totals: this process's lock, and with diskcache a
    transaction holding its SQLite write lock, which the other processes' writes wait for."""
    disk = getattr(caches["default"], "_cache", None)
    with _local_lock:
        if isinstance(disk, FanoutCache):
            with disk.transact():
                yield
        else:
            yield


def _add_to_totals(taken: dict[tuple[date, str], int]) -> None:
    per_day: dict[date, dict[str, int]] = defaultdict(dict)
    for (day, name), n in taken.items():
        per_day[day][name] = n
    for day, counts in per_day.items():
        with _totals_transaction():
            totals = cache.get(_day_key(day)) or {}
            for name, n in counts.items():
                totals[name] = totals.get(name, 0) + n
            cache.set(_day_key(day), totals, RETENTION)


def _host_name(public_id: str, host: str) -> str:
    return f"{public_id}:{HOST}:{host}"


def count(public_id: str, *kinds: str, day: date, host: str = "") -> None:
    """Add one to each of ``kinds`` for this seal and day, and to the misuse hits of ``host``
    (a foreign host, seals.shown_on) when given. Never raises, never waits on I/O except when
    this hit fills the buffer (then it pushes it, one round trip)."""
    try:
        if _buffer.pid != os.getpid():
            _start_flusher()
        names = [f"{public_id}:{kind}" for kind in kinds]
        if host:
            names.append(_host_name(public_id, host))
        if _buffer.add(day, names):
            push()
    except Exception:
        log.debug("count dropped for seal %s", public_id, exc_info=True)


def push() -> None:
    """Move this process's buffered counts to the shared counters. Never raises: on a cache
    error the counts taken are dropped (the bounded loss of the module docstring)."""
    taken = _buffer.take()
    if not taken:
        return
    try:
        client = _redis()
        if client is None:
            _add_to_totals(taken)
            return
        pipe = client.pipeline(transaction=False)
        for (day, name), n in taken.items():
            pipe.hincrby(_hash_key(day), name, n)
        for key in {_hash_key(day) for day, _ in taken}:
            pipe.expire(key, RETENTION)
        pipe.execute()
    except Exception:
        log.warning("%d buffered counts dropped: cache unavailable", sum(taken.values()))


def discard_local() -> None:
    """Forget this process's unpushed counts. Each test starts from zero with it; the shared
    totals are the cache's (Redis or disk), cleared with it."""
    _buffer.clear()


def _start_flusher() -> None:
    """One daemon thread per process (started lazily: a server that forks workers after import
    must not share one) pushing the buffer every ``FLUSH_EVERY_SECONDS``."""
    with _buffer.lock:
        if _buffer.pid == os.getpid():
            return
        _buffer.pid = os.getpid()

    def loop() -> None:
        while True:
            time.sleep(FLUSH_EVERY_SECONDS)
            push()

    threading.Thread(target=loop, name="seal-stats-push", daemon=True).start()


# Best effort: a clean shutdown pushes what is left; a crash loses it (module docstring).
atexit.register(push)


def _totals(day: date) -> dict[str, int]:
    client = _redis()
    if client is None:
        return dict(cache.get(_day_key(day)) or {})
    return {
        (k.decode() if isinstance(k, bytes) else k): int(v)
        for k, v in client.hscan_iter(_hash_key(day), count=1000)
    }


def _forget(day: date, names: list[str]) -> None:
    """Drop counted totals for good (seals excluded from statistics), so lifting a restriction
    later never writes what was counted while it held."""
    if not names:
        return
    client = _redis()
    if client is None:
        with _totals_transaction():
            totals = cache.get(_day_key(day)) or {}
            for name in names:
                totals.pop(name, None)
            cache.set(_day_key(day), totals, RETENTION)
        return
    client.hdel(_hash_key(day), *names)


def flush_counts(*, now: datetime) -> int:
    """Write the counted totals of today and yesterday (UTC) into DailyStat; returns the number
    of rows written. Idempotent and safe to run concurrently (see the module docstring).

    Seals of members excluded from statistics are never written, and their totals are dropped.
    This process's own buffer is pushed first, so a single-process server loses nothing.
    The counters are every issuer's, so the flush reads across issuers whoever calls it."""
    push()
    with scopes_disabled():
        return _flush_days(now)


def _flush_days(now: datetime) -> int:
    written = 0
    today = now.date()
    for day in (today - timedelta(days=1), today):
        per_seal: dict[str, dict[str, int]] = defaultdict(dict)
        per_host: dict[str, dict[str, int]] = defaultdict(dict)
        totals = _totals(day)
        for name, value in totals.items():
            public_id, _, kind = name.partition(":")
            if kind in _FIELDS:
                per_seal[public_id][_FIELDS[kind]] = value
            elif kind.startswith(HOST + ":"):
                per_host[public_id][kind[len(HOST) + 1 :]] = value
        if not per_seal and not per_host:
            continue
        excluded = seal_ids_excluded_from_stats(list(per_seal.keys() | per_host.keys()))
        _forget(day, [name for name in totals if name.partition(":")[0] in excluded])
        kept = {sid: c for sid, c in per_seal.items() if sid not in excluded}
        if kept:
            written += _upsert(day, kept)
        hosts = {sid: h for sid, h in per_host.items() if sid not in excluded}
        if hosts:
            misuse_hosts_record(day=day, counted=hosts, now=now)
    return written


def _upsert(day: date, per_seal: dict[str, dict[str, int]]) -> int:
    pks = dict(Seal.objects.filter(public_id__in=list(per_seal)).values_list("public_id", "pk"))
    rows = [
        (
            pks[public_id],
            day,
            c.get("impressions", 0),
            c.get("verification_views", 0),
            c.get("misuse_hits", 0),
        )
        for public_id, c in per_seal.items()
        if public_id in pks  # a seal deleted since it was counted
    ]
    if not rows:
        return 0
    table = DailyStat._meta.db_table
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    cols = ("impressions", "verification_views", "misuse_hits")
    updates = ", ".join(f"{c} = {greatest}({table}.{c}, excluded.{c})" for c in cols)
    # Django's bulk_create(update_conflicts=True) can only overwrite; GREATEST keeps the upsert
    # monotonic when two flushes race. Both PostgreSQL and SQLite speak ON CONFLICT.
    sql = (
        f"INSERT INTO {table} (seal_id, day, {', '.join(cols)}) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608 -- names are model constants, values bound
        f"ON CONFLICT (seal_id, day) DO UPDATE SET {updates}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            cursor.executemany(sql, rows[start : start + 500])
    return len(rows)

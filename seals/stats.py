"""Per seal per day counters: image impressions, verification views, misuse hits.

Counted in the cache with atomic increments (no IP, no cookie, nothing about the visitor) and
moved into ``DailyStat`` by ``flush_counts`` (a periodic task, every minute). Counting never
blocks or fails a response: any cache error drops that one count.

With Redis the counters are one hash per day (``HINCRBY``: atomic, one round trip) holding
*running totals*; the flush writes those totals with ``GREATEST(stored, counted)``, so running it
twice, or two flushes at once, gives the same rows and a slower flush can never move a count
backwards. Without Redis (embedded default) the counters live in this process and
``flush_counts`` is only meaningful inside it (tests, single-process serving).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from seals.models import DailyStat, Seal

log = logging.getLogger(__name__)

IMPRESSION = "i"
VIEW = "v"
MISUSE = "m"
_FIELDS = {IMPRESSION: "impressions", VIEW: "verification_views", MISUSE: "misuse_hits"}
# Totals of a day stay counted this long, so the flushes after midnight still see them.
RETENTION = 3 * 24 * 3600

_local: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_local_lock = threading.Lock()


def _hash_key(day: date) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return f"{prefix}:pub:stats:{day.isoformat()}"


def _redis():
    """The raw client behind Django's RedisCache, or None for other backends."""
    client = getattr(cache, "_cache", None)
    get_client = getattr(client, "get_client", None)
    return get_client(write=True) if get_client and settings.REDIS_URL else None


def count(public_id: str, *kinds: str, day: date) -> None:
    """Add one to each of ``kinds`` for this seal and day. Never raises."""
    field_names = [f"{public_id}:{kind}" for kind in kinds]
    try:
        client = _redis()
        if client is None:
            with _local_lock:
                counters = _local[day]
                for name in field_names:
                    counters[name] += 1
            return
        key = _hash_key(day)
        pipe = client.pipeline(transaction=False)
        for name in field_names:
            pipe.hincrby(key, name, 1)
        pipe.expire(key, RETENTION)
        pipe.execute()
    except Exception:
        log.debug("count dropped for seal %s", public_id, exc_info=True)


def _totals(day: date) -> dict[str, int]:
    client = _redis()
    if client is None:
        with _local_lock:
            return dict(_local.get(day, {}))
    return {
        (k.decode() if isinstance(k, bytes) else k): int(v)
        for k, v in client.hscan_iter(_hash_key(day), count=1000)
    }


def flush_counts(*, now: datetime) -> int:
    """Write the counted totals of today and yesterday (UTC) into DailyStat; returns the number
    of rows written. Idempotent and safe to run concurrently (see the module docstring)."""
    today = now.date()
    written = 0
    for day in (today - timedelta(days=1), today):
        per_seal: dict[str, dict[str, int]] = defaultdict(dict)
        for name, value in _totals(day).items():
            public_id, _, kind = name.rpartition(":")
            if kind in _FIELDS:
                per_seal[public_id][_FIELDS[kind]] = value
        if per_seal:
            written += _upsert(day, per_seal)
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
        f"INSERT INTO {table} (seal_id, day, {', '.join(cols)}) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608
        f"ON CONFLICT (seal_id, day) DO UPDATE SET {updates}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            cursor.executemany(sql, rows[start : start + 500])
    return len(rows)

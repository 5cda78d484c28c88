"""Misuse per host: which foreign hosts showed a seal, how often each day, and telling the issuer
the first time one does.

Fed by the stats flush (``seals.stats.flush_counts``): the image and page views count a hit
for the foreign host they saw (``seals.shown_on``) in the same in-process buffer as every other
counter, so the hot path gains no write. The flush hands the day's running totals here.

A host's first sighting for a seal is the insert of its ``SealMisuseHost`` row, and the
``seal.misuse_detected`` webhook is written in the same transaction (``issuers.events``:
WebhookDelivery rows with their outbox messages). The insert is ``ON CONFLICT DO NOTHING
RETURNING``, so of two flushes racing over the same new host only the one whose row went in
announces it: the database, not a read before the write, decides what is new.

Anyone can send any ``Referer``: at most ``NEW_HOSTS_PER_SEAL_DAY`` new hosts are recorded per
seal and day (the busiest first); the rest still count in ``DailyStat.misuse_hits``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum

from issuers.domains import display_domain
from issuers.events import webhook_emit_many
from issuers.models import Issuer, Programme
from seals.models import MisuseDigest, Seal, SealMisuseHost, SealMisuseHostDay

MISUSE_EVENT = "seal.misuse_detected"
NEW_HOSTS_PER_SEAL_DAY = 50
_BATCH = 200  # rows per statement: 4-5 parameters each, far below SQLite's bound


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1) - timedelta(microseconds=1)


def _insert_new(rows: list[tuple[int, str, datetime, datetime]]) -> set[tuple[int, str]]:
    """Insert (seal, host, first, last) rows not there yet; the pairs this statement added."""
    table = SealMisuseHost._meta.db_table
    added: set[tuple[int, str]] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            chunk = rows[start : start + _BATCH]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (seal_id, host, first_seen, last_seen) VALUES {values} "  # noqa: S608 -- names are model constants, values bound
                "ON CONFLICT (seal_id, host) DO NOTHING RETURNING seal_id, host",
                [value for row in chunk for value in row],
            )
            added.update((seal_id, host) for seal_id, host in cursor.fetchall())
    return added


def _upsert_days(day: date, rows: list[tuple[int, str, int]]) -> None:
    table = SealMisuseHostDay._meta.db_table
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    # As DailyStat's upsert (seals.stats): running totals, kept monotonic when flushes race.
    sql = (
        f"INSERT INTO {table} (seal_id, day, host, hits) VALUES (%s, %s, %s, %s) "  # noqa: S608 -- names are model constants, values bound
        "ON CONFLICT (seal_id, day, host) "
        f"DO UPDATE SET hits = {greatest}({table}.hits, excluded.hits)"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            cursor.executemany(sql, [(s, day, h, n) for s, h, n in rows[start : start + 500]])


@transaction.atomic
def misuse_hosts_record(*, day: date, counted: dict[str, dict[str, int]], now: datetime) -> int:
    """Write a day's per-host totals ``{public id: {host: hits}}``; returns the new hosts.

    Steps, in one transaction:
    1. keep only (seal, host) totals above what is stored (nothing new: nothing to do);
    2. of the hosts this seal has never shown, keep the busiest up to the day's allowance;
    3. insert those (``_insert_new``: only the pairs really added are new), move the last
       sighting of the known ones forward;
    4. upsert the day rows;
    5. queue ``seal.misuse_detected`` for every pair step 3 added.
    Idempotent: a second run finds nothing above what is stored.
    """
    seals = {
        public_id: (pk, issuer_id, member_ref)
        for public_id, pk, issuer_id, member_ref in Seal.objects.filter(
            public_id__in=list(counted)
        ).values_list("public_id", "pk", "issuer_id", "member__external_ref")
    }
    if not seals:
        return 0
    pks = [pk for pk, _, _ in seals.values()]
    stored = {
        (seal_id, host): hits
        for seal_id, host, hits in SealMisuseHostDay.objects.filter(
            seal_id__in=pks, day=day
        ).values_list("seal_id", "host", "hits")
    }
    rising: dict[tuple[int, str], int] = {}
    for public_id, hosts in counted.items():
        if public_id not in seals:
            continue  # a seal deleted since it was counted
        pk = seals[public_id][0]
        for host, hits in hosts.items():
            if hits > stored.get((pk, host), 0):
                rising[pk, host] = hits
    if not rising:
        return 0
    known = set(
        SealMisuseHost.objects.filter(seal_id__in={pk for pk, _ in rising}).values_list(
            "seal_id", "host"
        )
    )
    day_start, day_end = _day_bounds(day)
    seen_at = min(now, day_end)  # a past day's hits were seen on that day
    new_today = dict(
        SealMisuseHost.objects.filter(
            seal_id__in={pk for pk, _ in rising}, first_seen__gte=day_start, first_seen__lte=day_end
        )
        .values("seal_id")
        .annotate(n=Count("pk"))
        .values_list("seal_id", "n")
    )
    candidates: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for (pk, host), hits in rising.items():
        if (pk, host) not in known:
            candidates[pk].append((hits, host))
    admitted: list[tuple[int, str, datetime, datetime]] = []
    for pk, unseen in candidates.items():
        room = max(0, NEW_HOSTS_PER_SEAL_DAY - new_today.get(pk, 0))
        for _hits, host in sorted(unseen, key=lambda item: (-item[0], item[1]))[:room]:
            admitted.append((pk, host, seen_at, seen_at))
    added = _insert_new(admitted) if admitted else set()
    recorded = known | added
    by_seal: dict[int, list[str]] = defaultdict(list)
    for pk, host in rising:
        if (pk, host) in known:
            by_seal[pk].append(host)
    for pk, seen in by_seal.items():
        SealMisuseHost.objects.filter(seal_id=pk, host__in=seen, last_seen__lt=seen_at).update(
            last_seen=seen_at
        )
    _upsert_days(
        day, [(pk, host, hits) for (pk, host), hits in rising.items() if (pk, host) in recorded]
    )
    _announce(added, seals, rising, seen_at)
    return len(added)


def _announce(
    added: set[tuple[int, str]],
    seals: dict[str, tuple[int, int, str]],
    rising: dict[tuple[int, str], int],
    seen_at: datetime,
) -> None:
    of_pk = {pk: (public_id, issuer_id, ref) for public_id, (pk, issuer_id, ref) in seals.items()}
    per_issuer: dict[int, list[tuple[str, dict]]] = defaultdict(list)
    for pk, host in sorted(added):
        public_id, issuer_id, member_ref = of_pk[pk]
        per_issuer[issuer_id].append(
            (
                MISUSE_EVENT,
                {
                    "seal": public_id,
                    "member": member_ref,
                    "host": host,
                    "first_seen": seen_at.isoformat(),
                    "hits": rising[pk, host],
                },
            )
        )
    for issuer_id, events in per_issuer.items():
        webhook_emit_many(issuer_id=issuer_id, events=events, at=seen_at)


# --- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MisuseHostRow:
    """One foreign host of a seal over a window: ``display`` is the host as people read it
    (Unicode), ``hits`` its misuse hits within the window, first and last seen ever."""

    seal_id: str
    member_name: str
    host: str
    display: str
    hits: int
    first_seen: datetime
    last_seen: datetime


# Rows a page shows at most: the busiest hosts of the window.
HOSTS_SHOWN = 50


def _hosts_in_window(
    days: QuerySet[SealMisuseHostDay], *, date_from: date, date_to: date, limit: int
) -> list[MisuseHostRow]:
    busiest = list(
        days.filter(day__gte=date_from, day__lte=date_to)
        .values("seal_id", "host")
        .annotate(n=Sum("hits"))
        .order_by("-n", "host", "seal_id")[:limit]
    )
    if not busiest:
        return []
    hits = {(row["seal_id"], row["host"]): row["n"] for row in busiest}
    found = {
        (row.seal_id, row.host): row
        for row in SealMisuseHost.objects.filter(
            seal_id__in={seal_id for seal_id, _ in hits}, host__in={host for _, host in hits}
        ).select_related("seal__member")
    }
    return [
        MisuseHostRow(
            seal_id=found[key].seal.public_id,
            member_name=found[key].seal.member.display_name,
            host=key[1],
            display=_display(key[1]),
            hits=n,
            first_seen=found[key].first_seen,
            last_seen=found[key].last_seen,
        )
        for key, n in hits.items()
        if key in found
    ]


def seal_misuse_hosts(
    *, seal: Seal, date_from: date, date_to: date, limit: int = HOSTS_SHOWN
) -> list[MisuseHostRow]:
    """The foreign hosts that showed ``seal`` between the two days (inclusive), busiest first."""
    return _hosts_in_window(
        SealMisuseHostDay.objects.filter(seal=seal),
        date_from=date_from,
        date_to=date_to,
        limit=limit,
    )


def issuer_misuse_hosts(
    *,
    issuer: Issuer,
    date_from: date,
    date_to: date,
    programme: Programme | None = None,
    limit: int = HOSTS_SHOWN,
) -> list[MisuseHostRow]:
    """The same over the issuer's seals (optionally one programme's), per seal and host."""
    days = SealMisuseHostDay.objects.filter(seal__issuer=issuer)
    if programme is not None:
        days = days.filter(seal__programme=programme)
    return _hosts_in_window(days, date_from=date_from, date_to=date_to, limit=limit)


def _display(host: str) -> str:
    name, sep, port = host.partition(":")
    return display_domain(name) + sep + port


@dataclass(frozen=True)
class NewMisuseHost:
    seal_id: str
    member_name: str
    host: str
    display: str
    first_seen: datetime
    hits: int


def issuer_new_misuse_hosts(*, issuer: Issuer, day: date) -> list[NewMisuseHost]:
    """Hosts first seen on ``day`` (UTC) for any of the issuer's seals, with that day's hits.
    Members excluded from statistics never have rows (the flush leaves them out)."""
    start, end = _day_bounds(day)
    rows = (
        SealMisuseHost.objects.filter(
            seal__issuer=issuer, first_seen__gte=start, first_seen__lte=end
        )
        .select_related("seal__member")
        .order_by("seal__member__display_name", "host")
    )
    hits = {
        (seal_id, host): n
        for seal_id, host, n in SealMisuseHostDay.objects.filter(
            seal__issuer=issuer, day=day
        ).values_list("seal_id", "host", "hits")
    }
    return [
        NewMisuseHost(
            seal_id=row.seal.public_id,
            member_name=row.seal.member.display_name,
            host=row.host,
            display=_display(row.host),
            first_seen=row.first_seen,
            hits=hits.get((row.seal_id, row.host), 0),
        )
        for row in rows
    ]


def issuers_with_new_misuse_hosts(*, day: date) -> list[int]:
    """Ids of issuers with a host first seen on ``day`` (across issuers: the digest planner)."""
    start, end = _day_bounds(day)
    return sorted(
        set(
            SealMisuseHost.objects.filter(first_seen__gte=start, first_seen__lte=end).values_list(
                "seal__issuer_id", flat=True
            )
        )
    )


def misuse_hosts_purge(*, before: date) -> int:
    """Retention, with the daily statistics' cutoff (privacy.retention): day rows before it go,
    hosts not seen since and the digests of those days; returns the rows deleted."""
    days, _ = SealMisuseHostDay.objects.filter(day__lt=before).delete()
    cutoff = datetime.combine(before, time.min, tzinfo=UTC)
    hosts, _ = SealMisuseHost.objects.filter(last_seen__lt=cutoff).delete()
    digests, _ = MisuseDigest.objects.filter(day__lt=before).delete()
    return days + hosts + digests

"""Reads of the issuer API shared by views, imports and tasks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet, Sum

from config.errors import InvalidInputError
from issuers.models import Issuer, Member, Programme
from seals.models import DailyStat, Seal, SealStatus

_DATED = (SealStatus.ACTIVE, SealStatus.PENDING)


def seal_status_q(status: str, now: datetime, prefix: str = "") -> Q:
    """SQL for ``effective_status(seal, now) == status`` (seals.status is the rule; this is its
    translation for filtering, checked against it in tests/issuers/test_api_members.py)."""

    def q(**kwargs: object) -> Q:
        return Q(**{f"{prefix}{k}": v for k, v in kwargs.items()})

    not_expired = q(expires_at__isnull=True) | q(expires_at__gt=now)
    if status in (SealStatus.REVOKED, SealStatus.SUSPENDED):
        return q(status=status)
    if status == SealStatus.EXPIRED:
        return q(status=SealStatus.EXPIRED) | (q(status__in=_DATED) & q(expires_at__lte=now))
    if status == SealStatus.PENDING:
        return q(status__in=_DATED) & q(valid_from__gt=now) & not_expired
    return q(status__in=_DATED) & q(valid_from__lte=now) & not_expired


def members_list(*, issuer: Issuer, filters: dict, now: datetime) -> QuerySet[Member]:
    members = Member.objects.filter(issuer=issuer).prefetch_related(
        Prefetch("seals", queryset=Seal.objects.select_related("programme").order_by("id"))
    )
    seal_q = Q()
    if status := filters.get("status"):
        seal_q &= seal_status_q(status, now, prefix="seals__")
    if programme := filters.get("programme"):
        seal_q &= Q(seals__programme__slug=programme)
    if before := filters.get("expiring_before"):
        seal_q &= Q(seals__expires_at__lt=before) & ~Q(seals__status=SealStatus.REVOKED)
    if seal_q:
        # One condition set on the same seal row, then de-duplicated by id.
        members = members.filter(pk__in=Member.objects.filter(issuer=issuer).filter(seal_q))
    if q := filters.get("q"):
        members = members.filter(
            Q(legal_name__icontains=q) | Q(display_name__icontains=q) | Q(external_ref__iexact=q)
        )
    if domain := filters.get("domain"):
        # Domains are a JSON list of normalised hostnames: match the quoted element, which works
        # on both PostgreSQL and SQLite (JSON containment is PostgreSQL-only).
        members = members.filter(domains__icontains=f'"{domain}"')
    if ref := filters.get("external_ref"):
        members = members.filter(external_ref=ref)
    return members


def seals_list(*, issuer: Issuer, filters: dict, now: datetime) -> QuerySet[Seal]:
    seals = Seal.objects.filter(issuer=issuer).select_related("member", "programme")
    if status := filters.get("status"):
        seals = seals.filter(seal_status_q(status, now))
    if programme := filters.get("programme"):
        seals = seals.filter(programme__slug=programme)
    if member := filters.get("member"):
        seals = seals.filter(member_id=member)
    if before := filters.get("expiring_before"):
        seals = seals.filter(expires_at__lt=before).exclude(status=SealStatus.REVOKED)
    return seals


# --- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StatCounts:
    impressions: int = 0
    verifications: int = 0  # verification page views, HTML and JSON
    misuse_hits: int = 0


@dataclass(frozen=True, kw_only=True)
class DayCounts(StatCounts):
    date: date


@dataclass(frozen=True, kw_only=True)
class StatsSeries:
    """Counts per day over ``[date_from, date_to]``, every day present (zeros included), so a
    client can chart it without filling gaps; ``totals`` is their sum."""

    date_from: date
    date_to: date
    days: list[DayCounts]
    totals: StatCounts


# The default window ends today (UTC) and spans 30 days; one request covers at most 366 days,
# which is also about what DailyStat keeps (RETENTION_DAILY_STATS_MONTHS: older days are summed
# into MonthlyStat, docs/privacy.md).
STATS_DEFAULT_DAYS = 30
STATS_MAX_DAYS = 366


class StatsWindowError(InvalidInputError):
    """A day range the statistics do not answer (API: 400 on ``from`` or ``to``)."""


def stats_window(*, date_from: date | None, date_to: date | None, today: date) -> tuple[date, date]:
    """The inclusive day range of a statistics request: ``to`` defaults to today (UTC), ``from``
    to the ``STATS_DEFAULT_DAYS`` days ending at ``to``. Raises StatsWindowError when from is
    after to or the range is longer than ``STATS_MAX_DAYS``."""
    date_to = date_to or today
    if date_from is None:
        # max(): a `to` in the first days of year 1 must not overflow into a 500.
        date_from = date.min + max(
            date_to - date.min - timedelta(days=STATS_DEFAULT_DAYS - 1), timedelta(0)
        )
    if date_from > date_to:
        raise StatsWindowError(
            "from", f"'from' ({date_from}) is after 'to' ({date_to}); swap them."
        )
    span = (date_to - date_from).days + 1
    if span > STATS_MAX_DAYS:
        raise StatsWindowError(
            "to",
            f"The range {date_from} to {date_to} is {span} days; at most {STATS_MAX_DAYS} days "
            "per request. Ask for the rest in another request.",
        )
    return date_from, date_to


def _stats_series(rows: QuerySet[DailyStat], *, date_from: date, date_to: date) -> StatsSeries:
    summed = {
        row["day"]: row
        for row in rows.filter(day__gte=date_from, day__lte=date_to)
        .values("day")
        .annotate(i=Sum("impressions"), v=Sum("verification_views"), m=Sum("misuse_hits"))
        .order_by()
    }
    days = []
    for offset in range((date_to - date_from).days + 1):
        day = date_from + timedelta(days=offset)
        row = summed.get(day, {})
        days.append(
            DayCounts(
                date=day,
                impressions=row.get("i", 0),
                verifications=row.get("v", 0),
                misuse_hits=row.get("m", 0),
            )
        )
    totals = StatCounts(
        impressions=sum(d.impressions for d in days),
        verifications=sum(d.verifications for d in days),
        misuse_hits=sum(d.misuse_hits for d in days),
    )
    return StatsSeries(date_from=date_from, date_to=date_to, days=days, totals=totals)


def seal_stats_daily(*, seal: Seal, date_from: date, date_to: date) -> StatsSeries:
    """One seal's counters per day. DailyStat holds only what the flush kept: days on which the
    member was restricted or erased were never written (seals.stats.flush_counts)."""
    return _stats_series(DailyStat.objects.filter(seal=seal), date_from=date_from, date_to=date_to)


def issuer_stats_daily(
    *, issuer: Issuer, date_from: date, date_to: date, programme: Programme | None = None
) -> StatsSeries:
    """The issuer's counters per day, summed over its seals (optionally one programme's)."""
    rows = DailyStat.objects.filter(seal__issuer=issuer)
    if programme is not None:
        rows = rows.filter(seal__programme=programme)
    return _stats_series(rows, date_from=date_from, date_to=date_to)


def members_excluded_from_stats() -> QuerySet[Member]:
    """Members whose seals must not be counted: restricted processing or erased."""
    return Member.objects.filter(Q(restricted=True) | Q(erased_at__isnull=False))


def seal_ids_excluded_from_stats(public_ids: list[str]) -> set[str]:
    """Of these seal public ids, those whose counts are to be dropped (for the stats flush)."""
    excluded = members_excluded_from_stats()
    return set(
        Seal.objects.filter(public_id__in=public_ids, member__in=excluded).values_list(
            "public_id", flat=True
        )
    )

"""Reads of the issuer API shared by views, imports and tasks."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import reduce
from typing import NamedTuple

from django.db import connections
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from config.db_router import PRIMARY
from config.errors import InvalidInputError
from config.id_first import IdAmong
from config.tenancy import scopes_disabled
from issuers.countries import country_problem, usual_mistake
from issuers.domains import host_matches
from issuers.models import Issuer, Member, Programme
from seals.models import DailyStat, Seal, SealStatus
from seals.status import effective_status, next_change_at

_DATED = (SealStatus.ACTIVE, SealStatus.PENDING)
# Every stored status, the ones most seals have first: a count that stops at a threshold
# (members_holding_seals) is over it soonest.
_BY_SIZE = (
    SealStatus.ACTIVE,
    SealStatus.EXPIRED,
    SealStatus.SUSPENDED,
    SealStatus.REVOKED,
    SealStatus.PENDING,
)


class SealPart(NamedTuple):
    """One part of a seal condition that is an OR of parts: the stored statuses it admits, a
    condition on the seal's other columns, and the column after (issuer, status) of the index
    that holds the seals meeting that condition as one range. Written so because the member
    list reads each stored status apart (members_holding_seals); elsewhere the OR is one
    condition (seal_parts_q)."""

    stored: tuple[str, ...]
    condition: Q
    range_by: str = "expires_at"  # seal_status_expiry_holder; valid_from is seal_due_start


SealParts = list[SealPart]


def seal_status_parts(status: str, now: datetime, prefix: str = "") -> SealParts:
    """``effective_status(seal, now) == status`` (seals.status is the rule; this is its
    translation for filtering, checked against it in tests/issuers/test_api_resources.py)."""

    def q(**kwargs: object) -> Q:
        return Q(**{f"{prefix}{k}": v for k, v in kwargs.items()})

    not_expired = q(expires_at__isnull=True) | q(expires_at__gt=now)
    if status in (SealStatus.REVOKED, SealStatus.SUSPENDED):
        return [SealPart((status,), Q())]
    if status == SealStatus.EXPIRED:
        return [SealPart((SealStatus.EXPIRED,), Q()), SealPart(_DATED, q(expires_at__lte=now))]
    if status == SealStatus.PENDING:
        return [SealPart(_DATED, q(valid_from__gt=now) & not_expired, range_by="valid_from")]
    return [SealPart(_DATED, q(valid_from__lte=now) & not_expired)]


def seal_parts_q(parts: SealParts, prefix: str = "") -> Q:
    """The one condition the parts make: their OR. (An empty ``Q()`` is Django's identity for
    ``|`` as for ``&``, so a part that admits every seal is answered apart.)"""
    found = []
    for stored, condition, _range_by in parts:
        if set(stored) != set(SealStatus.values):
            field, value = ("status", stored[0]) if len(stored) == 1 else ("status__in", stored)
            condition = Q(**{f"{prefix}{field}": value}) & condition
        if not condition:
            return Q()
        found.append(condition)
    return reduce(operator.or_, found) if found else Q(pk__in=[])


def seal_status_q(status: str, now: datetime, prefix: str = "") -> Q:
    """SQL for ``effective_status(seal, now) == status``."""
    return seal_parts_q(seal_status_parts(status, now, prefix), prefix)


def _programme_id(issuer: Issuer, slug: str) -> Subquery:
    # A scalar subquery, not a join on the slug: PostgreSQL runs it once before the scan, so
    # `programme_id = <its answer>` can steer an index like any constant.
    return Subquery(Programme.objects.filter(issuer=issuer, slug=slug).values("pk"))


# At most this many of the issuer's seals meeting a list's seal conditions and the list starts
# from those seals; more, and it walks the members in list order. Measured at 1,000,000 members
# (docs/performance.md): starting from 2,858 seals is 4 ms and from 20,000 about 100 ms (a
# primary-key probe each), while the walk finds a page among 2 % of members in 10-60 ms.
SEAL_FIRST_MAX_SEALS = 10_000
# Up to this many seals of one stored status meeting a condition are read whole to find their
# members' id range; more, and the range's ends are looked for in member order.
FEW_SEALS_OF_A_STATUS = 100


def member_search_q(q: str, *, issuer: Issuer) -> Q:
    """``?q=`` of the member list, the API and the public register: the legal or the display
    name contains ``q``, or the membership number is ``q``, whatever the case of either.

    The names are matched in ``Member.search_names``, which holds them in capitals already:
    the pattern is upper-cased once, not each row's names. The number is looked up first, on
    its own index (member_ref_upper), so a row costs an id comparison, not an UPPER. On
    PostgreSQL the planner then either walks the list's order on member_name_search, which
    covers the names, until a page matches (a common word), or takes the rows from the
    trigram index member_search_trgm and sorts them (a rare one)."""
    # A line break is a space here: names hold none (issuers.text), so one in q could only
    # match across the seam between the two names in search_names.
    words = q.replace("\n", " ")
    by_number = Member.objects.filter(issuer=issuer, external_ref__iexact=q.strip()).values("pk")
    return Q(search_names__contains=Upper(Value(words))) | Q(IdAmong(F("pk"), Subquery(by_number)))


def members_holding_seals(
    members: QuerySet[Member], *, issuer: Issuer, parts: SealParts, ranged: SealParts
) -> QuerySet[Member]:
    """``members`` holding at least one of ``issuer``'s seals that meets ``parts``, by the plan
    that is fast for how many such seals there are.

    Why two plans: the list is ordered by a member column, so PostgreSQL's favourite plan walks
    the members in that order (an index range) probing each one's seals, and stops at a page.
    That is quick when many members match (``status=active``) and slow when few do: at
    1,000,000 members it probed 40,000 to find a page of the 0.3 % pending ones (1.1 s), and the
    planner cannot tell, pricing the walk at a fiftieth of what it costs. So a bounded count of
    the matching seals decides (it reads at most SEAL_FIRST_MAX_SEALS + 1 of them): few, and the
    list starts from those seals (their own indexes, then a primary-key lookup per member and a
    sort of those few); many, and the members are walked with an EXISTS per member, between the
    lowest and the highest id of a member holding a seal that meets ``ranged``
    (_holders_id_range), which every seal meeting ``parts`` meets.

    Both plans are one WHERE condition on the same queryset: the order, the keyset cursor and
    the rows of every page are the same whichever runs (tests/console/test_member_seal_plans.py).
    Both stay inside ``issuer``: its seals only, as well as its members."""
    seals = Seal.objects.using(members.db).filter(seal_parts_q(parts), issuer=issuer)
    if not _more_seals_than(SEAL_FIRST_MAX_SEALS, db=members.db, issuer=issuer, parts=parts):
        return members.filter(IdAmong(F("pk"), Subquery(seals.values("member_id"))))
    # None: the seals went between the two reads, and the walk will say so.
    if ranged and (ends := _holders_id_range(members.db, issuer=issuer, parts=ranged)):
        members = members.filter(pk__range=ends)
    # EXISTS, a semi-join: a member with several such seals is listed once, and the walk stops
    # probing a member at its first.
    return members.filter(Exists(seals.filter(member=OuterRef("pk"))))


def _more_seals_than(limit: int, *, db: str, issuer: Issuer, parts: SealParts) -> bool:
    """Whether more than ``limit`` of ``issuer``'s seals meet ``parts``, counted a part at a time
    (the parts admit no stored status in common, so hold no seal in common), each count
    stopping past what is left. The parts' OR as one condition is a bitmap of every seal that
    meets it, built whole before the count can stop: 14-22 ms for the 133,000 expired seals at
    1,000,000, against 2-3 ms for the two parts apart."""
    left = limit
    for part in parts:
        seals = Seal.objects.using(db).filter(seal_parts_q([part]), issuer=issuer)
        left -= seals[: max(left + 1, 0)].count()
        if left < 0:
            return True
    return False


def _holders_id_range(db: str, *, issuer: Issuer, parts: SealParts) -> tuple[int, int] | None:
    """The lowest and the highest id of a member holding one of ``issuer``'s seals that meets
    ``parts``, or None when no seal does.

    Why: the walk probes every member it passes, and where the holders gather at one end of
    the list's order the other end is all misses. Lapsed memberships are the old members',
    so ``status=expired`` newest first passed 200,000 members (190 ms of probes) before its
    first. The walk tests the id range on its index entry, before any probe, and ids grow
    with creation, so in the creation orders the range cuts off those runs; in any order it
    holds, and it changes no page.

    How, a stored status at a time (one scan in member order for the whole OR read 200,000
    entries from the high end, 40-50 ms):
    - a part that is the stored status alone (swept expiry, revoked, suspended): its first and
      last seal in seal_status_member (issuer, status, member), one index entry each;
    - a part with a condition besides, when few seals meet it (dated seals past their expiry
      and not yet swept): those seals' members, read in the order of the index that holds
      the condition as a range (``range_by``), so that PostgreSQL reads that range and not
      the table (seal_status_expiry_holder holds the member too). Walking seal_status_member
      for a condition nothing meets would read every seal of the status (290 ms for the
      active ones at 1,000,000, the moment after a sweep), and unordered, with the few seals
      misjudged as many, the planner chose to scan the table for them;
    - such a part that many seals meet: its first and last seal in seal_status_member, which
      holds the columns a part tests as keys, so the scan tests them in the index pages."""
    ends: list[int] = []
    walks: dict[str, Subquery] = {}
    for stored, condition, range_by in parts:
        for status in stored:
            seals = Seal.objects.using(db).filter(condition, issuer=issuer, status=status)
            if condition:
                in_range = seals.order_by(range_by).values_list("member_id", flat=True)
                few = list(in_range[: FEW_SEALS_OF_A_STATUS + 1])
                if len(few) <= FEW_SEALS_OF_A_STATUS:
                    ends += few
                    continue
            n = len(walks)
            walks[f"low{n}"] = Subquery(seals.order_by("member_id").values("member_id")[:1])
            walks[f"high{n}"] = Subquery(seals.order_by("-member_id").values("member_id")[:1])
    if walks:
        found = Issuer.objects.using(db).filter(pk=issuer.pk).annotate(**walks).values_list(*walks)
        ends += [member_id for member_id in found.get() if member_id is not None]
    return (min(ends), max(ends)) if ends else None


def members_list(*, issuer: Issuer, filters: dict, now: datetime) -> QuerySet[Member]:
    # The members may come from a replica (a list is lag-tolerant); their seals, which carry
    # the statuses shown beside them, always from the primary (config.db_router).
    seals = Seal.objects.using(PRIMARY).select_related("programme").order_by("id")
    members: QuerySet[Member] = Member.listing.filter(issuer=issuer).prefetch_related(
        Prefetch("seals", seals)
    )
    status, programme = filters.get("status"), filters.get("programme")
    before = filters.get("expiring_before")
    if status or programme or before:
        parts = seal_status_parts(status, now) if status else [SealPart(_BY_SIZE, Q())]
        if before:  # a revoked seal is not expiring: it has ended
            parts = [
                SealPart(
                    tuple(s for s in stored if s != SealStatus.REVOKED),
                    condition & Q(expires_at__lt=before),
                    range_by,
                )
                for stored, condition, range_by in parts
            ]
        parts = [part for part in parts if part.stored]
        # The holders' id range leaves the programme out: a wider range, as true, and each part
        # one range of an index (members_holding_seals).
        ranged = parts if status or before else []
        if programme:
            in_programme = Q(programme_id=_programme_id(issuer, programme))
            parts = [part._replace(condition=part.condition & in_programme) for part in parts]
        members = members_holding_seals(members, issuer=issuer, parts=parts, ranged=ranged)
    if q := filters.get("q"):
        members = members.filter(member_search_q(q, issuer=issuer))
    if domain := filters.get("domain"):
        # Domains are a JSON list of normalised (lower-case IDNA) hostnames, and so is `domain`.
        if connections[members.db].vendor == "postgresql":
            # Containment of the element: one posting list of the GIN index member_domains. A
            # trigram index on the text would wade through "www", "exa", "com" and the digits.
            members = members.filter(domains__contains=[domain])
        else:
            # SQLite has no JSON containment: match the quoted element in the text.
            members = members.filter(domains__icontains=f'"{domain}"')
    if country := filters.get("country"):
        members = members.filter(country=country)
    if ref := filters.get("external_ref"):
        members = members.filter(external_ref=ref)
    return members


def seals_list(*, issuer: Issuer, filters: dict, now: datetime) -> QuerySet[Seal]:
    seals = (
        Seal.objects.filter(issuer=issuer)
        .select_related("member", "programme")
        # A seal shows its member's reference, never the contact: not decrypting three fields
        # per row saves about a third of a page's CPU.
        .defer(*(f"member__{name}" for name in Member.CONTACT_FIELDS))
    )
    if status := filters.get("status"):
        seals = seals.filter(seal_status_q(status, now))
    if programme := filters.get("programme"):
        seals = seals.filter(programme_id=_programme_id(issuer, programme))
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


def member_withheld_q() -> Q:
    """Members whose data no public list and no count may use: restricted processing or
    erased (the statistics, the public register and "check a website" all apply it)."""
    return Q(restricted=True) | Q(erased_at__isnull=False)


def members_excluded_from_stats() -> QuerySet[Member]:
    """Members whose seals must not be counted: restricted processing or erased."""
    return Member.objects.filter(member_withheld_q())


def seal_ids_excluded_from_stats(public_ids: list[str]) -> set[str]:
    """Of these seal public ids, those whose counts are to be dropped (for the stats flush)."""
    excluded = members_excluded_from_stats()
    return set(
        Seal.objects.filter(public_id__in=public_ids, member__in=excluded).values_list(
            "public_id", flat=True
        )
    )


# --- the public register and "check a website" -------------------------------------------------
# Only the corporate fields a public seal shows are read: the contact fields are never loaded
# (nor decrypted), so no public list can leak them.
_PUBLIC_MEMBER_COLUMNS = ("id", "issuer_id", "external_ref", *Member.PUBLIC_FIELDS)
REGISTER_PAGE_SIZE = 50
REGISTER_MAX_PAGE_SIZE = 200
CHECK_MAX_MEMBERS = 100


@dataclass(frozen=True, kw_only=True)
class ShownSeal:
    """One line of a public list: a member's standing in one programme, as of ``now``."""

    public_id: str
    programme_slug: str
    programme_name: str
    status: str  # the effective status (seals.status)
    next_change: datetime | None  # when that status changes by itself (caches end there)

    @property
    def valid(self) -> bool:
        return self.status == SealStatus.ACTIVE


@dataclass(frozen=True, kw_only=True)
class ListedMember:
    member: Member  # only _PUBLIC_MEMBER_COLUMNS loaded
    seals: list[ShownSeal]


@dataclass(frozen=True, kw_only=True)
class RegisterFilters:
    """A register search; every key optional, all given keys must match."""

    q: str = ""  # a legal or display name (substring), or a membership number (exact)
    domain: str = ""  # a normalised hostname: members with it or a parent domain of it
    country: str = ""  # ISO 3166-1 alpha-2, upper-case


@dataclass(frozen=True)
class RegisterCursor:
    """Where a register page starts: after this (display_name, id), the register's order."""

    display_name: str
    id: int


@dataclass(frozen=True, kw_only=True)
class RegisterPage:
    rows: list[ListedMember]
    next: RegisterCursor | None


def list_country(value: str) -> str:
    """``value`` as a member list's country key (the register's, the console's); raises
    InvalidInputError unless it is an assigned ISO 3166-1 alpha-2 code, naming the right one
    for a usual mistake (``UK``). The API says the same in its own words (country_problem)."""
    country = value.strip().upper()
    if right := usual_mistake(country):
        raise InvalidInputError(
            "country",
            _("“%(value)s” is not a country code: that country's code is %(code)s.")
            % {"value": value[:20], "code": right},
        )
    if country_problem(country) is not None:
        raise InvalidInputError(
            "country",
            _("“%(value)s” is not a country code: give two letters, such as GB.")
            % {"value": value[:20]},
        )
    return country


def register_listed_q(issuer: Issuer) -> Q:
    """Members ``issuer``'s public register lists: the member's own choice, else the issuer's
    default; never a restricted or erased member, whatever either says."""
    chosen = Q(register_listed=True)
    if issuer.register_lists_members:
        chosen |= Q(register_listed__isnull=True)
    return chosen & ~member_withheld_q()


def host_candidates(host: str) -> list[str]:
    """The member domains that ``issuers.domains.host_matches`` accepts for ``host`` (a
    normalised hostname): the host itself and each parent with at least two labels (member
    domains have two or more), so ``shop.crumb.example`` gives itself and ``crumb.example``."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def domains_q(hosts: list[str], *, vendor: str) -> Q:
    """Members whose domains list holds one of ``hosts`` (normalised hostnames)."""
    q = Q()
    for host in hosts:
        if vendor == "postgresql":
            # JSON containment, one posting list of the GIN index member_domains each (a
            # BitmapOr of a few probes), as the member list's ?domain= does.
            q |= Q(domains__contains=[host])
        else:
            # SQLite has no JSON containment: the quoted element in the text (a scan).
            q |= Q(domains__icontains=f'"{host}"')
    return q


def _shown_seals(member: Member, now: datetime) -> list[ShownSeal]:
    """The member's newest seal in each programme with its status now: a renewed or
    re-awarded membership shows once, as it stands, not beside its own past."""
    newest: dict[int, Seal] = {}
    for seal in member.seals.all():  # prefetched newest first
        newest.setdefault(seal.programme_id, seal)
    return [
        ShownSeal(
            public_id=seal.public_id,
            programme_slug=seal.programme.slug,
            programme_name=seal.programme.name,
            status=effective_status(seal, now),
            next_change=next_change_at(seal, now),
        )
        for seal in sorted(newest.values(), key=lambda s: (s.programme.name, s.programme_id))
    ]


def _with_public_seals(members: QuerySet[Member]) -> QuerySet[Member]:
    # As in members_list: the search may run on a replica, the statuses never do.
    seals = Seal.objects.using(PRIMARY).select_related("programme").order_by("-created_at", "-id")
    return members.only(*_PUBLIC_MEMBER_COLUMNS).prefetch_related(Prefetch("seals", seals))


def register_page(
    *,
    issuer: Issuer,
    filters: RegisterFilters,
    after: RegisterCursor | None,
    limit: int,
    now: datetime,
) -> RegisterPage:
    """One page of ``issuer``'s public register, in (display_name, id) order: listed members
    holding at least one seal, each with its seals' status at ``now``. Run inside the issuer's
    scope. Keyset paging: a page is one range of an (issuer, [country,] display_name, id)
    index, however deep, and rows added or removed meanwhile never shift the pages after it."""
    members = Member.objects.filter(register_listed_q(issuer), issuer=issuer).filter(
        Exists(Seal.objects.filter(issuer=issuer, member=OuterRef("pk")))
    )
    if filters.q:
        members = members.filter(member_search_q(filters.q, issuer=issuer))
    if filters.domain:
        vendor = connections[members.db].vendor
        members = members.filter(domains_q(host_candidates(filters.domain), vendor=vendor))
    if filters.country:
        members = members.filter(country=filters.country)
    if after is not None:
        # The redundant >= gives the index scan its start; the OR then skips the rows of that
        # very name up to and including the last one shown.
        members = members.filter(display_name__gte=after.display_name).filter(
            Q(display_name__gt=after.display_name) | Q(id__gt=after.id)
        )
    found = list(_with_public_seals(members.order_by("display_name", "id"))[: limit + 1])
    rows = [ListedMember(member=m, seals=_shown_seals(m, now)) for m in found[:limit]]
    last = found[limit - 1] if len(found) > limit else None
    return RegisterPage(
        rows=rows, next=RegisterCursor(last.display_name, last.id) if last else None
    )


@dataclass(frozen=True, kw_only=True)
class HostAnswer:
    """Who vouches for a website: per issuer, its members on that host and their seals."""

    issuer: Issuer
    member: Member  # only _PUBLIC_MEMBER_COLUMNS loaded
    seals: list[ShownSeal]

    @property
    def valid(self) -> bool:
        return any(seal.valid for seal in self.seals)


def seals_for_host(*, host: str, now: datetime) -> list[HostAnswer]:
    """Every issuer's members whose domains cover ``host`` (a normalised hostname; subdomains
    count, as ``issuers.domains.host_matches`` says), with their seals' status at ``now``;
    members without a seal, restricted or erased are left out. At most CHECK_MAX_MEMBERS.

    Spans issuers by nature (a website may be vouched for by several), hence unscoped; it reads
    only what the verification pages of those seals show anyway."""
    with scopes_disabled():
        members = Member.objects.filter(
            domains_q(host_candidates(host), vendor=connections[Member.objects.db].vendor)
        ).exclude(member_withheld_q())
        members = members.filter(Exists(Seal.objects.filter(member=OuterRef("pk"))))
        found = list(
            _with_public_seals(members).order_by("issuer_id", "display_name", "id")[
                :CHECK_MAX_MEMBERS
            ]
        )
        issuers = Issuer.objects.in_bulk({m.issuer_id for m in found})
        answers = [
            HostAnswer(issuer=issuers[m.issuer_id], member=m, seals=_shown_seals(m, now))
            for m in found
            # The one rule of what "on this website" means, re-applied to what SQL matched.
            if host_matches(host, m.domains)
        ]
    return sorted(answers, key=lambda a: (a.issuer.name, a.issuer.pk, a.member.display_name))

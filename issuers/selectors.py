"""Reads of the issuer API shared by views, imports and tasks."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from issuers.models import Issuer, Member
from seals.models import Seal, SealStatus

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

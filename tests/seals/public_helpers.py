"""Shared builders for the public-surface tests."""

from __future__ import annotations

from issuers.models import Member
from seals.models import Seal
from seals.services import seal_revoke, seal_suspend
from tests.factories import MemberFactory, award

STATUSES = ("active", "pending", "expired", "suspended", "revoked")


def seal_in(status: str, member: Member | None = None) -> Seal:
    member = member or MemberFactory(domains=["shop.example"])
    if status == "pending":
        return award(member, start_days=5)
    if status == "expired":
        return award(member, start_days=-10, days=5)
    seal = award(member)
    if status == "suspended":
        return seal_suspend(seal=seal, reason="audit pending", actor="test")
    if status == "revoked":
        return seal_revoke(seal=seal, reason="fraud", actor="test")
    return seal


def regenerate_status_lists() -> int:
    """What the beat job ``workers.regenerate_status_lists`` runs, without its slot and
    execution locks: a test re-signs lists as often as it changes them, not once per slot."""
    from config.tenancy import scopes_disabled
    from seals.status_lists import status_lists_regenerate_dirty

    with scopes_disabled():
        return status_lists_regenerate_dirty()

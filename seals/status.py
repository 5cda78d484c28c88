"""The single place where a seal's status is decided (DESIGN §1.1: the seal never lies)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from seals.models import SealStatus


class Dated(Protocol):
    """What the status rule reads: a ``Seal``, or the public snapshot of one
    (``seals.snapshot_types.SealSnapshot``), so both are judged by this one rule."""

    @property
    def status(self) -> str: ...
    @property
    def valid_from(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime | None: ...


def effective_status(seal: Dated, now: datetime) -> str:
    """Status at ``now`` from the authoritative record: revoked > suspended > expired > pending
    > active. Time boundaries are half-open: a seal is active from ``valid_from`` (inclusive) up
    to ``expires_at`` (exclusive), so no worker needs to have run for the answer to be right."""
    if seal.status == SealStatus.REVOKED:
        return SealStatus.REVOKED
    if seal.status == SealStatus.SUSPENDED:
        return SealStatus.SUSPENDED
    if seal.status == SealStatus.EXPIRED:
        return SealStatus.EXPIRED
    return status_by_dates(seal, now)


def status_by_dates(seal: Dated, now: datetime) -> str:
    """What the validity dates alone say (expired > pending > active): the part of
    ``effective_status`` that a reinstated seal returns to."""
    if seal.expires_at is not None and now >= seal.expires_at:
        return SealStatus.EXPIRED
    if now < seal.valid_from:
        return SealStatus.PENDING
    return SealStatus.ACTIVE


def next_change_at(seal: Dated, now: datetime) -> datetime | None:
    """The next instant at which ``effective_status`` changes by itself, or None.

    Caches and ``max-age`` are bounded by this so a scheduled change is never served stale.
    """
    status = effective_status(seal, now)
    if status == SealStatus.PENDING:
        return seal.valid_from
    if status == SealStatus.ACTIVE:
        return seal.expires_at
    return None

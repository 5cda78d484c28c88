"""A ``SealSnapshot`` built in memory, for tests that need no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from seals.snapshot_types import (
    HistoryEntry,
    IssuerFacts,
    MemberFacts,
    ProgrammeFacts,
    SealSnapshot,
    StatusListPosition,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

BASE = SealSnapshot(
    public_id="a" * 22,
    pk=7,
    status="active",  # as loaded: plain strings, no enum members
    status_changed_at=T0,
    valid_from=T0,
    expires_at=T1,
    version=1,
    status_list=StatusListPosition(number=0, index=42),
    issuer=IssuerFacts(
        pk=3,
        slug="guild",
        name="Guild of Careful Bakers",
        kind="association",
        website="https://guild.example",
        logo_version=0,
        chain_head="0" * 64,
        chain_length=1,
    ),
    programme=ProgrammeFacts(
        slug="member",
        name="Accredited Member",
        description="",
        criteria_url="",
        theme="light",
    ),
    member=MemberFacts(
        display_name="Lovelace Bakery",
        legal_name="Lovelace Analytical Bakery Ltd",
        domains=("lovelace-bakery.example",),
        country="GB",
    ),
    history=(HistoryEntry(kind="issued", at=T0),),
    erased=False,
    loaded_at=T0,
    digest="0123456789abcdef01234567",
)


def snapshot_with(**changes: object) -> SealSnapshot:
    return replace(BASE, **changes)  # type: ignore[arg-type]

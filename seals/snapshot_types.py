"""The shape of a seal's public snapshot (``seals.snapshot``): frozen, typed, and its cache form.

Every public read (image, verification page and JSON, certificate, badge, the fast path's
replay) takes its facts from a ``SealSnapshot``; nothing reads them by string key.

The shared cache holds ``to_cache()``'s plain tuple, never a pickled ``SealSnapshot``: a
pickled dataclass from a release with other fields would unpickle into an object missing
attributes, and fail only later, in a view. The tuple starts with ``CACHE_FORMAT``;
``from_cache`` answers None for any other format or shape, so such an entry is a cache miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from seals.status import effective_status, next_change_at

# Bump whenever a field is added, removed, reordered or changes type.
CACHE_FORMAT = 5

_SealRow = tuple[
    str, int, str, datetime, datetime, datetime | None, int, tuple[int, int] | None, bool,
    datetime, str,
]  # fmt: skip
_IssuerRow = tuple[int, str, str, str, str, int, str, int, bool]
_ProgrammeRow = tuple[str, str, str, str, str, str, str, str, str]
_MemberRow = tuple[str, str, tuple[str, ...], str]
# What to_cache gives: (CACHE_FORMAT, seal, issuer, programme, member, history).
CacheForm = tuple[
    int, _SealRow, _IssuerRow, _ProgrammeRow, _MemberRow, tuple[tuple[str, datetime], ...]
]


@dataclass(frozen=True, slots=True)
class IssuerFacts:
    pk: int
    slug: str
    name: str
    kind: str
    website: str
    logo_version: int  # 0 when the issuer has no logo
    # Copied at load time; SNAPSHOT_TTL bounds their age (they move with every issuer event).
    chain_head: str
    chain_length: int
    # Credentials name the issuer by its DID: their ids change with it (the certificate prints one).
    credentials_use_did: bool = False


@dataclass(frozen=True, slots=True)
class ProgrammeFacts:
    slug: str
    name: str
    description: str
    criteria_url: str
    theme: str
    # Printed under the certificate's signature line; blank gives a line labelled with the issuer.
    signatory_name: str = ""
    signatory_title: str = ""
    # The seal's design: the line under the member's name and the rosette's colour.
    wording: str = ""
    accent_colour: str = ""


@dataclass(frozen=True, slots=True)
class MemberFacts:
    display_name: str
    legal_name: str
    domains: tuple[str, ...]
    country: str


@dataclass(frozen=True, slots=True)
class StatusListPosition:
    """Where the seal's bits sit in its issuer's status lists: the same list number and index
    for revocation and suspension."""

    number: int
    index: int


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    # Kinds and dates only: reasons and actors stay private (DESIGN §3, SealEvent).
    kind: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SealSnapshot:
    """Stored facts only: the status a visitor sees is computed from them at request time
    (``status_at``), so an expiry flips on time with no invalidation and no worker."""

    public_id: str
    pk: int
    status: str  # as stored; see status_at
    status_changed_at: datetime
    valid_from: datetime
    expires_at: datetime | None
    version: int
    status_list: StatusListPosition | None  # None until an index is assigned
    issuer: IssuerFacts
    programme: ProgrammeFacts
    member: MemberFacts
    history: tuple[HistoryEntry, ...]  # oldest first
    # The holder's corporate data was erased: the public side says only "no longer valid".
    erased: bool
    loaded_at: datetime
    # Over every public field (not history, loaded_at, chain head): stable across web nodes,
    # so ETags derive from it.
    digest: str

    def status_at(self, now: datetime) -> str:
        """The effective status at ``now`` (``seals.status.effective_status``: revoked >
        suspended > expired > pending > active, active from ``valid_from`` inclusive up to
        ``expires_at`` exclusive)."""
        return effective_status(self, now)

    def next_change(self, now: datetime) -> datetime | None:
        """The next instant at which ``status_at`` changes by itself, or None."""
        return next_change_at(self, now)

    def to_cache(self) -> CacheForm:
        """Builtins and datetimes only, led by ``CACHE_FORMAT`` (see the module docstring)."""
        issuer, programme, member, position = (
            self.issuer,
            self.programme,
            self.member,
            self.status_list,
        )
        return (
            CACHE_FORMAT,
            (
                self.public_id,
                self.pk,
                self.status,
                self.status_changed_at,
                self.valid_from,
                self.expires_at,
                self.version,
                (position.number, position.index) if position is not None else None,
                self.erased,
                self.loaded_at,
                self.digest,
            ),
            (
                issuer.pk,
                issuer.slug,
                issuer.name,
                issuer.kind,
                issuer.website,
                issuer.logo_version,
                issuer.chain_head,
                issuer.chain_length,
                issuer.credentials_use_did,
            ),
            (
                programme.slug,
                programme.name,
                programme.description,
                programme.criteria_url,
                programme.theme,
                programme.signatory_name,
                programme.signatory_title,
                programme.wording,
                programme.accent_colour,
            ),
            (member.display_name, member.legal_name, member.domains, member.country),
            tuple((entry.kind, entry.at) for entry in self.history),
        )

    @classmethod
    def from_cache(cls, value: object) -> SealSnapshot | None:
        """The snapshot ``to_cache`` gave ``value`` for, or None when ``value`` is in another
        format (an entry an earlier or later release wrote, or not one of ours at all)."""
        if not isinstance(value, tuple) or len(value) != 6 or value[0] != CACHE_FORMAT:
            return None
        _, seal, issuer, programme, member, history = cast(CacheForm, value)
        try:
            (
                public_id,
                pk,
                status,
                status_changed_at,
                valid_from,
                expires_at,
                version,
                position,
                erased,
                loaded_at,
                digest,
            ) = seal
            return cls(
                public_id=public_id,
                pk=pk,
                status=status,
                status_changed_at=status_changed_at,
                valid_from=valid_from,
                expires_at=expires_at,
                version=version,
                status_list=StatusListPosition(*position) if position is not None else None,
                issuer=IssuerFacts(*issuer),
                programme=ProgrammeFacts(*programme),
                member=MemberFacts(*member),
                history=tuple(HistoryEntry(kind, at) for kind, at in history),
                erased=erased,
                loaded_at=loaded_at,
                digest=digest,
            )
        except (TypeError, ValueError):  # a shape this format never wrote: a miss, not a 500
            return None

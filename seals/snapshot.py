"""The cached public snapshot of a seal: everything a public read needs, in one cache entry.

Hot path (DESIGN §1.4): no database query, and no cache round trip either when this process
holds a copy its cache vouches for (a backend that offers ``local_copies``, as the fast path's
``fastpath.cache`` does: Redis pushes every generation-token change to every web process, and
a copy is dropped before the next request reads it); otherwise one round trip (``get_many`` of
the snapshot and its generation token).
The snapshot (``seals.snapshot_types.SealSnapshot``) holds stored facts only; the effective
status is computed from it at request time (``SealSnapshot.status_at``), so expiry flips on
time with no invalidation and no worker. The shared cache holds its ``to_cache()`` form.

Invalidation: every write replaces the seal's *generation token* (``invalidate_seal``). A
snapshot is used only when it carries the current token, so a reader that loaded the database
just before a write and stores its snapshot just after cannot keep serving it: its token is
already stale. Cache errors never fail a read: the snapshot is then built from the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Iterable
from typing import Protocol

from django.core.cache import cache
from django.utils import timezone

from config.tenancy import scopes_disabled
from issuers.models import Issuer, Member, Programme
from seals.models import Seal, SealEvent
from seals.snapshot_types import (
    CACHE_FORMAT,
    HistoryEntry,
    IssuerFacts,
    MemberFacts,
    ProgrammeFacts,
    SealSnapshot,
    StatusListPosition,
)
from seals.status_lists import status_entries_at

log = logging.getLogger(__name__)

# Bounds how stale the copied issuer chain head can get; status never depends on this TTL.
SNAPSHOT_TTL = 300
GEN_TTL = 7 * 24 * 3600
HISTORY_LIMIT = 100
MISSING = "missing"  # cached answer for an unknown id, so random ids do not each cost a query
# Part of the cache key as well as of the entry: during a rolling deploy the releases' nodes
# then keep apart entries instead of overwriting each other's (an earlier release reading this
# one's entry would fail on it, and each would keep refilling what the other just wrote).
SNAPSHOT_VERSION = CACHE_FORMAT


def _snap_key(public_id: str) -> str:
    return f"pub:snap:{SNAPSHOT_VERSION}:{public_id}"


def _gen_key(public_id: str) -> str:
    return f"pub:gen:{public_id}"


def _logo_key(issuer_id: int, version: int) -> str:
    # "b": the thumbnail grew from 64 px to the badge's 3x logo; older entries are not read.
    return f"pub:logo:b:{issuer_id}:{version}"


def issuer_facts_of(issuer: Issuer) -> IssuerFacts:
    return IssuerFacts(
        pk=issuer.pk,
        slug=issuer.slug,
        name=issuer.name,
        kind=str(issuer.kind),
        website=issuer.website,
        logo_version=issuer.logo_version if issuer.logo_png else 0,
        chain_head=issuer.chain_head,
        chain_length=issuer.chain_length,
        credentials_use_did=issuer.credentials_use_did,
    )


def programme_facts_of(programme: Programme) -> ProgrammeFacts:
    """What the public side knows of a programme; also applied to unsaved settings by the
    console's seal designer (seals.design), so its preview is what a seal would show."""
    return ProgrammeFacts(
        slug=programme.slug,
        name=programme.name,
        description=programme.description,
        criteria_url=programme.criteria_url,
        theme=str(programme.theme),
        signatory_name=programme.signatory_name,
        signatory_title=programme.signatory_title,
        wording=programme.wording,
        accent_colour=programme.accent_colour,
    )


# A public id names one seal among every issuer's: the lookup spans them (config.tenancy). Only
# this miss path pays for it; a cached snapshot is served without entering anything.
@scopes_disabled()
def load(public_id: str) -> SealSnapshot | None:
    """Build the snapshot from the database (three small queries), or None if unknown."""
    seal = (
        Seal.objects.select_related("issuer", "programme", "member")
        .filter(public_id=public_id)
        .first()
    )
    if seal is None:
        return None
    events = list(
        SealEvent.objects.filter(seal=seal)
        .order_by("-seq")
        .values_list("kind", "occurred_at")[:HISTORY_LIMIT]
    )
    issuer, programme, member = seal.issuer, seal.programme, seal.member
    position = (
        StatusListPosition(number=seal.status_list, index=seal.status_list_index)
        if seal.status_list is not None and seal.status_list_index is not None
        else None
    )
    issuer_facts = issuer_facts_of(issuer)
    programme_facts = programme_facts_of(programme)
    member_facts = MemberFacts(
        display_name=member.display_name,
        legal_name=member.legal_name,
        domains=tuple(member.domains or ()),
        country=member.country,
    )
    erased = _corporate_data_erased(seal)
    return SealSnapshot(
        public_id=seal.public_id,
        pk=seal.pk,
        # str(): a choice read from the database is a plain str already; a member of the
        # choices enum would pickle as a reference to seals.models (the cache form holds
        # builtins only, seals.snapshot_types).
        status=str(seal.status),
        status_changed_at=seal.status_changed_at,
        valid_from=seal.valid_from,
        expires_at=seal.expires_at,
        version=seal.version,
        status_list=position,
        issuer=issuer_facts,
        programme=programme_facts,
        member=member_facts,
        history=tuple(HistoryEntry(kind=kind, at=at) for kind, at in reversed(events)),
        erased=erased,
        loaded_at=timezone.now(),
        digest=_digest(seal, position, issuer_facts, programme_facts, member_facts, erased),
    )


def _digest(
    seal: Seal,
    position: StatusListPosition | None,
    issuer: IssuerFacts,
    programme: ProgrammeFacts,
    member: MemberFacts,
    erased: bool,
) -> str:
    """Over every public field, and no history, load time or chain head (they change without
    the seal's picture changing). Stable across web nodes (no randomness): ETags derive from
    it. The JSON is the one earlier releases hashed, so ETags survive this release."""
    public = {
        "id": seal.public_id,
        "pk": seal.pk,
        "status": seal.status,
        "status_changed_at": seal.status_changed_at,
        "valid_from": seal.valid_from,
        "expires_at": seal.expires_at,
        "version": seal.version,
        "status_list": (
            {"number": position.number, "index": position.index} if position is not None else None
        ),
        "issuer": {
            "id": issuer.pk,
            "slug": issuer.slug,
            "name": issuer.name,
            "kind": issuer.kind,
            "website": issuer.website,
            "logo_version": issuer.logo_version,
            # Only when set, so the digests (and ETags) of other issuers stay as they were.
            **({"credentials_use_did": True} if issuer.credentials_use_did else {}),
        },
        "programme": {
            "slug": programme.slug,
            "name": programme.name,
            "description": programme.description,
            "criteria_url": programme.criteria_url,
            "theme": programme.theme,
            # Only when set, so the digests (and ETags) of unsigned programmes stay as they were.
            **(
                {"signatory": [programme.signatory_name, programme.signatory_title]}
                if programme.signatory_name or programme.signatory_title
                else {}
            ),
            # The image draws both, so a change to either is a new picture (and ETag).
            "design": [programme.wording, programme.accent_colour],
        },
        "member": {
            "display_name": member.display_name,
            "legal_name": member.legal_name,
            "domains": list(member.domains),
            "country": member.country,
        },
        "erased": erased,
    }
    canonical = json.dumps(public, sort_keys=True, default=str).encode()
    return hashlib.sha256(canonical).hexdigest()[:24]


def _corporate_data_erased(seal: Seal) -> bool:
    """Whether the seal's holder had its corporate data erased: the public side then says only
    that the seal is no longer valid, since naming the holder would undo the erasure. The
    seal's own ``erased`` event records it, so a seal awarded after the erasure is not
    affected; the query runs only for erased members."""
    if seal.member.erased_at is None:
        return False
    return SealEvent.objects.filter(
        seal=seal, kind=SealEvent.Kind.ERASED, data__corporate=True
    ).exists()


# A copy held in this process: the snapshot and the monotonic time it must be dropped by.
Held = tuple[SealSnapshot, float]


class LocalCopies(Protocol):
    """What ``seals.snapshot`` needs of ``fastpath.tracking.LocalCopies`` (a higher layer,
    found at run time through the cache backend): the mark is opaque here."""

    def get(self, key: str) -> Held | None: ...
    def reserve(self, key: str) -> object: ...
    def fill(self, key: str, mark: object, value: Held) -> bool: ...
    def forget(self, keys: Iterable[str]) -> None: ...


def _local_copies() -> LocalCopies | None:
    """This process's copies of current snapshots, bound to their generation-token keys and
    dropped the moment a token changes, when the cache backend offers them (``get``,
    ``reserve``, ``fill``, ``forget``: ``fastpath.tracking.LocalCopies``); else None."""
    local_copies = getattr(cache, "local_copies", None)
    return local_copies("pub:gen:") if local_copies is not None else None


def _keep_local(
    copies: LocalCopies | None, gen_key: str, mark: object, snap: SealSnapshot | None
) -> None:
    if copies is None or snap is None:
        return  # unknown ids are not kept: random ids must not push real seals out
    # The shared copy's SNAPSHOT_TTL bounds the chain head's age; this copy keeps that bound.
    age = min(max((timezone.now() - snap.loaded_at).total_seconds(), 0), SNAPSHOT_TTL)
    copies.fill(gen_key, mark, (snap, time.monotonic() + SNAPSHOT_TTL - age))


def get_local(public_id: str) -> SealSnapshot | None:
    """This process's copy of the snapshot while its cache vouches for it, else None; never a
    round trip (``fastpath.replay`` asks Django whenever this is None)."""
    if _pending_tokens:  # an invalidation is still owed: let ``get`` sort it out
        return None
    copies = _local_copies()
    held = copies.get(_gen_key(public_id)) if copies is not None else None
    if held is None or held[1] <= time.monotonic():
        return None
    return held[0]


def get(public_id: str) -> SealSnapshot | None:
    """The snapshot of ``public_id`` (None when no such seal), from cache when current.

    A hit is served from this process's copy when Redis tracking vouches for it (no round
    trip), else from one ``get_many`` of the snapshot and its generation token."""
    snap_key, gen_key = _snap_key(public_id), _gen_key(public_id)
    _flush_pending_tokens()  # a no-op unless an invalidation failed earlier
    if gen_key in _pending_tokens:  # known stale here, whatever the cache holds
        return load(public_id)
    copies = _local_copies()
    mark: object = None  # the reservation made below, opaque here
    if copies is not None:
        held = copies.get(gen_key)
        if held is not None and held[1] > time.monotonic():
            return held[0]
        mark = copies.reserve(gen_key)
    try:
        found = cache.get_many([snap_key, gen_key])
    except Exception:
        log.warning("cache unavailable; reading seal %s from the database", public_id)
        return load(public_id)
    gen = found.get(gen_key)
    cached = found.get(snap_key)
    if gen is not None and isinstance(cached, tuple) and len(cached) == 2 and cached[0] == gen:
        if cached[1] == MISSING:
            return None
        snap = SealSnapshot.from_cache(cached[1])
        if snap is not None:
            _keep_local(copies, gen_key, mark, snap)
            return snap
        # An entry in another format (see SNAPSHOT_VERSION): a miss, rebuilt and replaced below.
    try:
        if gen is None:
            # add, not set: two readers racing here must end up agreeing on one token.
            cache.add(gen_key, secrets.token_hex(8), GEN_TTL)
            gen = cache.get(gen_key)
    except Exception:
        gen = None
    snap = load(public_id)
    if gen is not None:
        try:
            entry = snap.to_cache() if snap is not None else MISSING
            cache.set(snap_key, (gen, entry), SNAPSHOT_TTL)
        except Exception:
            log.warning("cache unavailable; snapshot of seal %s not stored", public_id)
        else:
            _keep_local(copies, gen_key, mark, snap)
    return snap


def invalidate_seals(public_ids: Iterable[str]) -> None:
    """Make the snapshots of these seals stale at once (new generation tokens)."""
    batch: dict[str, str] = {}
    for public_id in public_ids:
        batch[_gen_key(public_id)] = secrets.token_hex(8)
        if len(batch) >= 1000:
            _write_tokens(batch)
            batch = {}
    if batch:
        _write_tokens(batch)


# Generation tokens this process could not write (cache unreachable). Without a retry, a snapshot
# cached before the outage would be served again for up to SNAPSHOT_TTL once the cache is back,
# showing a seal revoked during the outage as valid; so they are written before this process's
# next snapshot read or invalidation (tests/security/test_degraded.py).
_pending_tokens: dict[str, str] = {}


def _write_tokens(batch: dict[str, str]) -> None:
    _pending_tokens.update(batch)
    _flush_pending_tokens()


def _flush_pending_tokens() -> None:
    if not _pending_tokens:
        return
    batch = dict(_pending_tokens)
    try:
        failed = cache.set_many(batch, GEN_TTL)
    except Exception:
        failed = list(batch)
    for key in set(batch) - set(failed or ()):
        _pending_tokens.pop(key, None)
    copies = _local_copies()
    if copies is not None:
        copies.forget(batch)  # and wait until every other node has been told
    if failed:
        # The snapshot TTL still bounds staleness; a failed cache cannot serve it either.
        log.warning("could not invalidate %d seal snapshots yet; will retry", len(failed))


def invalidate_seal(seal: Seal) -> None:
    invalidate_seals([seal.public_id])


def invalidate_member(member: Member) -> None:
    """Call after a member's public fields (names, domains, country) change or are erased."""
    invalidate_seals(Seal.objects.filter(member=member).values_list("public_id", flat=True))


def invalidate_programme(programme: Programme) -> None:
    """Call after a programme's name, description, criteria URL, theme, wording or accent
    colour change."""
    invalidate_seals(
        Seal.objects.filter(programme=programme).values_list("public_id", flat=True).iterator()
    )


def invalidate_issuer(issuer: Issuer) -> None:
    """Call after an issuer's name, kind, website or logo change."""
    invalidate_seals(
        Seal.objects.filter(issuer=issuer).values_list("public_id", flat=True).iterator()
    )


def status_entries_of(snap: SealSnapshot) -> list[dict[str, str]]:
    """The seal's BitstringStatusListEntry for each purpose, built by the one helper that also
    builds the credential's ``credentialStatus`` (no query: only the slug, number and index)."""
    position = snap.status_list
    if position is None:
        return []
    return status_entries_at(
        issuer_slug=snap.issuer.slug, number=position.number, index=position.index
    )


def logo(snap: SealSnapshot) -> bytes | None:
    """The issuer logo as a small PNG (cached per logo version), or None."""
    issuer = snap.issuer
    if not issuer.logo_version:
        return None
    key = _logo_key(issuer.pk, issuer.logo_version)
    try:
        data = cache.get(key)
    except Exception:
        data = None
    if data is not None:
        return data or None
    from seals.render import logo_thumbnail

    raw = Issuer.objects.filter(pk=issuer.pk).values_list("logo_png", flat=True).first()
    try:
        data = logo_thumbnail(bytes(raw)) if raw else b""
    except Exception:
        log.warning("issuer %s logo could not be read; showing none", issuer.pk)
        data = b""
    try:
        cache.set(key, data, 24 * 3600)
    except Exception:
        log.debug("logo cache write failed", exc_info=True)
    return data or None

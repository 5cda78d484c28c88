"""The per-issuer hash chain of SealEvents: the only writer and the verifier.

``hash = sha256(prev_hash ‖ JCS(event))`` where ``prev_hash`` is the previous event's hash as
64 lower-case hex characters (64 zeros for the first event), ``‖`` is byte concatenation and
JCS is RFC 8785 canonical JSON of ``{seq, seal, kind, actor, at, data}``. Personal payloads go in
``private_data``, outside the hash; a salted digest of them sits in ``data["private_digest"]``,
so erasing them leaves the chain verifiable and any tampering with them detectable.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from django.db import transaction
from django.utils import timezone

from config.bulk import bulk_insert
from issuers.models import Issuer
from seals.models import Seal, SealEvent

GENESIS_HASH = "0" * 64


def _digest(value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_body(event: SealEvent, seal_public_id: str) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "seal": seal_public_id,
        "kind": event.kind,
        "actor": event.actor,
        "at": _timestamp(event.occurred_at),
        "data": event.data,
    }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + rfc8785.dumps(body)).hexdigest()


def record_event(
    *,
    seal: Seal,
    kind: str,
    actor: str,
    data: dict[str, Any] | None = None,
    private_data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> SealEvent:
    """Append one event to the seal's issuer chain (see ``record_events``)."""
    (event,) = _append(
        issuer_id=seal.issuer_id,
        entries=[(seal, kind, data or {}, private_data)],
        actor=actor,
        at=at or timezone.now(),
    )
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    length: int
    head: str
    broken_at: int | None = None
    reason: str = ""


def _broken_link(event: SealEvent, prev: str, expected_seq: int) -> str:
    """Why ``event`` does not follow ``prev`` at position ``expected_seq``; '' when it does."""
    if event.seq != expected_seq:
        return f"event #{expected_seq} is missing"
    if event.prev_hash != prev:
        return "prev_hash does not match the previous event's hash"
    if chain_hash(prev, event_body(event, event.seal.public_id)) != event.hash:
        return "content does not match its hash"
    if event.private_data is not None and (
        _digest(event.private_data) != event.data.get("private_digest")
    ):
        return "private data does not match its digest"
    return ""


def verify_chain(issuer: Issuer) -> ChainReport:
    """Recompute the issuer's chain; report the first broken link, if any."""
    issuer.refresh_from_db(fields=["chain_length", "chain_head"])
    prev = GENESIS_HASH
    expected_seq = 1
    events = (
        SealEvent.objects.filter(issuer=issuer)
        .select_related("seal")
        .only(
            "seq",
            "kind",
            "actor",
            "occurred_at",
            "data",
            "private_data",
            "prev_hash",
            "hash",
            "seal__public_id",
        )
        .order_by("seq")
    )
    for event in events.iterator(chunk_size=2000):
        reason = _broken_link(event, prev, expected_seq)
        if reason:
            broken_at = min(event.seq, expected_seq)
            return ChainReport(False, broken_at - 1, prev, broken_at=broken_at, reason=reason)
        prev = event.hash
        expected_seq += 1
    length = expected_seq - 1
    if length != issuer.chain_length or prev != issuer.chain_head:
        return ChainReport(
            False,
            length,
            prev,
            broken_at=length + 1,
            reason="published head does not match the last event",
        )
    return ChainReport(True, length, prev)


def record_events(
    *, issuer_id: int, entries: list[tuple[Seal, str, dict[str, Any]]], actor: str, at: datetime
) -> list[SealEvent]:
    """Append many ``(seal, kind, data)`` events of one issuer at once (bulk import, sweeps):
    one lock, one insert. Bulk entries carry no private data."""
    return _append(
        issuer_id=issuer_id,
        entries=[(seal, kind, data, None) for seal, kind, data in entries],
        actor=actor,
        at=at,
    )


@transaction.atomic
def _append(
    *,
    issuer_id: int,
    entries: list[tuple[Seal, str, dict[str, Any], dict[str, Any] | None]],
    actor: str,
    at: datetime,
) -> list[SealEvent]:
    """The only writer of SealEvents.

    Steps: lock the issuer row (serialises writers of one chain; other issuers are not
    blocked), read the head, build and hash each event in order, insert them, move the head.
    The (issuer, seq) unique constraint is the last line of defence should the lock be lost.
    Personal payloads go to ``private_data`` with a salt, their digest into the hashed data.
    """
    issuer = (
        Issuer.objects.select_for_update()
        .only("id", "chain_length", "chain_head")
        .get(pk=issuer_id)
    )
    prev, seq = issuer.chain_head, issuer.chain_length
    events = []
    for seal, kind, data, private_data in entries:
        seq += 1
        hashed = dict(data)
        private = None
        if private_data:
            private = {"salt": secrets.token_hex(16), **private_data}
            hashed["private_digest"] = _digest(private)
        event = SealEvent(
            issuer_id=issuer_id,
            seal=seal,
            seq=seq,
            kind=kind,
            actor=actor,
            occurred_at=at,
            data=hashed,
            private_data=private,
            prev_hash=prev,
        )
        event.hash = prev = chain_hash(prev, event_body(event, seal.public_id))
        events.append(event)
    if len(events) == 1:
        events[0].save()  # one INSERT; COPY would cost a sequence round trip more
    else:
        bulk_insert(SealEvent, events)
    Issuer.objects.filter(pk=issuer_id).update(chain_length=seq, chain_head=prev)
    return events

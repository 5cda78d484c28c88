"""The public, redacted form of a SealEvent that becomes a log leaf.

A leaf says what anyone may know of the event and nothing more: which seal (its public id),
what happened, when, the seal's status after it, the programme, and the event's hash in the
issuer's chain (seals.chain), which ties the leaf to the full, private history without
revealing it. Never the actor (a staff member's name or e-mail), never ``data`` beyond the
status, never ``private_data``. RFC 8785 canonical JSON, so anyone can rebuild the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

import rfc8785

from seals.models import SealEvent

LEAF_VERSION = 1


@dataclass(frozen=True)
class LeafBody:
    seq: int
    seal: str
    kind: str
    at: str
    status: str | None
    programme: str
    chain_hash: str

    def encode(self) -> bytes:
        return rfc8785.dumps(
            {
                "v": LEAF_VERSION,
                "seq": self.seq,
                "seal": self.seal,
                "kind": self.kind,
                "at": self.at,
                "status": self.status,
                "programme": self.programme,
                "chain_hash": self.chain_hash,
            }
        )


def leaf_body(event: SealEvent, *, status: str | None) -> LeafBody:
    """``status``: the seal's status after the event (events that change none, such as
    ``details_changed``, carry the one before them)."""
    programme = event.data.get("programme")
    return LeafBody(
        seq=event.seq,
        seal=event.seal.public_id,
        kind=event.kind,
        at=event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        status=status,
        programme=programme if isinstance(programme, str) else event.seal.programme.slug,
        chain_hash=event.hash,
    )

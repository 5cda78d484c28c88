"""Seal changes as webhook events: the ``seal.*`` types and the data each carries."""

from __future__ import annotations

from typing import Any

from issuers.events import webhook_emit_many
from issuers.models import WebhookEndpoint

SEAL_EVENT_TYPES = {
    "issued": "seal.issued",
    "renewed": "seal.renewed",
    "suspended": "seal.suspended",
    "reinstated": "seal.reinstated",
    "revoked": "seal.revoked",
    "expired": "seal.expired",
}


def seal_event_data(seal: Any, event: Any) -> dict[str, Any]:
    return {
        "seal": seal.public_id,
        "status": seal.status,
        "version": seal.version,
        "member": seal.member.external_ref,
        "programme": seal.programme.slug,
        "valid_from": seal.valid_from.isoformat(),
        "expires_at": seal.expires_at.isoformat() if seal.expires_at else None,
        "event": {"seq": event.seq, "kind": event.kind, "at": event.occurred_at.isoformat()},
    }


def webhook_emit_seal_events(
    *, issuer_id: int, changes: list[tuple[Any, Any]], listed_only: bool = False
) -> None:
    """Queue the ``seal.*`` webhooks for committed-together ``(seal, SealEvent)`` pairs; with
    ``listed_only``, only to endpoints that name the event type (issuers.events.subscribed)."""
    if not WebhookEndpoint.objects.filter(issuer_id=issuer_id, active=True).exists():
        return
    events = [
        (SEAL_EVENT_TYPES[event.kind], seal_event_data(seal, event))
        for seal, event in changes
        if event.kind in SEAL_EVENT_TYPES
    ]
    webhook_emit_many(issuer_id=issuer_id, events=events, listed_only=listed_only)

"""Issuer events for webhooks: what happened, written as WebhookDelivery rows in the same
transaction as the change they report, each with one outbox message that delivers it.

Every layer that changes something an issuer may subscribe to records it here; delivering the
rows (signing, sending, retrying) is the side-effects layer's work (effects.webhooks).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.utils import timezone

from issuers.models import Issuer, WebhookDelivery, WebhookEndpoint
from outbox import core as outbox

EVENT_TYPES = (
    "seal.issued",
    "seal.renewed",
    "seal.suspended",
    "seal.reinstated",
    "seal.revoked",
    "seal.expired",
    "seal.misuse_detected",
    "member.updated",
    "import.completed",
    "notice.failed",
    "misuse.reported",
)
# The outbox topic of one delivery attempt series: {"delivery_id": <WebhookDelivery pk>}.
DELIVER_TOPIC = "webhook.deliver"


def event_envelope(event_type: str, data: dict[str, Any], at: datetime, issuer_slug: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "created": at.isoformat(),
        "issuer": issuer_slug,
        "data": data,
    }


def subscribed(endpoint: WebhookEndpoint, event_type: str, *, listed_only: bool = False) -> bool:
    """An empty ``event_types`` means every event, unless ``listed_only``: then only endpoints
    that name the type get it (bulk changes that announce themselves with one summary event)."""
    if listed_only:
        return event_type in endpoint.event_types
    return not endpoint.event_types or event_type in endpoint.event_types


def deliveries_owe(delivery_ids: list[int]) -> None:
    """One outbox message per delivery, in the caller's transaction (handed off after commit)."""
    outbox.put_many(DELIVER_TOPIC, [{"delivery_id": pk} for pk in delivery_ids])


def webhook_emit_many(
    *,
    issuer_id: int,
    events: list[tuple[str, dict[str, Any]]],
    at: datetime | None = None,
    listed_only: bool = False,
) -> list[WebhookDelivery]:
    """Queue ``(event_type, data)`` events for every subscribed active endpoint of the issuer.

    Call it inside the transaction that makes the change: the rows and their outbox messages
    commit with it (or not at all), and are handed to the broker only after the commit.
    ``data`` must hold no personal data (member references, seal ids and statuses are fine;
    names and e-mails are not).
    """
    endpoints = list(WebhookEndpoint.objects.filter(issuer_id=issuer_id, active=True))
    if not endpoints or not events:
        return []
    at = at or timezone.now()
    slug = Issuer.objects.values_list("slug", flat=True).get(pk=issuer_id)
    rows: list[WebhookDelivery] = []
    for event_type, data in events:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"Unknown webhook event type {event_type!r}")
        envelope = event_envelope(event_type, data, at, slug)
        rows.extend(
            WebhookDelivery(
                endpoint=endpoint,
                event_id=envelope["id"],
                event_type=event_type,
                payload=envelope,
                next_attempt_at=at,
                created_at=at,
            )
            for endpoint in endpoints
            if subscribed(endpoint, event_type, listed_only=listed_only)
        )
    created = WebhookDelivery.objects.bulk_create(rows)
    if any(row.pk is None for row in created):  # backends without RETURNING
        event_ids = {row.event_id for row in rows}
        created = list(WebhookDelivery.objects.filter(event_id__in=event_ids))
    deliveries_owe([row.pk for row in created])
    return created


def webhook_emit(
    *, issuer_id: int, event_type: str, data: dict[str, Any], at: datetime | None = None
) -> list[WebhookDelivery]:
    """One event (``member.updated``, ``import.completed``, …); see ``webhook_emit_many``."""
    return webhook_emit_many(issuer_id=issuer_id, events=[(event_type, data)], at=at)

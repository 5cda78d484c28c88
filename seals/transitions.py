"""Materialise scheduled status changes: ``pending → active`` at ``valid_from`` and
``active → expired`` at ``expires_at``.

Public answers never wait for this (``seals.status.effective_status`` is computed on every read);
the sweep keeps the stored status, the hash-chained history, cache versions and webhooks in step
with the clock. It is set-based and idempotent: one run after days of downtime catches up, and
two runs at once never record a transition twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q

from seals.chain import record_events
from seals.models import Seal, SealEvent, SealStatus
from seals.render.images import prerender_later
from seals.status_lists import status_lists_mark_dirty

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class _Rule:
    source: str
    target: str
    moment: str  # the Seal field holding the scheduled instant
    kind: str
    webhook: str | None

    def due(self, now: datetime) -> Q:
        return Q(status=self.source, **{f"{self.moment}__lte": now})


# Activation runs first so a seal whose whole validity passed during downtime is activated and
# then expired in the same run, each at its own scheduled instant.
RULES = (
    _Rule(SealStatus.PENDING, SealStatus.ACTIVE, "valid_from", SealEvent.Kind.ACTIVATED, None),
    _Rule(SealStatus.ACTIVE, SealStatus.EXPIRED, "expires_at", SealEvent.Kind.EXPIRED, "expired"),
)


@dataclass(frozen=True)
class RefreshResult:
    activated: int
    expired: int


class _LostRace(Exception):
    """Another sweep changed one of the claimed rows; the batch is rolled back and re-read."""


def seals_refresh_status(*, now: datetime, batch_size: int = 2000) -> RefreshResult:
    """Apply every transition due at ``now``; returns how many seals changed.

    Per issuer and batch, in one transaction:
    1. lock the due seal rows (``skip_locked``: a seal being suspended right now is left for the
       next run, and the lock order seal → issuer matches ``seals.services``, so no deadlock);
    2. claim them with one conditional ``UPDATE`` (status still the source status); a row count
       short of the batch means a concurrent sweep won a row, so the batch is retried;
    3. append one SealEvent per seal through ``record_events`` (the batch form of
       ``record_event``), in scheduled order, under the issuer lock that keeps the chain linear;
    4. mark their status lists dirty (before the issuer lock, as ``seals.services`` does),
       queue the webhooks and the image pre-render in the same transaction (outbox), and run
       ``after_seals_change`` (cache invalidation) after
       commit.
    """
    counts = [_apply(rule, now=now, batch_size=batch_size) for rule in RULES]
    return RefreshResult(activated=counts[0], expired=counts[1])


def _apply(rule: _Rule, *, now: datetime, batch_size: int) -> int:
    total = 0
    issuer_ids = list(
        Seal.objects.filter(rule.due(now)).order_by().values_list("issuer_id", flat=True).distinct()
    )
    for issuer_id in issuer_ids:
        while True:
            try:
                changed = _apply_batch(rule, issuer_id=issuer_id, now=now, batch_size=batch_size)
            except _LostRace:
                continue
            total += changed
            if changed < batch_size:
                break
    return total


@transaction.atomic
def _apply_batch(rule: _Rule, *, issuer_id: int, now: datetime, batch_size: int) -> int:
    seals = list(
        Seal.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(rule.due(now), issuer_id=issuer_id)
        .select_related("member", "programme")
        # What the events, webhooks and after-change effects read, nothing more: at 10,000
        # seals a run, building model instances is most of the sweep's CPU time.
        .only(
            "public_id",
            "issuer_id",
            "status",
            "version",
            "valid_from",
            "expires_at",
            "status_list",
            "member__external_ref",
            "programme__slug",
        )
        .order_by(rule.moment, "pk")[:batch_size]
    )
    if not seals:
        return 0
    claimed = Seal.objects.filter(pk__in=[s.pk for s in seals], status=rule.source).update(
        status=rule.target, status_changed_at=now, version=F("version") + 1, updated_at=now
    )
    if claimed != len(seals):
        raise _LostRace
    for seal in seals:
        seal.status = rule.target
        seal.status_changed_at = now
        seal.version += 1
    status_lists_mark_dirty(lists={(issuer_id, seal.status_list) for seal in seals})
    # One issuer lock and one INSERT for the whole batch, hashed in scheduled order. The
    # events are recorded now; the instant the change took effect is in the hashed data.
    events = record_events(
        issuer_id=issuer_id,
        actor=SYSTEM_ACTOR,
        at=now,
        entries=[
            (
                seal,
                rule.kind,
                {
                    "status": seal.status,
                    "version": seal.version,
                    "effective_at": getattr(seal, rule.moment).isoformat(),
                },
            )
            for seal in seals
        ],
    )
    changes = list(zip(seals, events, strict=True))
    if rule.webhook:
        from seals.outbound import webhook_emit_seal_events

        webhook_emit_seal_events(issuer_id=issuer_id, changes=changes)
    transaction.on_commit(lambda: _after_commit(changes))
    # After the on_commit above, so the hand-off follows the snapshot invalidation.
    prerender_later(seal.public_id for seal in seals)
    return len(seals)


def _after_commit(changes: list[tuple[Seal, SealEvent]]) -> None:
    from seals.services import after_seals_change

    after_seals_change([seal for seal, _ in changes])

"""Rules for seals: award, suspend, reinstate, revoke, renew.

Every change locks the seal row, bumps ``version`` (cache keys and ETags follow it), marks its
status list dirty and records one SealEvent through ``record_event``, writes its webhooks and
image pre-render to the outbox, and runs ``after_seals_change`` once the transaction commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from config.errors import ConflictError, InvalidInputError
from issuers.dates import DateOrTime, end_of, issuer_zone, start_of
from issuers.models import Issuer, Member, Programme
from seals.chain import record_event
from seals.models import Seal, SealEvent, SealStatus
from seals.outbound import webhook_emit_seal_events
from seals.status import status_by_dates
from seals.status_lists import (
    status_list_assign,
    status_list_cancel,
    status_list_move_if_cancelled,
    status_lists_mark_dirty,
)


class SealStateError(ConflictError):
    """An action that the seal's current state does not allow (API: 409 Conflict)."""

    code = "seal_state_conflict"


def seal_action_refusal(*, action: str, status: str) -> str:
    """Why ``action`` (suspend, reinstate, revoke, renew) does not apply to a seal whose stored
    status is ``status``; empty when it applies. The one statement of these rules: each service
    checks it under the row lock, and previews (the console's bulk actions) read it to say
    beforehand what an action will do to each seal."""
    if action == "suspend" and status in (SealStatus.REVOKED, SealStatus.SUSPENDED):
        return f"A {status} seal cannot be suspended."
    if action == "reinstate" and status != SealStatus.SUSPENDED:
        return f"Only a suspended seal can be reinstated; this one is {status}."
    if action == "revoke" and status == SealStatus.REVOKED:
        return "The seal is already revoked; revocation is final."
    if action == "renew" and status == SealStatus.REVOKED:
        return "A revoked seal cannot be renewed; award a new one."
    return ""


def _refuse(action: str, seal: Seal) -> None:
    if refusal := seal_action_refusal(action=action, status=seal.status):
        raise SealStateError(refusal)


def after_seals_change(seals: list[Seal]) -> None:
    """What committed changes do outside the database: public reads see them at once
    (DESIGN §1.1), one cache write for many seals (the status sweep) or one (a seal action).
    Status lists, webhooks and the image pre-render were written with the change itself."""
    from seals.snapshot import invalidate_seals

    invalidate_seals(seal.public_id for seal in seals)


def _commit_change(
    seal: Seal,
    *,
    kind: str,
    actor: str,
    reason: str = "",
    data: dict | None = None,
    now: datetime,
    listed_only: bool = False,
) -> SealEvent:
    from seals.render.images import prerender_later

    seal.version += 1
    seal.save()
    # In this transaction, before record_event takes the issuer lock: every writer locks status
    # lists before the issuer (an award locks its list to draw an index), so none waits for
    # another in a cycle.
    status_lists_mark_dirty(lists={(seal.issuer_id, seal.status_list)})
    event = record_event(
        seal=seal,
        kind=kind,
        actor=actor,
        at=now,
        data={"status": seal.status, "version": seal.version, **(data or {})},
        private_data={"reason": reason} if reason else None,
    )
    # Queued in this transaction (an outbox), delivered only after it commits.
    webhook_emit_seal_events(
        issuer_id=seal.issuer_id, changes=[(seal, event)], listed_only=listed_only
    )
    transaction.on_commit(lambda: after_seals_change([seal]))
    # Owed after the on_commit above: its hand-off is an on-commit callback too, and so runs
    # after the snapshot invalidation; the worker then renders the new snapshot.
    prerender_later([seal.public_id])  # the first visitor then gets bytes
    return event


def _locked(seal: Seal) -> Seal:
    return Seal.objects.select_for_update().get(pk=seal.pk)


def _zone_for(issuer_id: int, *values: DateOrTime | None) -> ZoneInfo:
    """The issuer's time zone, read only when a value is a date without a time."""
    if all(v is None or isinstance(v, datetime) for v in values):
        return ZoneInfo("UTC")
    return issuer_zone(Issuer.objects.only("time_zone").get(pk=issuer_id))


@transaction.atomic
def seal_award(
    *,
    member: Member,
    programme: Programme,
    actor: str,
    valid_from: DateOrTime | None = None,
    expires_at: DateOrTime | None = None,
) -> Seal:
    """A date without a time starts (``valid_from``) or ends (``expires_at``) with that day in
    the issuer's time zone (issuers.dates)."""
    if programme.issuer_id != member.issuer_id:
        raise InvalidInputError("programme", "The programme belongs to another issuer.")
    now = timezone.now()
    zone = _zone_for(member.issuer_id, valid_from, expires_at)
    starts = now if valid_from is None else start_of(valid_from, zone)
    ends = (
        starts + timedelta(days=programme.validity_days)
        if expires_at is None
        else end_of(expires_at, zone)
    )
    if ends <= starts:
        raise InvalidInputError("expires_at", "expires_at must be after valid_from.")
    seal = Seal(
        issuer_id=member.issuer_id,
        member=member,
        programme=programme,
        status=SealStatus.PENDING if starts > now else SealStatus.ACTIVE,
        valid_from=starts,
        expires_at=ends,
        status_changed_at=now,
        version=0,
    )
    status_list_assign(seal=seal)
    _commit_change(
        seal,
        kind=SealEvent.Kind.ISSUED,
        actor=actor,
        now=now,
        data={
            "programme": programme.slug,
            "valid_from": starts.isoformat(),
            "expires_at": ends.isoformat(),
        },
    )
    return seal


def _set_status(seal: Seal, status: str, reason: str, now: datetime) -> None:
    seal.status = status
    seal.status_reason = reason
    seal.status_changed_at = now


@transaction.atomic
def seal_suspend(*, seal: Seal, reason: str, actor: str) -> Seal:
    seal = _locked(seal)
    _refuse("suspend", seal)
    now = timezone.now()
    _set_status(seal, SealStatus.SUSPENDED, reason, now)
    # What the holder carries names only the revocation list (OB 3.0): see status_list_cancel.
    status_list_cancel(seal=seal)
    _commit_change(seal, kind=SealEvent.Kind.SUSPENDED, actor=actor, reason=reason, now=now)
    return seal


@transaction.atomic
def seal_reinstate(*, seal: Seal, reason: str, actor: str) -> Seal:
    seal = _locked(seal)
    _refuse("reinstate", seal)
    now = timezone.now()
    _set_status(seal, status_by_dates(seal, now), reason, now)
    status_list_move_if_cancelled(seal=seal)
    _commit_change(seal, kind=SealEvent.Kind.REINSTATED, actor=actor, reason=reason, now=now)
    return seal


@transaction.atomic
def seal_revoke(*, seal: Seal, reason: str, actor: str) -> Seal:
    """Revocation is final: no action brings a revoked seal back."""
    seal = _locked(seal)
    _refuse("revoke", seal)
    now = timezone.now()
    _set_status(seal, SealStatus.REVOKED, reason, now)
    _commit_change(seal, kind=SealEvent.Kind.REVOKED, actor=actor, reason=reason, now=now)
    return seal


@transaction.atomic
def seal_renew(
    *, seal: Seal, expires_at: DateOrTime, reason: str, actor: str, listed_only: bool = False
) -> Seal:
    """A new expiry (a date alone: the end of that day in the issuer's time zone); an expired
    seal becomes active again, a suspended one stays suspended.
    ``listed_only``: the webhook goes only to endpoints that name ``seal.renewed`` (an import
    announces itself with ``import.completed`` instead)."""
    seal = _locked(seal)
    now = timezone.now()
    ends = end_of(expires_at, _zone_for(seal.issuer_id, expires_at))
    _refuse("renew", seal)
    if ends <= now or ends <= seal.valid_from:
        raise InvalidInputError(
            "expires_at", "expires_at must be in the future and after valid_from."
        )
    previous = seal.expires_at
    seal.expires_at = ends
    if seal.status != SealStatus.SUSPENDED:
        _set_status(seal, status_by_dates(seal, now), reason, now)
    _commit_change(
        seal,
        kind=SealEvent.Kind.RENEWED,
        actor=actor,
        reason=reason,
        now=now,
        data={
            "previous_expires_at": previous.isoformat() if previous else None,
            "expires_at": ends.isoformat(),
        },
        listed_only=listed_only,
    )
    return seal


@transaction.atomic
def seal_award_many(
    *,
    awards: list[tuple[Member, Programme, datetime, datetime]],
    actor: str,
    listed_only: bool = False,
) -> list[Seal]:
    """``seal_award`` for many ``(member, programme, valid_from, expires_at)`` of one issuer
    (bulk import): the same rows, events, webhooks and invalidation, written in batches.
    ``listed_only`` as for ``seal_renew``."""
    from config.bulk import bulk_insert
    from issuers.models import WebhookEndpoint
    from seals.chain import record_events
    from seals.status_lists import status_list_assign_many

    if not awards:
        return []
    issuer_id = awards[0][0].issuer_id
    now = timezone.now()
    seals = []
    for member, programme, valid_from, expires_at in awards:
        if member.issuer_id != issuer_id or programme.issuer_id != issuer_id:
            raise ValueError("All awards of one batch belong to one issuer.")
        if expires_at <= valid_from:
            raise InvalidInputError("expires_at", "expires_at must be after valid_from.")
        seals.append(
            Seal(
                issuer_id=issuer_id,
                member=member,
                programme=programme,
                status=SealStatus.PENDING if valid_from > now else SealStatus.ACTIVE,
                valid_from=valid_from,
                expires_at=expires_at,
                status_changed_at=now,
                version=1,
            )
        )
    status_list_assign_many(issuer_id=issuer_id, seals=seals)
    bulk_insert(Seal, seals)
    # Before the issuer lock, as in _commit_change. No snapshot invalidation after commit: a
    # public id drawn a moment ago (128 random bits) cannot have been requested, so nothing is
    # cached under it.
    status_lists_mark_dirty(lists={(issuer_id, seal.status_list) for seal in seals})
    events = record_events(
        issuer_id=issuer_id,
        entries=[
            (
                seal,
                SealEvent.Kind.ISSUED,
                {
                    "status": seal.status,
                    "version": seal.version,
                    "programme": seal.programme.slug,
                    "valid_from": seal.valid_from.isoformat(),
                    "expires_at": seal.expires_at.isoformat() if seal.expires_at else None,
                },
            )
            for seal in seals
        ],
        actor=actor,
        at=now,
    )
    if WebhookEndpoint.objects.filter(issuer_id=issuer_id, active=True).exists():
        webhook_emit_seal_events(
            issuer_id=issuer_id,
            changes=list(zip(seals, events, strict=True)),
            listed_only=listed_only,
        )
    return seals

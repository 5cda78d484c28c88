"""Data-subject rights (GDPR arts. 15-21): requests with their one-month clock, export,
rectification, restriction, objection and erasure of a member's data.

What is personal here: a member's contact person (name, e-mail, phone), the details of whoever
filed a data request, and free-text reasons that may name people (SealEvent.private_data and
Seal.status_reason). Corporate data (legal and display name, domains, country) is erased too
when the request asks for it; the member's seals are then revoked with reason ``erased``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import ConflictError, InvalidInputError
from issuers.encryption import blind_index
from issuers.models import DataRequest, Issuer, Member
from issuers.services import MemberErasedError
from privacy import export_sections
from seals.chain import record_event
from seals.models import (
    DailyStat,
    MisuseReport,
    MonthlyStat,
    Notice,
    Seal,
    SealEvent,
    SealMisuseHostDay,
    SealStatus,
)
from seals.registry import member_update
from seals.services import seal_revoke
from seals.status import effective_status

ERASED_PLACEHOLDER = "Erased member"
ERASED_REASON = "erased"
EXPORT_FORMAT = "trustseal.member-export/1"

OPEN_STATES = (DataRequest.State.RECEIVED, DataRequest.State.IN_PROGRESS)
CLOSED_STATES = (DataRequest.State.COMPLETED, DataRequest.State.REJECTED)
_TRANSITIONS: dict[str, set[str]] = {
    DataRequest.State.RECEIVED: {
        DataRequest.State.IN_PROGRESS,
        DataRequest.State.COMPLETED,
        DataRequest.State.REJECTED,
    },
    DataRequest.State.IN_PROGRESS: {DataRequest.State.COMPLETED, DataRequest.State.REJECTED},
    DataRequest.State.COMPLETED: set(),
    DataRequest.State.REJECTED: set(),
}
# Fields a rectification may change (art. 16); the flags have their own services below.
RECTIFIABLE = Member.PROFILE_FIELDS


class DataRequestStateError(ConflictError):
    """A transition the request's state does not allow (API: 409 Conflict)."""

    code = "data_request_closed"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def due_date(received_at: datetime) -> datetime:
    """One calendar month after receipt (art. 12(3)).

    relativedelta clamps to the month's last day (31 January -> 28/29 February), the reading
    EU Regulation 1182/71 art. 3(2)(c) gives "one month" when the day does not exist.
    """
    return received_at + relativedelta(months=1)


def _audit_entry(action: str, actor: str, at: datetime, **details: Any) -> dict[str, Any]:
    # Kinds, states and field names only: the audit trail outlives an erasure.
    return {"at": at.isoformat(), "actor": actor, "action": action, **details}


# --- data requests ------------------------------------------------------------------------------


@transaction.atomic
def data_request_create(
    *,
    issuer: Issuer,
    kind: str,
    actor: str,
    member: Member | None = None,
    requester_name: str = "",
    requester_email: str = "",
    received_at: datetime | None = None,
    fields: Sequence[str] = (),
) -> DataRequest:
    """Record a request with its one-month clock. ``fields`` names what a rectification is
    about (field names only, kept in the audit trail, which outlives an erasure)."""
    if kind not in DataRequest.Kind.values:
        raise InvalidInputError(
            "kind", f"Unknown kind {kind!r}; one of {', '.join(DataRequest.Kind.values)}."
        )
    if member is not None and member.issuer_id != issuer.pk:
        raise InvalidInputError("member", "The member belongs to another issuer.")
    now = timezone.now()
    received_at = received_at or now
    if received_at > now:
        raise InvalidInputError("received_at", "received_at cannot be in the future.")
    request = DataRequest(
        issuer=issuer,
        member=member,
        kind=kind,
        requester_name=requester_name.strip(),
        requester_email=requester_email.strip(),
        received_at=received_at,
        due_at=due_date(received_at),
        audit=[
            _audit_entry(
                "received",
                actor,
                now,
                state=DataRequest.State.RECEIVED,
                **({"fields": sorted(fields)} if fields else {}),
            )
        ],
    )
    request.full_clean()
    request.save()
    return request


@transaction.atomic
def data_request_transition(
    *, data_request: DataRequest, state: str, actor: str, outcome: str = "", note: str = ""
) -> DataRequest:
    """Move a request along received -> in_progress -> completed / rejected; closed is final.

    A rejection must say why (art. 12(4): the requester is told the reasons)."""
    request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if state not in _TRANSITIONS.get(request.state, set()):
        raise DataRequestStateError(f"A {request.state} request cannot become {state}.")
    if state == DataRequest.State.REJECTED and not outcome.strip():
        raise InvalidInputError("outcome", "A rejection needs an outcome stating the reasons.")
    now = timezone.now()
    entry = _audit_entry("transition", actor, now, **{"from": request.state, "to": state})
    if note:
        entry["note"] = note
    request.state = state
    if outcome:
        request.outcome = outcome
    if state in CLOSED_STATES:
        request.completed_at = now
    request.audit = [*request.audit, entry]
    request.save(update_fields=["state", "outcome", "completed_at", "audit", "updated_at"])
    return request


def _audit(data_request: DataRequest | None, action: str, actor: str, **details: Any) -> None:
    if data_request is None:
        return
    request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    request.audit = [*request.audit, _audit_entry(action, actor, timezone.now(), **details)]
    request.save(update_fields=["audit", "updated_at"])
    data_request.audit = request.audit


def data_request_is_overdue(data_request: DataRequest, now: datetime) -> bool:
    """Computed from the clock, so the API's flag never waits for a worker."""
    return data_request.state in OPEN_STATES and now > data_request.due_at


def data_requests_overdue(*, now: datetime, issuer: Issuer | None = None) -> QuerySet[DataRequest]:
    requests = DataRequest.objects.filter(state__in=OPEN_STATES, due_at__lt=now)
    return requests.filter(issuer=issuer) if issuer is not None else requests


# --- restriction, objection and what they exclude -------------------------------------------


def member_accepts_non_essential_mail(member: Member) -> bool:
    """Newsletters, surveys, announcements. Service notices (expiry) do not ask this."""
    return (
        not member.restricted
        and not member.marketing_opt_out
        and member.erased_at is None
        and bool(member.contact_email)
    )


@transaction.atomic
def member_restrict(
    *, member: Member, restricted: bool, actor: str, data_request: DataRequest | None = None
) -> Member:
    """Art. 18: the data is kept but not used (no statistics, no non-essential mail, expiry
    notices go to the issuer rather than the stored contact)."""
    locked = Member.objects.select_for_update().get(pk=member.pk)
    if locked.restricted != restricted:
        locked.restricted = restricted
        locked.save(update_fields=["restricted", "updated_at"])
    member.restricted = restricted
    _audit(data_request, "restricted" if restricted else "restriction_lifted", actor)
    return member


@transaction.atomic
def member_object(*, member: Member, actor: str, data_request: DataRequest | None = None) -> Member:
    """Art. 21: an objection to direct marketing (art. 21(2)-(3)) is absolute, so it opts the
    member out of marketing at once. Objections to other processing are weighed by the issuer
    and, where upheld, carried out through ``member_restrict`` or ``member_erase``."""
    locked = Member.objects.select_for_update().get(pk=member.pk)
    if not locked.marketing_opt_out:
        locked.marketing_opt_out = True
        locked.save(update_fields=["marketing_opt_out", "updated_at"])
    member.marketing_opt_out = True
    _audit(data_request, "objection_marketing_opt_out", actor)
    return member


@transaction.atomic
def member_unsubscribe(*, member_id: int) -> bool:
    """The one-click unsubscribe (RFC 8058): marketing opt-out. True if the member exists."""
    return Member.objects.filter(pk=member_id).update(marketing_opt_out=True) > 0


# --- rectification ------------------------------------------------------------------------------


@transaction.atomic
def member_rectify(
    *,
    member: Member,
    changes: dict[str, Any],
    actor: str,
    data_request: DataRequest | None = None,
) -> Member:
    """Art. 16. Goes through ``member_update`` so the public seal and its history follow."""

    if member.erased_at is not None:
        raise MemberErasedError("The member's data was erased; there is nothing to rectify.")
    unknown = set(changes) - set(RECTIFIABLE)
    if unknown:
        raise InvalidInputError(None, f"Not rectifiable: {', '.join(sorted(unknown))}")
    member = member_update(member=member, actor=actor, **changes)
    # Field names only: the old and new values are exactly what must not linger in the trail.
    _audit(data_request, "rectified", actor, fields=sorted(changes))
    return member


# --- export -------------------------------------------------------------------------------------


def member_export(member: Member, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything held about the member as one JSON-able document (arts. 15 and 20).

    Seal events are the member's own seals' entries; the salted digests and chain links are
    left out (they describe the issuer's chain, not the member), the private payloads are in.
    """

    now = now or timezone.now()
    member.refresh_from_db()
    seals = list(Seal.objects.filter(member=member).select_related("programme").order_by("id"))
    events: dict[int, list[dict[str, Any]]] = {seal.pk: [] for seal in seals}
    for event in SealEvent.objects.filter(seal__in=seals).order_by("seq"):
        data = {k: v for k, v in event.data.items() if k != "private_digest"}
        private = {k: v for k, v in (event.private_data or {}).items() if k != "salt"}
        events[event.seal_id].append(
            {
                "seq": event.seq,
                "kind": event.kind,
                "actor": event.actor,
                "occurred_at": _iso(event.occurred_at),
                "data": data,
                "private_data": private or None,
            }
        )
    by_pk = {seal.pk: seal.public_id for seal in seals}
    return {
        "format": EXPORT_FORMAT,
        "generated_at": _iso(now),
        "issuer": {"slug": member.issuer.slug, "name": member.issuer.name},
        "member": {
            "id": member.pk,
            "external_ref": member.external_ref,
            "legal_name": member.legal_name,
            "display_name": member.display_name,
            "domains": list(member.domains or []),
            "country": member.country,
            "contact": {
                "name": member.contact_name,
                "email": member.contact_email,
                "phone": member.contact_phone,
            },
            "restricted": member.restricted,
            "marketing_opt_out": member.marketing_opt_out,
            "register_listed": member.register_listed,
            "language": member.language,
            "erased_at": _iso(member.erased_at),
            "created_at": _iso(member.created_at),
            "updated_at": _iso(member.updated_at),
        },
        "seals": [
            {
                "id": seal.public_id,
                "programme": {"slug": seal.programme.slug, "name": seal.programme.name},
                "status": effective_status(seal, now),
                "stored_status": seal.status,
                "status_reason": seal.status_reason,
                "status_changed_at": _iso(seal.status_changed_at),
                "valid_from": _iso(seal.valid_from),
                "expires_at": _iso(seal.expires_at),
                "created_at": _iso(seal.created_at),
                "events": events[seal.pk],
            }
            for seal in seals
        ],
        "notices": [
            {
                "seal": by_pk[n.seal_id],
                "kind": n.kind,
                "cycle": n.cycle.isoformat(),
                "state": n.state,
                "due_at": _iso(n.due_at),
                "sent_at": _iso(n.sent_at),
                "sent_to_issuer": n.recipient_is_issuer,
            }
            for n in Notice.objects.filter(seal__in=seals).order_by("seal_id", "due_at")
        ],
        "statistics": {
            "daily": [
                {
                    "seal": by_pk[s.seal_id],
                    "day": s.day.isoformat(),
                    "impressions": s.impressions,
                    "verification_views": s.verification_views,
                    "misuse_hits": s.misuse_hits,
                }
                for s in DailyStat.objects.filter(seal__in=seals).order_by("seal_id", "day")
            ],
            "monthly": [
                {
                    "seal": by_pk[s.seal_id],
                    "month": s.month.strftime("%Y-%m"),
                    "impressions": s.impressions,
                    "verification_views": s.verification_views,
                    "misuse_hits": s.misuse_hits,
                }
                for s in MonthlyStat.objects.filter(seal__in=seals).order_by("seal_id", "month")
            ],
            # The other sites the seals were shown on (host names, no visitor data).
            "misuse_hosts": [
                {"seal": by_pk[h.seal_id], "day": h.day.isoformat(), "host": h.host, "hits": h.hits}
                for h in SealMisuseHostDay.objects.filter(seal__in=seals).order_by(
                    "seal_id", "day", "host"
                )
            ],
        },
        "data_requests": [
            {
                "id": r.pk,
                "kind": r.kind,
                "state": r.state,
                "requester_name": r.requester_name,
                "requester_email": r.requester_email,
                "received_at": _iso(r.received_at),
                "due_at": _iso(r.due_at),
                "completed_at": _iso(r.completed_at),
                "outcome": r.outcome,
                "audit": r.audit,
            }
            for r in DataRequest.objects.filter(member=member).order_by("received_at", "id")
        ],
        **export_sections.collect(member),
    }


# --- erasure ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureReport:
    member_id: int
    corporate: bool
    events_erased: int
    seals_revoked: int
    data_requests_blanked: int
    misuse_reports_deleted: int = 0


@transaction.atomic
def member_erase(
    *,
    member: Member,
    corporate: bool,
    actor: str,
    data_request: DataRequest | None = None,
) -> ErasureReport:
    """Art. 17: destroy the member's personal data (and its corporate data when asked).

    Steps, in one transaction under a lock on the member row:
    1. blank the contact fields and their keyed hash (the ciphertext is overwritten, not hidden);
    2. destroy the private payloads of the member's seal events (``erase_private_data``: they sit
       outside the hashed part, so the issuer's chain still verifies) and the free-text status
       reasons of its seals;
    3. blank the requester details of the member's data requests, and delete the misuse
       reports about its seals (the reporters' messages and addresses: kept for the issuer to
       follow up a copied seal, which an erased member no longer has);
    4. corporate: names become a neutral placeholder, domains and country are cleared, every seal
       not yet revoked is revoked with reason ``erased`` through ``seal_revoke``;
    5. record an ``erased`` event on each seal (field groups only) and stamp ``erased_at``.
    Erasing twice is refused rather than silently repeated.
    """

    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.erased_at is not None:
        raise MemberErasedError("The member's data was already erased.")
    now = timezone.now()
    needles = [member.contact_name, member.contact_email, member.contact_phone]
    if corporate:
        needles += [member.legal_name, member.display_name, *(member.domains or [])]
    _scrub_copies(member, needles)
    member.contact_name = member.contact_email = member.contact_phone = ""
    member.contact_email_hash = ""
    fields = ["contact_name", "contact_email", "contact_email_hash", "contact_phone"]
    if corporate:
        member.legal_name = member.display_name = ERASED_PLACEHOLDER
        member.domains = []
        member.country = ""
        fields += ["legal_name", "display_name", "domains", "country"]
    member.erased_at = now
    member.save(update_fields=[*fields, "erased_at", "updated_at"])

    seals = list(Seal.objects.filter(member=member).order_by("id"))
    events_erased = SealEvent.objects.filter(
        seal__member=member, private_data__isnull=False
    ).erase_private_data()
    Seal.objects.filter(member=member).exclude(status_reason="").update(status_reason="")
    blanked = (
        DataRequest.objects.filter(member=member)
        .exclude(requester_name="", requester_email="")
        .update(requester_name="", requester_email="")
    )
    reports_deleted, _ = MisuseReport.objects.filter(seal__member=member).delete()
    revoked = 0
    if corporate:
        for seal in seals:
            if seal.status != SealStatus.REVOKED:
                seal_revoke(seal=seal, reason=ERASED_REASON, actor=actor)
                revoked += 1
    for seal in seals:
        record_event(
            seal=seal,
            kind=SealEvent.Kind.ERASED,
            actor=actor,
            at=now,
            data={"personal": True, "corporate": corporate},
        )
    _audit(data_request, "erased", actor, corporate=corporate)

    def invalidate() -> None:
        from seals.snapshot import invalidate_member

        invalidate_member(member)

    transaction.on_commit(invalidate)
    return ErasureReport(
        member_id=member.pk,
        corporate=corporate,
        events_erased=events_erased,
        seals_revoked=revoked,
        data_requests_blanked=blanked,
        misuse_reports_deleted=reports_deleted,
    )


def _scrub_copies(member: Member, needles: list[str]) -> None:
    """Drop short-lived copies that may quote the member's data in clear: replayable API answers
    (Idempotency-Key, kept a day) and uploaded import files. Matching by content is coarse but
    safe: a dropped idempotency record only means a retry runs again (and is refused as a
    duplicate), a dropped import source only means the file cannot be re-read."""
    from issuers.models import IdempotencyRecord, ImportJob

    wanted = [n.encode() for n in needles if n and len(n) >= 3]
    if not wanted:
        return

    def quotes(raw: bytes | memoryview | None) -> bool:
        data = bytes(raw) if raw is not None else b""
        return any(n in data for n in wanted)

    records = IdempotencyRecord.objects.filter(api_key__issuer_id=member.issuer_id)
    stale = [pk for pk, body in records.values_list("pk", "response_body") if quotes(body)]
    IdempotencyRecord.objects.filter(pk__in=stale).delete()
    jobs = ImportJob.objects.filter(issuer_id=member.issuer_id)
    for pk, source, errors in jobs.values_list("pk", "source", "errors"):
        changes: dict[str, Any] = {}
        if quotes(source):
            changes["source"] = None
        if quotes(json.dumps(errors, ensure_ascii=False).encode()):
            changes["errors"] = []
        if changes:
            ImportJob.objects.filter(pk=pk).update(**changes)


def member_contact_lookup(*, issuer: Issuer, email: str) -> QuerySet[Member]:
    """Members of ``issuer`` whose contact e-mail equals ``email`` (through the keyed hash)."""
    digest = blind_index(email)
    if not digest:
        return Member.objects.none()
    return Member.objects.filter(issuer=issuer, contact_email_hash=digest)

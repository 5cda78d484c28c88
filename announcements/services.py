"""Announcements: write, send (one transaction: the status and its outbox message), deliver.

Delivery is the outbox message ``announcement.send`` (keyed by the announcement, so there is
one however often sending is asked for). Its run:

1. plans once: one Recipient row per addressed member, in one transaction with
   ``planned_at``; the unique (announcement, member) makes a second plan add nothing. Members
   who opted out, restricted processing, were erased or have no address are ``skipped`` with
   that reason;
2. sends the due ``pending`` rows in batches, renewing the message's lease between batches;
   each row is claimed (conditional UPDATE) before its mail goes out and marked ``sent`` after,
   so a re-run never mails a member twice; a worker that dies in between leaves it claimed, and
   only the run holding the message (the outbox lease) takes such a row up again, re-sending
   with the same Message-ID;
3. when nothing is pending, marks the announcement ``sent``.

The opt-out is checked again at the moment of sending: a member who unsubscribed between the
plan and their batch gets nothing.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from announcements.mail import announcement_message
from announcements.models import Announcement, Recipient
from announcements.selectors import addressed_members, skip_reason
from config.errors import ConflictError, InvalidInputError
from effects.backoff import backoff_seconds
from issuers.models import Issuer, Member, Programme
from issuers.staff import audit_record
from issuers.text import text_problem
from outbox import core as outbox

SEND_TOPIC = "announcement.send"
# Mails per batch between two lease renewals: each is one SMTP hand-over (EMAIL_TIMEOUT).
BATCH = 50
MAX_ATTEMPTS = 3
SUBJECT_MAX = 200
BODY_MAX = 20_000
log = logging.getLogger(__name__)


class NotADraftError(ConflictError):
    code = "announcement_not_draft"


def _clean(*, issuer: Issuer, subject: str, body: str, programme: Programme | None) -> None:
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise InvalidInputError("subject", "A subject is needed.")
    if len(subject) > SUBJECT_MAX or (problem := text_problem(subject)) is not None:
        raise InvalidInputError("subject", problem or f"At most {SUBJECT_MAX} characters.")
    if not body:
        raise InvalidInputError("body", "The announcement has no text.")
    if len(body) > BODY_MAX or (problem := text_problem(body, multiline=True)) is not None:
        raise InvalidInputError("body", problem or f"At most {BODY_MAX} characters.")
    if programme is not None and programme.issuer_id != issuer.pk:
        raise InvalidInputError("programme", "Not one of this issuer's programmes.")


@transaction.atomic
def announcement_create(
    *, issuer: Issuer, subject: str, body: str, programme: Programme | None, actor: str
) -> Announcement:
    """A draft: nothing goes out until ``announcement_send``."""
    _clean(issuer=issuer, subject=subject, body=body, programme=programme)
    announcement = Announcement.objects.create(
        issuer=issuer,
        subject=subject.strip(),
        body=body.strip(),
        programme=programme,
        created_by=actor,
    )
    audit_record(
        issuer=issuer,
        actor=actor,
        action="announcement.created",
        target=announcement.subject,
        data={"announcement": announcement.pk, "programme": programme and programme.slug},
    )
    return announcement


@transaction.atomic
def announcement_update(
    *,
    announcement: Announcement,
    subject: str,
    body: str,
    programme: Programme | None,
    actor: str,
) -> Announcement:
    locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
    if locked.status != Announcement.Status.DRAFT:
        raise NotADraftError("Only a draft can be changed; this one is already sent.")
    _clean(issuer=locked.issuer, subject=subject, body=body, programme=programme)
    locked.subject, locked.body, locked.programme = subject.strip(), body.strip(), programme
    locked.save(update_fields=["subject", "body", "programme"])
    audit_record(
        issuer=locked.issuer_id,
        actor=actor,
        action="announcement.changed",
        target=locked.subject,
        data={"announcement": locked.pk},
    )
    return locked


@transaction.atomic
def announcement_send(*, announcement: Announcement, actor: str, now: datetime) -> Announcement:
    """Draft → sending, with its outbox message and audit entry, all or nothing."""
    sending = Announcement.objects.filter(
        pk=announcement.pk, status=Announcement.Status.DRAFT
    ).update(status=Announcement.Status.SENDING, sent_by=actor, sent_at=now)
    if not sending:
        raise NotADraftError("This announcement is already being sent.")
    outbox.put(SEND_TOPIC, {"announcement_id": announcement.pk}, key=str(announcement.pk))
    audit_record(
        issuer=announcement.issuer_id,
        actor=actor,
        action="announcement.sent",
        target=announcement.subject,
        data={"announcement": announcement.pk},
    )
    announcement.refresh_from_db()
    return announcement


# --- delivery -----------------------------------------------------------------------------------


@transaction.atomic
def announcement_plan(*, announcement_id: int, now: datetime) -> int:
    """Write the recipient rows once (step 1); returns how many were written."""
    announcement = Announcement.objects.select_for_update().get(pk=announcement_id)
    if announcement.planned_at is not None or announcement.status != Announcement.Status.SENDING:
        return 0
    members = Member.objects.filter(addressed_members(announcement)).order_by("pk")
    rows = []
    for member in members.iterator(chunk_size=1000):
        reason = skip_reason(member)
        rows.append(
            Recipient(
                announcement=announcement,
                member=member,
                state=Recipient.State.SKIPPED if reason else Recipient.State.PENDING,
                reason=reason,
                due_at=now,
            )
        )
    Recipient.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    announcement.planned_at = now
    announcement.save(update_fields=["planned_at"])
    return len(rows)


@dataclass(frozen=True)
class RunOutcome:
    sent: int
    skipped: int
    failed: int
    # Set when rows wait for a retry: run again then. None: finished, or stopped (overtaken).
    retry_at: datetime | None = None
    finished: bool = False


def announcement_run(
    *,
    announcement_id: int,
    now: Callable[[], datetime] = timezone.now,
    keep_lease: Callable[[], bool] = lambda: True,
    batch: int = BATCH,
) -> RunOutcome:
    """Plan, then send batch after batch (steps 1-3). ``keep_lease`` renews the outbox lease
    between batches; False means another run holds the message, so this one stops."""
    announcement_plan(announcement_id=announcement_id, now=now())
    announcement = Announcement.objects.select_related("issuer").get(pk=announcement_id)
    sent = skipped = failed = 0
    while True:
        at = now()
        due = list(
            Recipient.objects.filter(announcement=announcement, due_at__lte=at)
            .filter(state__in=[Recipient.State.PENDING, Recipient.State.CLAIMED])
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not due:
            break
        for pk in due:
            state = recipient_send(announcement=announcement, recipient_id=pk, now=at)
            sent += state == Recipient.State.SENT
            skipped += state == Recipient.State.SKIPPED
            failed += state == Recipient.State.FAILED
        if not keep_lease():
            return RunOutcome(sent, skipped, failed)
    waiting = Recipient.objects.filter(
        announcement=announcement, state=Recipient.State.PENDING
    ).aggregate(next=Min("due_at"))["next"]
    if waiting is not None:
        return RunOutcome(sent, skipped, failed, retry_at=waiting)
    Announcement.objects.filter(pk=announcement.pk, status=Announcement.Status.SENDING).update(
        status=Announcement.Status.SENT, finished_at=now()
    )
    return RunOutcome(sent, skipped, failed, finished=True)


def recipient_send(*, announcement: Announcement, recipient_id: int, now: datetime) -> str:
    """Claim → check → send → mark one recipient; returns the row's new state."""
    claimed = (
        Recipient.objects.filter(pk=recipient_id)
        .filter(
            Q(state=Recipient.State.PENDING, due_at__lte=now) | Q(state=Recipient.State.CLAIMED)
        )
        .update(state=Recipient.State.CLAIMED, attempts=F("attempts") + 1)
    )
    if not claimed:
        return ""
    recipient = Recipient.objects.select_related("member").get(pk=recipient_id)
    ours = Recipient.objects.filter(pk=recipient_id, state=Recipient.State.CLAIMED)
    reason = skip_reason(recipient.member)
    if reason:
        ours.update(state=Recipient.State.SKIPPED, reason=reason)
        return Recipient.State.SKIPPED
    try:
        announcement_message(announcement, recipient.member).send()
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__} {getattr(exc, 'smtp_code', '') or ''}".strip()
        log.warning(
            "announcement %s to member %s failed: %s", announcement.pk, recipient.member_id, error
        )
        if recipient.attempts >= MAX_ATTEMPTS:
            ours.update(state=Recipient.State.FAILED, last_error=error)
            return Recipient.State.FAILED
        retry = now + timedelta(seconds=backoff_seconds(recipient.attempts, base=60, cap=3600))
        ours.update(state=Recipient.State.PENDING, due_at=retry, last_error=error)
        return Recipient.State.PENDING
    ours.update(state=Recipient.State.SENT, sent_at=timezone.now())
    return Recipient.State.SENT

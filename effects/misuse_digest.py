"""The daily misuse digest: one e-mail per issuer and UTC day listing the foreign hosts first
seen showing its seals that day (seals.misuse_hosts), to the issuer's owners.

Steps:

1. ``misuse_digests_plan`` (a beat job) takes the day before today once ``PLAN_AFTER`` of
   today has passed (the stats flush still writes yesterday's hosts for its first minutes), and
   creates a ``MisuseDigest`` row for each issuer with a new host that day: only those, so an
   issuer with none gets nothing. The row is unique per (issuer, day) and its outbox message is
   keyed by it, so planning twice, or twice at once, owes one e-mail.
2. ``misuse_digest_send`` (that message's run) claims the row with a conditional UPDATE, sends
   with a stable Message-ID and marks it sent; an SMTP error puts it back with a back-off, and
   after ``NOTICE_MAX_ATTEMPTS`` it is failed. As with notices (effects.notices), a crash
   between sending and marking is the one way a second copy can go out, with the same
   Message-ID.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string

from effects.backoff import backoff_seconds
from issuers.models import Issuer, StaffMember, StaffRole
from outbox import core as outbox
from seals.misuse_hosts import (
    NewMisuseHost,
    issuer_new_misuse_hosts,
    issuers_with_new_misuse_hosts,
)
from seals.models import MisuseDigest

log = logging.getLogger(__name__)

# The outbox topic that sends one digest: {"digest_id": <MisuseDigest pk>}, keyed by that pk.
SEND_TOPIC = "misuse_digest.send"
# Past midnight UTC, how long the stats flush may still be writing yesterday's hosts (it runs
# every minute and always flushes yesterday too).
PLAN_AFTER = timedelta(minutes=15)


def misuse_digests_plan(*, now: datetime) -> int:
    """Owe yesterday's digests not yet owed; returns how many were created."""
    if now - now.replace(hour=0, minute=0, second=0, microsecond=0) < PLAN_AFTER:
        return 0
    day = now.date() - timedelta(days=1)
    issuer_ids = issuers_with_new_misuse_hosts(day=day)
    if not issuer_ids:
        return 0
    with transaction.atomic():
        already = set(
            MisuseDigest.objects.filter(day=day, issuer_id__in=issuer_ids).values_list(
                "issuer_id", flat=True
            )
        )
        missing = [pk for pk in issuer_ids if pk not in already]
        if not missing:
            return 0
        MisuseDigest.objects.bulk_create(
            [MisuseDigest(issuer_id=pk, day=day, created_at=now) for pk in missing],
            ignore_conflicts=True,  # a concurrent planner's rows: theirs stand
        )
        created = list(
            MisuseDigest.objects.filter(
                day=day, issuer_id__in=missing, state=MisuseDigest.State.PENDING
            ).values_list("pk", flat=True)
        )
        outbox.put_many(
            SEND_TOPIC, [{"digest_id": pk} for pk in created], keys=[str(pk) for pk in created]
        )
    return len(created)


def digest_recipients(issuer: Issuer) -> list[str]:
    """The issuer's owners' addresses (active accounts), else its public address."""
    owners = sorted(
        {
            email
            for email in StaffMember.objects.filter(
                issuer=issuer, role=StaffRole.OWNER, user__is_active=True
            ).values_list("user__email", flat=True)
            if email
        }
    )
    if owners:
        return owners
    return [issuer.public_email] if issuer.public_email else []


def digest_message_id(digest: MisuseDigest) -> str:
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "trustseal.local"
    return f"<misuse-digest-{digest.pk}.{digest.day:%Y%m%d}@{host}>"


def digest_message(
    digest: MisuseDigest, to: list[str], hosts: list[NewMisuseHost]
) -> EmailMultiAlternatives:
    issuer = digest.issuer
    count = len(hosts)
    subject = (
        f"{count} new site{'s' if count != 1 else ''} showing your seals ({digest.day:%d %b %Y})"
    )
    context = {
        "issuer": issuer,
        "day": digest.day,
        "hosts": hosts,
        "console_url": f"{settings.PUBLIC_BASE_URL}{settings.CONSOLE_PATH}",
        "subject": subject,
    }
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("effects/email/misuse_digest.txt", context),
        from_email=formataddr(("Trustseal", sender)),
        to=to,
        headers={
            "Message-ID": digest_message_id(digest),
            "X-Trustseal-Misuse-Digest": str(digest.pk),
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string("effects/email/misuse_digest.html", context), "text/html"
    )
    return message


@dataclass(frozen=True)
class DigestOutcome:
    # sent / empty / pending (retry at ``retry_at``) / failed / not_claimed
    state: str
    retry_at: datetime | None = None


def misuse_digest_send(*, digest_id: int, now: datetime) -> DigestOutcome:
    """Claim → build → send → mark (the module docstring, step 2)."""
    claimed = (
        MisuseDigest.objects.filter(pk=digest_id)
        .filter(Q(state=MisuseDigest.State.PENDING) | Q(state=MisuseDigest.State.CLAIMED))
        .update(state=MisuseDigest.State.CLAIMED, attempts=F("attempts") + 1)
    )
    if not claimed:
        return DigestOutcome("not_claimed")
    digest = MisuseDigest.objects.select_related("issuer").get(pk=digest_id)
    ours = MisuseDigest.objects.filter(pk=digest_id, state=MisuseDigest.State.CLAIMED)
    to = digest_recipients(digest.issuer)
    try:
        if not to:
            raise smtplib.SMTPRecipientsRefused({})
        hosts = issuer_new_misuse_hosts(issuer=digest.issuer, day=digest.day)
        if not hosts:  # deleted since it was planned (an erasure): nothing to tell
            ours.update(state=MisuseDigest.State.SENT, hosts=0, last_error="Nothing to list.")
            return DigestOutcome("empty")
        digest_message(digest, to, hosts).send()
    except (smtplib.SMTPException, OSError) as exc:
        return _attempt_failed(digest, ours, exc, now)
    ours.update(state=MisuseDigest.State.SENT, sent_at=now, hosts=len(hosts), last_error="")
    log.info("misuse digest %s (issuer %s, %s) sent", digest.pk, digest.issuer_id, digest.day)
    return DigestOutcome("sent")


def _attempt_failed(digest: MisuseDigest, ours, exc: Exception, now: datetime) -> DigestOutcome:
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and not exc.recipients:
        error = "No recipient: the issuer has no owner with an e-mail and no public e-mail."
    else:
        code = getattr(exc, "smtp_code", None)
        error = f"{type(exc).__name__}{f' {code}' if code else ''}"
    log.warning("misuse digest %s attempt %d failed: %s", digest.pk, digest.attempts, error)
    if digest.attempts >= settings.NOTICE_MAX_ATTEMPTS:
        ours.update(state=MisuseDigest.State.FAILED, last_error=error)
        return DigestOutcome("failed")
    retry_at = now + timedelta(seconds=backoff_seconds(digest.attempts, base=60, cap=6 * 3600))
    ours.update(state=MisuseDigest.State.PENDING, last_error=error)
    return DigestOutcome("pending", retry_at=retry_at)

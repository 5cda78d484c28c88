"""Membership-expiry notices: plan, claim, send, mark.

A Notice row exists once per (seal, kind, cycle) — the database refuses a second — where the
cycle is the expiry date warned about, so a renewal (a new expiry date) starts a new cycle.
Kinds follow the programme's ``notice_days``: ``expiry_<n>d`` for each threshold (the defaults
give ``expiry_30d``, ``expiry_7d``, ``expiry_1d``) and ``expired`` on the expiry itself.

Delivery is at-least-once with a stable ``Message-ID``: each pending notice has one outbox
message (keyed by the notice, so a second planner cannot add another), whose run claims the row
(conditional UPDATE) before the message goes out and marks it after; a worker that dies in
between leaves it claimed, and the outbox runs the message again once its lease has passed,
re-sending with the same Message-ID, so the member's mail client shows one message. Plain SMTP
offers nothing better (docs/operations.md).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from effects.backoff import backoff_seconds
from effects.mail import (
    mail_language,
    named_once,
    portal_url,
    render_mail,
    renewal_of,
    seal_image_url,
    sender_of,
)
from issuers.models import Programme
from outbox import core as outbox
from seals import links
from seals.models import Notice, Seal, SealStatus

EXPIRED = "expired"
# The outbox topic that sends one notice: {"notice_id": <Notice pk>}, keyed by that pk.
SEND_TOPIC = "notice.send"
log = logging.getLogger(__name__)


def notice_kind(days: int) -> str:
    return EXPIRED if days == 0 else f"expiry_{days}d"


def _thresholds(notice_days: Iterable[object] | None) -> list[int]:
    """Programme thresholds, largest first, ending with 0 (the expiry itself); bad values are
    ignored rather than blocking every notice of the programme."""
    days = {d for d in (notice_days or []) if isinstance(d, int) and 0 < d <= 365}
    return [*sorted(days, reverse=True), 0]


def _cycle(expires_at: datetime) -> date:
    return expires_at.astimezone(UTC).date()


def _nearest_due(thresholds: list[int], expires_at: datetime, now: datetime) -> int | None:
    """The threshold whose moment passed most recently, or None before the first one."""
    passed = [d for d in thresholds if expires_at - timedelta(days=d) <= now]
    return min(passed) if passed else None


# --- planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanResult:
    created: int
    skipped: int


def notices_plan(*, now: datetime) -> PlanResult:
    """Create the notices that fell due, at most one per seal and cycle.

    Per programme threshold set and per threshold ``d`` (next smaller threshold ``n``): the seals
    whose expiry lies in ``(now + n, now + d]`` have ``d`` as their nearest due notice. Those
    without that notice get it as ``pending``; the larger thresholds they passed without a
    notice (an outage, or a seal awarded late in its cycle) get ``skipped`` rows, so after an
    outage only the nearest notice goes out. Revoked seals get none, and an ``expired`` notice
    is created only within NOTICE_LOOKBACK_DAYS of the expiry.
    """
    groups: dict[tuple[int, ...], list[int]] = {}
    for pk, days in Programme.objects.values_list("pk", "notice_days"):
        groups.setdefault(tuple(_thresholds(days)), []).append(pk)
    created = skipped = 0
    for thresholds, programme_ids in groups.items():
        for i, days in enumerate(thresholds):
            nxt = thresholds[i + 1] if i + 1 < len(thresholds) else None
            c, s = _plan_threshold(programme_ids, list(thresholds), i, days, nxt, now)
            created += c
            skipped += s
    return PlanResult(created=created, skipped=skipped)


@transaction.atomic
def _plan_threshold(
    programme_ids: list[int],
    thresholds: list[int],
    index: int,
    days: int,
    nxt: int | None,
    now: datetime,
) -> tuple[int, int]:
    kind = notice_kind(days)
    window = Q(expires_at__lte=now + timedelta(days=days))
    if nxt is not None:
        window &= Q(expires_at__gt=now + timedelta(days=nxt))
    else:
        window &= Q(expires_at__gt=now - timedelta(days=settings.NOTICE_LOOKBACK_DAYS))
    existing = Notice.objects.filter(seal=OuterRef("pk"), kind=kind, cycle=OuterRef("cycle"))
    due = list(
        Seal.objects.filter(window, programme_id__in=programme_ids, expires_at__isnull=False)
        .exclude(status=SealStatus.REVOKED)
        .annotate(cycle=TruncDate("expires_at", tzinfo=UTC))
        .exclude(Exists(existing))
        .values_list("pk", "expires_at")
    )
    if not due:
        return 0, 0
    rows = []
    for seal_id, expires_at in due:
        if expires_at is None:  # excluded by the query; the column itself is nullable
            continue
        cycle = _cycle(expires_at)
        rows.append(
            Notice(
                seal_id=seal_id,
                kind=kind,
                cycle=cycle,
                due_at=expires_at - timedelta(days=days),
                created_at=now,
            )
        )
        rows.extend(
            Notice(
                seal_id=seal_id,
                kind=notice_kind(earlier),
                cycle=cycle,
                due_at=expires_at - timedelta(days=earlier),
                state=Notice.State.SKIPPED,
                last_error="A nearer notice of the same cycle was due.",
                created_at=now,
            )
            for earlier in thresholds[:index]
        )
    # ignore_conflicts: a concurrent planner may have inserted the same (seal, kind, cycle); the
    # unique constraint decides, and only rows we can see as pending are owed below.
    Notice.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    pending = list(
        Notice.objects.filter(
            seal_id__in=[pk for pk, _ in due], kind=kind, state=Notice.State.PENDING
        ).values_list("pk", flat=True)
    )
    notices_owe(pending)
    return len(pending), len(rows) - len(due)


def notices_owe(notice_ids: list[int]) -> None:
    """One outbox message per notice, in the caller's transaction. Keyed by the notice: a
    concurrent planner that sees the same pending rows adds no second message, so no two runs
    can hold one notice at once."""
    outbox.put_many(
        SEND_TOPIC, [{"notice_id": pk} for pk in notice_ids], keys=[str(pk) for pk in notice_ids]
    )


# --- the message ----------------------------------------------------------------------------


def notice_message_id(notice: Notice) -> str:
    """Stable per notice: every attempt, including a re-send after a crash, carries it, so the
    receiving side sees one message however often it is handed over."""
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "trustseal.local"
    return f"<notice-{notice.pk}.{notice.cycle:%Y%m%d}@{host}>"


def notice_recipient(notice: Notice) -> tuple[str, bool]:
    """``(address, addressed_to_issuer)``.

    The member's contact, unless the member was erased, has no contact, or restricted
    processing (GDPR art. 18: using the stored e-mail is processing). Then the notice goes to
    the issuer's public address, so the issuer can reach the member by its own lawful means.
    Marketing opt-out does not count: this is service mail about the membership itself.
    """
    member = notice.seal.member
    if member.erased_at is None and not member.restricted and member.contact_email:
        return member.contact_email, False
    return notice.seal.issuer.public_email, True


def _subject(notice: Notice) -> str:
    """In the active language; the issuer is named once, never twice."""
    seal = notice.seal
    names = {"programme": seal.programme.name, "issuer": seal.issuer.name}
    once = named_once(names["programme"], names["issuer"])
    if notice.kind == EXPIRED:
        if once:
            return _("Your %(programme)s seal has expired") % names
        return _("Your %(programme)s seal from %(issuer)s has expired") % names
    days = int(notice.kind.removeprefix("expiry_").removesuffix("d"))
    if once:
        return ngettext(
            "Your %(programme)s seal expires in %(days)s day",
            "Your %(programme)s seal expires in %(days)s days",
            days,
        ) % {**names, "days": days}
    return ngettext(
        "Your %(programme)s seal from %(issuer)s expires in %(days)s day",
        "Your %(programme)s seal from %(issuer)s expires in %(days)s days",
        days,
    ) % {**names, "days": days}


def notice_message(notice: Notice) -> EmailMultiAlternatives:
    """Text and HTML, in the member's language (the default one when it goes to the issuer),
    with the seal's image, the programme's renewal link (else the issuer's contact) and the
    member portal's address."""
    seal = notice.seal
    issuer = seal.issuer
    to, to_issuer = notice_recipient(notice)
    lang = settings.LANGUAGE_CODE if to_issuer else mail_language(seal.member)
    with translation.override(lang):
        subject = _subject(notice)
    context = {
        "notice": notice,
        "seal": seal,
        "issuer": issuer,
        "member": seal.member,
        "expired": notice.kind == EXPIRED,
        "expires_at": seal.expires_at,
        "to_issuer": to_issuer,
        "verify_url": links.verify_url(seal) + links.lang_query(lang, first=True),
        "image_url": seal_image_url(seal, lang),
        "image_alt": links.seal_alt(seal, lang),
        "renewal": renewal_of(seal.programme, issuer),
        "portal_url": portal_url(),
        "subject": subject,
    }
    rendered = render_mail("effects/email/expiry_notice", context, lang=lang)
    message = EmailMultiAlternatives(
        subject=subject,
        body=rendered.text,
        from_email=sender_of(issuer),
        to=[to],
        reply_to=[issuer.public_email] if issuer.public_email else None,
        headers={
            "Message-ID": notice_message_id(notice),
            "X-Trustseal-Notice": str(notice.pk),
            "Auto-Submitted": "auto-generated",
            "Content-Language": lang,
        },
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


# --- sending --------------------------------------------------------------------------------


NO_RECIPIENT = "No recipient: the member has no usable contact and the issuer no public e-mail."


@dataclass(frozen=True)
class SendOutcome:
    # sent / pending (retry at ``retry_at``) / failed / skipped / not_due (come back at
    # ``retry_at``) / not_claimed (sent, skipped or failed already, or gone)
    state: str
    retry_at: datetime | None = None


def _claim(notice_id: int, now: datetime) -> bool:
    """A pending notice that is due, or one a worker died sending (its outbox message's lease
    ran out before this run could start, so it is ours now)."""
    return bool(
        Notice.objects.filter(pk=notice_id)
        .filter(Q(state=Notice.State.PENDING, due_at__lte=now) | Q(state=Notice.State.CLAIMED))
        .update(state=Notice.State.CLAIMED, attempts=F("attempts") + 1)
    )


def _stale_reason(notice: Notice, now: datetime) -> str:
    """Why a claimed notice should not go out any more, or ''."""
    seal = notice.seal
    if seal.status == SealStatus.REVOKED:
        return "The seal was revoked."
    if seal.expires_at is None or _cycle(seal.expires_at) != notice.cycle:
        return "The seal was renewed; a new cycle has begun."
    nearest = _nearest_due(_thresholds(seal.programme.notice_days), seal.expires_at, now)
    if nearest is not None and notice_kind(nearest) != notice.kind:
        return "A nearer notice of the same cycle is due."
    return ""


def notice_send(*, notice_id: int, now: datetime) -> SendOutcome:
    """Claim → send → mark. Steps (one run of the notice's outbox message, which makes this
    worker its only sender):

    1. conditional UPDATE ``pending → claimed`` (or take up a claim whose worker died); row
       count 0 means it is done, or not yet due: stop;
    2. skip it if the seal was revoked or renewed, a nearer notice became due meanwhile, or
       there is nobody to write to (one recorded skip, never retried);
    3. send through Django's e-mail backend with the notice's stable Message-ID;
    4. mark ``sent``, conditional on the row still being claimed. A crash between 3 and 4 is
       the one place a duplicate can arise: the lease runs out and the same message is re-sent.

    On an SMTP error the notice goes back to ``pending`` with a back-off, or to ``failed`` after
    NOTICE_MAX_ATTEMPTS, which also queues a ``notice.failed`` webhook for the issuer.
    """
    if not _claim(notice_id, now):
        row = Notice.objects.filter(pk=notice_id).values("state", "due_at").first()
        if row and row["state"] == Notice.State.PENDING:
            return SendOutcome("not_due", retry_at=row["due_at"])
        return SendOutcome("not_claimed")
    notice = Notice.objects.select_related("seal__member", "seal__issuer", "seal__programme").get(
        pk=notice_id
    )
    ours = Notice.objects.filter(pk=notice_id, state=Notice.State.CLAIMED)
    reason = _stale_reason(notice, now)
    if reason:
        ours.update(state=Notice.State.SKIPPED, last_error=reason)
        return SendOutcome("skipped")
    to, to_issuer = notice_recipient(notice)
    if not to:
        # Nobody to write to (no usable member contact, no issuer public e-mail) is a fact
        # about the data, not a passing SMTP fault: retrying it cost NOTICE_MAX_ATTEMPTS
        # claims and back-offs and ended in the same place. One recorded skip instead; the
        # issuer sees it with its reason on the notice.
        ours.update(state=Notice.State.SKIPPED, last_error=NO_RECIPIENT)
        log.info("notice %s skipped: no recipient", notice.pk)
        return SendOutcome("skipped")
    try:
        notice_message(notice).send()
    except (smtplib.SMTPException, OSError) as exc:
        return _attempt_failed(notice, ours, exc, to_issuer=to_issuer)
    ours.update(state=Notice.State.SENT, sent_at=timezone.now(), recipient_is_issuer=to_issuer)
    log.info("notice %s (%s, cycle %s) sent", notice.pk, notice.kind, notice.cycle)
    return SendOutcome("sent")


def _describe(exc: Exception) -> str:
    # SMTP replies often quote the recipient address: keep the class and code, not the text.
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def _attempt_failed(notice: Notice, ours, exc: Exception, *, to_issuer: bool) -> SendOutcome:
    now = timezone.now()
    error = _describe(exc)
    log.warning("notice %s attempt %d failed: %s", notice.pk, notice.attempts, error)
    if notice.attempts >= settings.NOTICE_MAX_ATTEMPTS:
        with transaction.atomic():
            if ours.update(
                state=Notice.State.FAILED, last_error=error, recipient_is_issuer=to_issuer
            ):
                from issuers.events import webhook_emit

                webhook_emit(
                    issuer_id=notice.seal.issuer_id,
                    event_type="notice.failed",
                    data={
                        "notice": notice.pk,
                        "kind": notice.kind,
                        "cycle": notice.cycle.isoformat(),
                        "seal": notice.seal.public_id,
                        "member": notice.seal.member.external_ref,
                        "attempts": notice.attempts,
                        "error": error,
                    },
                )
        return SendOutcome("failed")
    retry_at = now + timedelta(seconds=backoff_seconds(notice.attempts, base=60, cap=6 * 3600))
    # due_at doubles as "not before": the outbox message is due again at the same moment.
    ours.update(state=Notice.State.PENDING, due_at=retry_at, last_error=error)
    return SendOutcome("pending", retry_at=retry_at)

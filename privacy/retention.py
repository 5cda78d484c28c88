"""Retention: how long each kind of record is kept, enforced by one periodic job.

Periods come from settings (RETENTION_*). Every step is idempotent, so the job may run hourly,
twice, or after an outage with the same result:
- daily statistics older than RETENTION_DAILY_STATS_MONTHS whole months are summed into
  ``seals.MonthlyStat`` (one row per seal and month) and deleted, in one transaction; the
  per-host misuse rows of those days are deleted (their hits are in the monthly misuse total),
  with the hosts not seen since and the digests of those days;
- webhook delivery logs that are finished (delivered or failed) and older than
  RETENTION_WEBHOOK_DELIVERY_DAYS are deleted with their attempt logs; pending ones are still
  work to do;
- data requests closed more than RETENTION_CLOSED_DATA_REQUEST_YEARS ago are deleted;
- uploaded import files (which carry contact details in clear) are dropped from finished
  import jobs after RETENTION_IMPORT_SOURCE_DAYS; the job's counts and row errors stay until
  the whole job is deleted, RETENTION_IMPORT_JOB_DAYS after it was created;
- account log entries (``AuditEntry``: who changed staff, API keys, webhooks, sign-in
  settings) are deleted RETENTION_ACCOUNT_LOG_DAYS after they were written. They name people
  (actor, invited addresses); seal histories, hash-chained and public, are not touched;
- misuse reports (a visitor's message and e-mail address) are deleted whole
  RETENTION_MISUSE_REPORT_DAYS after they were made. Deleted rather than blanked: what would
  be left (a URL and its host) is already in the per-host misuse records, kept as long as the
  statistics, and a row with its personal fields blanked would only look like a report.
Data-request reminders ride on the same job: 7 days before the due date and on it, to the
issuer's public address, each claimed by one conditional UPDATE so it goes out once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Sum
from django.db.models.functions import TruncMonth
from django.template.loader import render_to_string

from issuers.models import AuditEntry, DataRequest, ImportJob, WebhookAttempt, WebhookDelivery
from privacy.services import CLOSED_STATES, OPEN_STATES
from seals.misuse_hosts import misuse_hosts_purge
from seals.models import MisuseReport

log = logging.getLogger(__name__)

REMINDER_DAYS = 7


def stats_cutoff(today: date) -> date:
    """The first day kept as daily rows: whole months only, so a month is never split between
    daily rows and its monthly total."""
    return today.replace(day=1) - relativedelta(months=settings.RETENTION_DAILY_STATS_MONTHS)


@transaction.atomic
def stats_aggregate_old_days(*, now: datetime) -> int:
    """Fold daily rows before the cutoff into monthly totals; returns daily rows folded.

    The daily rows are locked first (PostgreSQL: a concurrent run waits, then finds them gone;
    SQLite takes the write lock at BEGIN), so no day is ever added twice.
    """
    from seals.models import DailyStat, MonthlyStat

    old = DailyStat.objects.filter(day__lt=stats_cutoff(now.date()))
    pks = list(old.select_for_update().values_list("pk", flat=True))
    if not pks:
        return 0
    sums = (
        DailyStat.objects.filter(pk__in=pks)
        .annotate(month=TruncMonth("day"))
        .values("seal_id", "month")
        .annotate(
            impressions_sum=Sum("impressions"),
            views_sum=Sum("verification_views"),
            misuse_sum=Sum("misuse_hits"),
        )
    )
    for row in sums:
        month = row["month"]
        month = month.date() if isinstance(month, datetime) else month
        stat, created = MonthlyStat.objects.get_or_create(
            seal_id=row["seal_id"],
            month=month,
            defaults={
                "impressions": row["impressions_sum"],
                "verification_views": row["views_sum"],
                "misuse_hits": row["misuse_sum"],
            },
        )
        if not created:
            MonthlyStat.objects.filter(pk=stat.pk).update(
                impressions=F("impressions") + row["impressions_sum"],
                verification_views=F("verification_views") + row["views_sum"],
                misuse_hits=F("misuse_hits") + row["misuse_sum"],
            )
    DailyStat.objects.filter(pk__in=pks).delete()
    return len(pks)


def webhook_deliveries_purge(*, now: datetime) -> int:
    """Deliveries deleted; their WebhookAttempt rows go with them (CASCADE)."""
    cutoff = now - timedelta(days=settings.RETENTION_WEBHOOK_DELIVERY_DAYS)
    finished = (WebhookDelivery.State.DELIVERED, WebhookDelivery.State.FAILED)
    _, per_model = WebhookDelivery.objects.filter(
        state__in=finished, created_at__lt=cutoff
    ).delete()
    attempts = per_model.get(WebhookAttempt._meta.label, 0)
    if attempts:
        log.info("retention: %d webhook attempt logs deleted with their deliveries", attempts)
    return per_model.get(WebhookDelivery._meta.label, 0)


def data_requests_purge(*, now: datetime) -> int:
    cutoff = now - relativedelta(years=settings.RETENTION_CLOSED_DATA_REQUEST_YEARS)
    deleted, _ = DataRequest.objects.filter(
        state__in=CLOSED_STATES, completed_at__lt=cutoff
    ).delete()
    return deleted


def import_sources_purge(*, now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_IMPORT_SOURCE_DAYS)
    finished = (ImportJob.State.SUCCEEDED, ImportJob.State.FAILED)
    return ImportJob.objects.filter(
        state__in=finished, updated_at__lt=cutoff, source__isnull=False
    ).update(source=None)


def import_jobs_purge(*, now: datetime) -> int:
    """Delete import jobs (counts, row errors) RETENTION_IMPORT_JOB_DAYS after creation.

    Whatever their state: an import runs for minutes (task time limit 15 min), so a job still
    ``queued`` or ``running`` at that age was orphaned by a dead worker and holds its source."""
    cutoff = now - timedelta(days=settings.RETENTION_IMPORT_JOB_DAYS)
    _, per_model = ImportJob.objects.filter(created_at__lt=cutoff).delete()
    return per_model.get(ImportJob._meta.label, 0)


def account_log_purge(*, now: datetime) -> int:
    """Delete account log entries older than RETENTION_ACCOUNT_LOG_DAYS (the ``at`` index)."""
    cutoff = now - timedelta(days=settings.RETENTION_ACCOUNT_LOG_DAYS)
    deleted, _ = AuditEntry.objects.filter(at__lt=cutoff).delete()
    return deleted


def misuse_reports_purge(*, now: datetime) -> int:
    """Delete misuse reports made more than RETENTION_MISUSE_REPORT_DAYS ago, of every issuer
    (the ``created_at`` index serves the filter)."""
    cutoff = now - timedelta(days=settings.RETENTION_MISUSE_REPORT_DAYS)
    deleted, _ = MisuseReport.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- data-request reminders -----------------------------------------------------------------


def _reminder_message(request: DataRequest, *, kind: str, now: datetime) -> EmailMessage:
    issuer = request.issuer
    days_left = (request.due_at.date() - now.date()).days
    subject = (
        f"Data request {request.pk} is due today"
        if kind == "due"
        else f"Data request {request.pk} is due in {days_left} days"
    )
    # The requester's name and e-mail stay out: the issuer reads them in the API.
    body = render_to_string(
        "issuers/email/data_request_reminder.txt",
        {"request": request, "issuer": issuer, "kind": kind, "days_left": days_left},
    )
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[issuer.public_email],
        headers={"Auto-Submitted": "auto-generated"},
    )


def _remind(field: str, kind: str, due_before: datetime, now: datetime) -> int:
    """Claim then send each due reminder; a failed send releases the claim for the next run."""
    sent = 0
    candidates = DataRequest.objects.filter(
        state__in=OPEN_STATES, due_at__lte=due_before, **{f"{field}__isnull": True}
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        if not DataRequest.objects.filter(pk=pk, **{f"{field}__isnull": True}).update(
            **{field: now}
        ):
            continue  # another run claimed it
        request = DataRequest.objects.select_related("issuer").get(pk=pk)
        if not request.issuer.public_email:
            log.warning("data request %s: issuer has no public e-mail for reminders", pk)
            continue
        try:
            _reminder_message(request, kind=kind, now=now).send()
        except Exception:
            DataRequest.objects.filter(pk=pk).update(**{field: None})
            log.exception("data request %s: %s reminder not sent; retried next run", pk, kind)
            continue
        sent += 1
    return sent


def data_request_reminders(*, now: datetime) -> dict[str, int]:
    """Reminders 7 days before the due date and on it (UTC dates), and the overdue flag."""
    start_of_tomorrow = datetime.combine(
        now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo
    )
    due = _remind("reminded_due_at", "due", start_of_tomorrow, now)
    # A request first seen on its due date gets the due-date reminder only.
    DataRequest.objects.filter(reminded_due_at__isnull=False, reminded_7d_at__isnull=True).update(
        reminded_7d_at=F("reminded_due_at")
    )
    week = _remind("reminded_7d_at", "7d", start_of_tomorrow + timedelta(days=REMINDER_DAYS), now)
    overdue = DataRequest.objects.filter(
        state__in=OPEN_STATES, due_at__lt=now, overdue_at__isnull=True
    ).update(overdue_at=now)
    return {"reminded_7d": week, "reminded_due": due, "flagged_overdue": overdue}


@dataclass(frozen=True)
class RetentionReport:
    stats_days_folded: int
    webhook_deliveries_deleted: int
    data_requests_deleted: int
    import_sources_dropped: int
    import_jobs_deleted: int
    account_log_deleted: int
    reminders: dict[str, int]
    misuse_hosts_deleted: int = 0
    misuse_reports_deleted: int = 0


def retention_run(*, now: datetime) -> RetentionReport:
    return RetentionReport(
        stats_days_folded=stats_aggregate_old_days(now=now),
        webhook_deliveries_deleted=webhook_deliveries_purge(now=now),
        data_requests_deleted=data_requests_purge(now=now),
        import_sources_dropped=import_sources_purge(now=now),
        import_jobs_deleted=import_jobs_purge(now=now),
        account_log_deleted=account_log_purge(now=now),
        reminders=data_request_reminders(now=now),
        misuse_hosts_deleted=misuse_hosts_purge(before=stats_cutoff(now.date())),
        misuse_reports_deleted=misuse_reports_purge(now=now),
    )

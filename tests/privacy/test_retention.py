"""Retention periods and data-request reminders, under time travel."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from issuers.models import DataRequest, ImportJob, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from privacy import services as privacy
from privacy.retention import (
    data_request_reminders,
    retention_run,
    stats_aggregate_old_days,
    stats_cutoff,
)
from seals.models import DailyStat, MonthlyStat
from tests.factories import IssuerFactory, MemberFactory, award

pytestmark = pytest.mark.django_db


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_stats_cutoff_keeps_thirteen_whole_months():
    assert stats_cutoff(date(2026, 3, 17)) == date(2025, 2, 1)


def test_old_daily_stats_become_monthly_totals_once(issuer):
    seal = award(MemberFactory(issuer=issuer))
    for day, count in ((date(2024, 5, 1), 3), (date(2024, 5, 31), 4), (date(2024, 6, 2), 10)):
        DailyStat.objects.create(seal=seal, day=day, impressions=count, misuse_hits=1)
    recent = DailyStat.objects.create(seal=seal, day=date(2025, 6, 1), impressions=99)
    now = at(2026, 1, 15)
    assert stats_aggregate_old_days(now=now) == 3
    assert stats_aggregate_old_days(now=now) == 0  # twice is harmless
    months = {(m.month, m.impressions, m.misuse_hits) for m in MonthlyStat.objects.all()}
    assert months == {(date(2024, 5, 1), 7, 2), (date(2024, 6, 1), 10, 1)}
    assert list(DailyStat.objects.all()) == [recent]


def test_a_late_daily_row_is_added_to_its_existing_month(issuer):
    seal = award(MemberFactory(issuer=issuer))
    MonthlyStat.objects.create(seal=seal, month=date(2024, 5, 1), impressions=7)
    DailyStat.objects.create(seal=seal, day=date(2024, 5, 9), impressions=2)
    stats_aggregate_old_days(now=at(2026, 1, 15))
    assert MonthlyStat.objects.get().impressions == 9


def test_finished_webhook_logs_go_after_30_days_pending_ones_stay(issuer):
    endpoint = WebhookEndpoint.objects.create(
        issuer=issuer, url="https://hooks.example/x", secret="s"
    )
    now = at(2026, 3, 1)

    def delivery(state: str, age_days: int) -> WebhookDelivery:
        return WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=uuid.uuid4(),
            event_type="seal.revoked",
            payload={},
            state=state,
            created_at=now - timedelta(days=age_days),
        )

    old_done = delivery(WebhookDelivery.State.DELIVERED, 31)
    old_pending = delivery(WebhookDelivery.State.PENDING, 31)
    fresh = delivery(WebhookDelivery.State.FAILED, 29)
    for row in (old_done, old_done, old_pending, fresh):
        WebhookAttempt.objects.create(
            delivery=row,
            number=row.attempt_log.count() + 1,
            started_at=row.created_at,
            duration_ms=120,
            response_code=503,
        )
    report = retention_run(now=now)
    assert report.webhook_deliveries_deleted == 1
    remaining = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert remaining == {old_pending.pk, fresh.pk}
    assert old_done.pk not in remaining
    # The attempt log goes with its delivery.
    assert set(WebhookAttempt.objects.values_list("delivery_id", flat=True)) == remaining


def test_import_jobs_and_their_row_errors_go_after_90_days(issuer, settings):
    now = at(2026, 6, 1)

    def job(age_days: int, state: str) -> ImportJob:
        return ImportJob.objects.create(
            issuer=issuer,
            format="csv",
            state=state,
            errors=[{"row": 1, "field": "country", "message": "x", "code": "invalid"}],
            created_at=now - timedelta(days=age_days),
        )

    old = job(91, ImportJob.State.FAILED)
    orphaned = job(91, ImportJob.State.RUNNING)  # its worker died; it still holds its source
    recent = job(89, ImportJob.State.FAILED)

    assert settings.RETENTION_IMPORT_JOB_DAYS == 90
    assert retention_run(now=now).import_jobs_deleted == 2
    assert list(ImportJob.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not ImportJob.objects.filter(pk__in=[old.pk, orphaned.pk]).exists()


def test_closed_data_requests_go_after_three_years_open_ones_never(issuer):
    with time_machine.travel(at(2022, 1, 10), tick=False):
        closed = privacy.data_request_create(issuer=issuer, kind="access", actor="a")
        privacy.data_request_transition(data_request=closed, state="completed", actor="a")
        still_open = privacy.data_request_create(issuer=issuer, kind="access", actor="a")
    assert retention_run(now=at(2025, 1, 9)).data_requests_deleted == 0
    assert retention_run(now=at(2025, 1, 11)).data_requests_deleted == 1
    assert list(DataRequest.objects.all()) == [still_open]


def test_reminders_fire_seven_days_before_and_on_the_due_date_once_each():
    issuer = IssuerFactory(public_email="office@issuer.example")
    with time_machine.travel(at(2026, 3, 10, 9), tick=False):
        request = privacy.data_request_create(
            issuer=issuer, kind="erasure", actor="a", requester_name="Ada Secret"
        )
    assert request.due_at == at(2026, 4, 10, 9)

    assert data_request_reminders(now=at(2026, 4, 2, 23))["reminded_7d"] == 0
    assert mail.outbox == []
    with time_machine.travel(at(2026, 4, 3, 3), tick=False):
        assert data_request_reminders(now=at(2026, 4, 3, 3))["reminded_7d"] == 1
        assert data_request_reminders(now=at(2026, 4, 3, 4))["reminded_7d"] == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["office@issuer.example"]
    assert "due in 7 days" in mail.outbox[0].subject
    assert "Ada Secret" not in mail.outbox[0].body

    outcome = data_request_reminders(now=at(2026, 4, 10, 1))
    assert outcome["reminded_due"] == 1 and outcome["flagged_overdue"] == 0
    assert "due today" in mail.outbox[1].subject
    assert data_request_reminders(now=at(2026, 4, 10, 2))["reminded_due"] == 0

    assert data_request_reminders(now=at(2026, 4, 10, 10))["flagged_overdue"] == 1
    request.refresh_from_db()
    assert request.overdue_at == at(2026, 4, 10, 10)
    assert len(mail.outbox) == 2


def test_closed_requests_get_no_reminders():
    issuer = IssuerFactory(public_email="office@issuer.example")
    with time_machine.travel(at(2026, 3, 10), tick=False):
        request = privacy.data_request_create(issuer=issuer, kind="access", actor="a")
        privacy.data_request_transition(data_request=request, state="completed", actor="a")
    assert data_request_reminders(now=at(2026, 4, 10)) == {
        "reminded_7d": 0,
        "reminded_due": 0,
        "flagged_overdue": 0,
    }
    assert mail.outbox == []


def test_the_daily_task_runs_the_retention_job(settings, monkeypatch):
    from workers.privacy_tasks import privacy_daily

    # The beat lock is tested with the workers; here every run must go ahead.
    monkeypatch.setattr("workers.locks.beat_lock", lambda name, *, interval: True)

    issuer = IssuerFactory(public_email="office@issuer.example")
    with time_machine.travel(at(2026, 1, 1), tick=False):
        privacy.data_request_create(issuer=issuer, kind="access", actor="a")
    with time_machine.travel(at(2026, 2, 1, 0, 30), tick=False):
        privacy_daily.apply()
    assert [m.subject for m in mail.outbox] == [
        f"Data request {DataRequest.objects.get().pk} is due today"
    ]
    assert "workers.privacy_daily" in {j["task"] for j in settings.CELERY_BEAT_SCHEDULE.values()}


def test_account_log_entries_go_after_the_retention_period_once(issuer, settings):
    from issuers.models import AuditEntry
    from issuers.staff import audit_record

    assert settings.RETENTION_ACCOUNT_LOG_DAYS == 730
    with time_machine.travel(at(2024, 1, 1, 12), tick=False):
        old = audit_record(issuer=issuer, actor="staff:1", action="staff.invited", target="a@b.c")
    with time_machine.travel(at(2024, 1, 3, 12), tick=False):
        kept = audit_record(issuer=issuer, actor="staff:1", action="api_key.created")

    with time_machine.travel(at(2026, 1, 2, 12), tick=False):  # 732 and 730 days on
        assert retention_run(now=datetime.now(UTC)).account_log_deleted == 1
        assert retention_run(now=datetime.now(UTC)).account_log_deleted == 0  # idempotent
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not AuditEntry.objects.filter(pk=old.pk).exists()

    settings.RETENTION_ACCOUNT_LOG_DAYS = 365
    assert retention_run(now=at(2026, 1, 2, 12)).account_log_deleted == 1


def _misuse_report(seal, email: str = "reporter@visitor.example"):
    from seals.misuse import misuse_report_create

    return misuse_report_create(
        seal=seal,
        site_url="https://copycat.example/about",
        site_host="copycat.example",
        message="This shop is not a member.",
        reporter_email=email,
    )


def test_misuse_reports_go_a_year_after_they_were_made(issuer, settings):
    from seals.models import MisuseReport

    seal = award(MemberFactory(issuer=issuer))
    with time_machine.travel(at(2025, 3, 1, 12), tick=False):
        old = _misuse_report(seal)
    with time_machine.travel(at(2025, 9, 1, 12), tick=False):
        recent = _misuse_report(seal, email="")

    assert settings.RETENTION_MISUSE_REPORT_DAYS == 365
    with time_machine.travel(at(2026, 3, 1, 11), tick=False):  # a year less an hour
        assert retention_run(now=at(2026, 3, 1, 11)).misuse_reports_deleted == 0
    with time_machine.travel(at(2026, 3, 1, 13), tick=False):
        assert retention_run(now=at(2026, 3, 1, 13)).misuse_reports_deleted == 1
        assert retention_run(now=at(2026, 3, 1, 14)).misuse_reports_deleted == 0  # twice
    assert list(MisuseReport.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not MisuseReport.objects.filter(pk=old.pk).exists()


def test_the_misuse_report_period_is_a_setting(issuer, settings):
    from seals.models import MisuseReport

    settings.RETENTION_MISUSE_REPORT_DAYS = 30
    seal = award(MemberFactory(issuer=issuer))
    with time_machine.travel(at(2026, 1, 1), tick=False):
        _misuse_report(seal)
    assert retention_run(now=at(2026, 1, 30)).misuse_reports_deleted == 0
    assert retention_run(now=at(2026, 2, 1)).misuse_reports_deleted == 1
    assert not MisuseReport.objects.exists()

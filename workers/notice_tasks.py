"""Membership-expiry notices: plan every minute, send one per task, reconcile stragglers."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from config.faults import fault_point
from config.tenancy import issuer_scope
from effects.notices import notice_send as notice_send_service
from effects.notices import notices_plan, notices_reconcile
from seals.models import Notice
from workers.base import ReliableTask, issuer_of, run_beat_job


@shared_task(base=ReliableTask, bind=True, name="workers.notice_send", max_retries=None)
def notice_send(self: ReliableTask, notice_id: int) -> None:
    fault_point("notice.before_claim", notice_id)
    issuer_id = issuer_of(Notice, notice_id, "seal__issuer_id")
    if issuer_id is None:
        return  # deleted with its seal: nothing is owed
    with issuer_scope(issuer_id):
        outcome = notice_send_service(notice_id=notice_id, now=timezone.now())
    if outcome.retry_in is not None:
        # The row's due_at already says when; the countdown only avoids waiting for a
        # reconciliation. The service, not Celery's counter, decides when to give up.
        raise self.retry(countdown=outcome.retry_in)
    fault_point("notice.before_ack", notice_id)


@shared_task(base=ReliableTask, name="workers.notices_plan", time_limit=600, soft_time_limit=540)
def notices_plan_task() -> None:
    run_beat_job("notices_plan", lambda: notices_plan(now=timezone.now()))


@shared_task(base=ReliableTask, name="workers.notices_reconcile")
def notices_reconcile_task() -> None:
    run_beat_job("notices_reconcile", lambda: notices_reconcile(now=timezone.now()))

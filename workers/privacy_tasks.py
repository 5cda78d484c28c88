"""Retention and data-request reminders (privacy.retention), once a day's work per run."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from workers.base import ReliableTask, run_beat_job


@shared_task(base=ReliableTask, name="workers.privacy_daily", time_limit=900, soft_time_limit=840)
def privacy_daily() -> None:
    from privacy.retention import retention_run

    run_beat_job("privacy_daily", lambda: retention_run(now=timezone.now()))

"""Status refresh: materialise scheduled status changes every minute."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from seals.transitions import seals_refresh_status
from workers.base import ReliableTask, run_beat_job


@shared_task(
    base=ReliableTask, name="workers.seals_refresh_status", time_limit=600, soft_time_limit=540
)
def seals_refresh_status_task() -> None:
    run_beat_job("seals_refresh_status", lambda: seals_refresh_status(now=timezone.now()))

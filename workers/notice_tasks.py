"""Membership-expiry notices: plan every minute; each planned notice is sent by the outbox."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from effects.notices import notices_plan
from workers.base import ReliableTask, run_beat_job


@shared_task(base=ReliableTask, name="workers.notices_plan", time_limit=600, soft_time_limit=540)
def notices_plan_task() -> None:
    run_beat_job("notices_plan", lambda: notices_plan(now=timezone.now()))

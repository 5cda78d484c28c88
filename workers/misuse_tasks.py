"""The daily misuse digest: planned by beat; each digest is sent by the outbox."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from effects.misuse_digest import misuse_digests_plan
from workers.base import ReliableTask, run_beat_job


@shared_task(base=ReliableTask, name="workers.misuse_digests_plan")
def misuse_digests_plan_task() -> None:
    run_beat_job("misuse_digests_plan", lambda: misuse_digests_plan(now=timezone.now()))

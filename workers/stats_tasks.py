"""Flush the public views' counters into DailyStat every minute."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from workers.base import ReliableTask, run_beat_job


@shared_task(base=ReliableTask, name="workers.stats_flush")
def stats_flush() -> None:
    # Imported here: the counters module belongs to the public surface and may load the
    # cache client; the worker should not need it to import the other tasks.
    from seals.stats import flush_counts

    run_beat_job("stats_flush", lambda: flush_counts(now=timezone.now()))

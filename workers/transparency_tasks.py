"""Transparency logs: catch every issuer's log up with its chain and sign a checkpoint.

Beat runs it every ``TRANSPARENCY_CATCH_UP_SECONDS`` (10 s), so an event is in a signed
checkpoint well within a minute even when its outbox nudge was lost; the catch-up is safe
twice and concurrently (transparency.services)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from transparency.services import logs_catch_up
from workers.base import ReliableTask, run_beat_job


@shared_task(
    base=ReliableTask, name="workers.transparency_catch_up", time_limit=300, soft_time_limit=270
)
def transparency_catch_up() -> None:
    run_beat_job("transparency_catch_up", lambda: logs_catch_up(now=timezone.now()))

"""The outbox's two tasks: run one message, and relay what the broker does not hold."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from outbox import core
from workers.base import ReliableTask, run_beat_job


@shared_task(base=ReliableTask, name="workers.outbox_run", time_limit=900, soft_time_limit=840)
def outbox_run(message_id: int) -> None:
    core.run(message_id)


@shared_task(base=ReliableTask, name="workers.outbox_relay")
def outbox_relay() -> None:
    run_beat_job("outbox_relay", lambda: core.relay(now=timezone.now()))

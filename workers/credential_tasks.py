"""Status list regeneration: re-encode and re-sign every dirty Bitstring Status List."""

from __future__ import annotations

from celery import shared_task

from seals.status_lists import status_lists_regenerate_dirty
from workers.base import run_beat_job


@shared_task(
    name="workers.regenerate_status_lists", acks_late=True, soft_time_limit=50, time_limit=55
)
def regenerate_status_lists() -> None:
    # Beat runs this every STATUS_LIST_REGENERATE_SECONDS (15 s): part of the one-minute budget
    # in seals/status_lists.py (LIST_TTL_MS). Each list is written conditionally on no newer
    # version having landed, so an overlap would be harmless, only wasted signing: it takes the
    # beat job locks like every other periodic job.
    run_beat_job("regenerate_status_lists", status_lists_regenerate_dirty)

"""Status list regeneration: re-encode and re-sign every dirty Bitstring Status List."""

from __future__ import annotations

from celery import shared_task

from seals.status_lists import status_lists_regenerate_dirty

# Beat runs this every 30 s so a status change reaches the published bits within a minute.
REGENERATE_EVERY_SECONDS = 30.0


@shared_task(
    name="workers.regenerate_status_lists", acks_late=True, soft_time_limit=50, time_limit=55
)
def regenerate_status_lists() -> int:
    # Safe to overlap: each list is written conditionally on no newer version having landed.
    return status_lists_regenerate_dirty()

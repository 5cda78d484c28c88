"""Status list regeneration: re-encode and re-sign every dirty Bitstring Status List."""

from __future__ import annotations

from celery import shared_task

from seals.status_lists import status_lists_regenerate_dirty


@shared_task(
    name="workers.regenerate_status_lists", acks_late=True, soft_time_limit=50, time_limit=55
)
def regenerate_status_lists() -> int:
    # Beat runs this every STATUS_LIST_REGENERATE_SECONDS (15 s): part of the one-minute budget
    # in seals/status_lists.py (LIST_TTL_MS).
    # Safe to overlap: each list is written conditionally on no newer version having landed.
    return status_lists_regenerate_dirty()

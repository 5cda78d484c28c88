"""Status list regeneration: re-encode and re-sign every dirty Bitstring Status List."""

from __future__ import annotations

from celery import shared_task

from config.tenancy import scopes_disabled
from seals.status_lists import status_lists_regenerate_dirty


@shared_task(
    name="workers.regenerate_status_lists", acks_late=True, soft_time_limit=50, time_limit=55
)
def regenerate_status_lists() -> int:
    # Beat runs this every STATUS_LIST_REGENERATE_SECONDS (15 s): part of the one-minute budget
    # in seals/status_lists.py (LIST_TTL_MS).
    # Safe to overlap: each list is written conditionally on no newer version having landed.
    with scopes_disabled():  # every issuer's dirty lists
        return status_lists_regenerate_dirty()

"""The shared task base: at-least-once delivery, bounded run time, back-off with jitter.

Every task here is safe to run twice (its service claims a row with a conditional update before
acting), so Celery may re-deliver freely: ``acks_late`` acknowledges only after the body ran and
``reject_on_worker_lost`` puts a message back when the worker process dies under it. The
database, not the broker, is the record of what is still owed; beat reconciliation jobs
re-enqueue anything a lost message left behind (docs/operations.md, "Delivery semantics").
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from celery import Task

logger = logging.getLogger("workers.beat")


class ReliableTask(Task):
    acks_late = True
    reject_on_worker_lost = True
    # A notice or a webhook is one network round trip; anything past this is a hung peer.
    soft_time_limit = 60
    time_limit = 90
    max_retries = 8
    retry_backoff = 30
    retry_backoff_max = 6 * 3600
    retry_jitter = True


def backoff_seconds(attempt: int, *, base: int = 30, cap: int = 6 * 3600) -> int:
    """Exponential back-off with full jitter (AWS architecture blog, "Exponential Backoff And
    Jitter"): spreads retries of many failures against one peer instead of synchronising them.

    Never above ``cap``, which stays below the Redis visibility timeout (settings) so a waiting
    retry is never re-delivered early.
    """
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return max(1, int(ceiling / 2 + random.uniform(0, ceiling / 2)))  # noqa: S311


def run_beat_job(name: str, job: Callable[[], object]) -> object | None:
    """Run a periodic job unless another beat's copy of this slot already ran it."""
    from django.conf import settings

    from workers.locks import beat_lock

    if not beat_lock(name, interval=settings.TRUSTSEAL_BEAT_SECONDS):
        logger.info("beat job %s skipped: this slot already ran", name)
        return None
    started = time.monotonic()
    result = job()
    logger.info(
        "beat job %s ran at %.3f in %.3fs: %s",
        name,
        time.time(),
        time.monotonic() - started,
        result,
    )
    return result

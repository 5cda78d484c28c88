"""The shared task base: at-least-once delivery, bounded run time, back-off with jitter.

Every task here is safe to run twice (its service claims a row with a conditional update before
acting), so Celery may re-deliver freely: ``acks_late`` acknowledges only after the body ran and
``reject_on_worker_lost`` puts a message back when the worker process dies under it. The
database, not the broker, is the record of what is still owed: the outbox relay hands out
again anything a lost message left behind (docs/operations.md, "Delivery semantics").

Tenancy (config.tenancy): a task starts with no scope, so a query of an issuer's rows refuses to
run until the task says whose. A task given one row opens the scope of that row's issuer
(``issuer_of``, then ``issuer_scope``); a beat sweep spans issuers and runs with scopes
disabled (``run_beat_job``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from celery import Task

from config.tenancy import scopes_disabled

logger = logging.getLogger("workers.beat")


class ReliableTask(Task):
    # No autoretry: the services decide when and whether to retry (the outbox row says when it
    # is due again, the domain row when to give up).
    acks_late = True
    reject_on_worker_lost = True
    # For tasks without limits of their own; an outbox message carries its handler's limits.
    soft_time_limit = 60
    time_limit = 90


def beat_interval(task: str) -> float:
    """Seconds between two runs of ``task`` in the beat schedule (settings), so each job's lock
    matches its own schedule: an hourly job locked for 54 s could run twice in an hour."""
    from django.conf import settings

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry["task"] != task:
            continue
        # Every schedule in settings is a number of seconds.
        if isinstance(entry["schedule"], int | float):
            return float(entry["schedule"])
    # Not on the schedule (run by hand), or not a plain interval: the workers' common interval.
    return float(settings.TRUSTSEAL_BEAT_SECONDS)


def run_beat_job(name: str, job: Callable[[], object]) -> object | None:
    """Run the periodic job ``workers.<name>`` unless another beat's copy of this slot already
    ran it, or an earlier run of the job is still going (workers/locks.py)."""
    from workers.locks import beat_lock, execution_lock

    if not beat_lock(name, interval=beat_interval(f"workers.{name}")):
        logger.info("beat job %s skipped: this slot already ran", name)
        return None
    with execution_lock(name) as held:
        if not held:
            logger.info("beat job %s skipped: the previous run is still going", name)
            return None
        started = time.monotonic()
        with scopes_disabled():  # a sweep of every issuer's rows
            result = job()
    logger.info(
        "beat job %s ran at %.3f in %.3fs: %s",
        name,
        time.time(),
        time.monotonic() - started,
        result,
    )
    return result

"""Handing work to the Celery workers by task name.

The domain layers sit below ``workers/`` and never import it: they name the task instead, and
Celery routes it by that name (settings ``CELERY_TASK_ROUTES``) or by the queue given here. Only
the outbox (outbox.core) calls this: everything else owes its side effects through the outbox.
"""

from __future__ import annotations

from typing import Any

from config.celery import app


def enqueue(
    task_name: str,
    *args: object,
    queue: str | None = None,
    time_limit: float | None = None,
    soft_time_limit: float | None = None,
) -> None:
    """Publish at once or raise. No publish retries: a caller that must not lose the work keeps
    it in the outbox (outbox.core) and lets the relay try again, instead of holding a request
    while the broker is away. The time limits, when given, override the task's own for this
    message."""
    options: dict[str, Any] = {"retry": False}  # only what is given: Celery routes the rest
    if queue:
        options["queue"] = queue
    if time_limit:
        options["time_limit"] = time_limit
    if soft_time_limit:
        options["soft_time_limit"] = soft_time_limit
    app.send_task(task_name, args=args, **options)

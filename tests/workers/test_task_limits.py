"""Every task's limits are coherent once the global defaults are applied.

Celery refuses to run a task whose soft limit exceeds its hard limit, and it says so only when
the task is called — in a beat process that means a traceback every period and a job that never
runs."""

from __future__ import annotations

import pytest

import workers.tasks  # noqa: F401 - registers every task
from config.celery import app

OUR_TASKS = sorted(name for name in app.tasks if name.startswith("workers."))


def test_tasks_are_registered():
    # Every job beat sends, and the one task that carries out outbox messages.
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled | {"workers.outbox_run"} <= set(OUR_TASKS)
    assert "workers.regenerate_status_lists" in scheduled


@pytest.mark.parametrize("name", OUR_TASKS)
def test_soft_limit_is_below_the_hard_limit(name):
    task = app.tasks[name]
    soft = task.soft_time_limit or app.conf.task_soft_time_limit
    hard = task.time_limit or app.conf.task_time_limit

    assert soft and hard, name
    assert soft < hard, f"{name}: soft limit {soft} s is not below hard limit {hard} s"

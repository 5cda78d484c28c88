"""Queues and the embedded broker: whole jobs are not stuck behind a backlog of deliveries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import workers.tasks  # noqa: F401 - registers every task
from config.celery import app

ROOT = Path(__file__).resolve().parents[2]


def queue_of(task: str) -> str:
    return app.amqp.router.route({}, task)["queue"].name


def test_imports_and_periodic_jobs_have_their_own_queue():
    from outbox.core import handler_for

    assert handler_for("import.run").queue == "jobs"  # an import runs as an outbox message
    for entry in app.conf.beat_schedule.values():
        assert queue_of(entry["task"]) == "jobs", entry["task"]
    # Outbox messages go to their handler's queue (outbox.core.hand_off).
    assert handler_for("import.run").queue == "jobs"
    for per_object in ("webhook.deliver", "notice.send", "seal.images_prerender"):
        assert handler_for(per_object).queue == "celery", per_object


def test_a_worker_started_without_q_consumes_every_queue():
    # `celery worker` with no -Q (Procfile.dev, docker-compose) consumes app.amqp.queues.
    assert set(app.amqp.queues) == {"celery", "jobs"}
    routed = {route["queue"] for route in app.conf.task_routes.values()}
    assert routed <= set(app.amqp.queues)


def test_the_embedded_broker_polls_every_tenth_of_a_second(tmp_path):
    # The settings as `make run` sees them: no REDIS_URL, no CELERY_BROKER_URL.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "CELERY_BROKER_URL") and not k.startswith("DJANGO")
    }
    env.update(TRUSTSEAL_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings.base")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL, s.CELERY_BROKER_TRANSPORT_OPTIONS['polling_interval'])"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["filesystem://", "0.1"]

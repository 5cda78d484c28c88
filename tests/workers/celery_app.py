"""The Celery app of the workers the integration tests start: the project's own app, plus the
test-only fault points and leases (tests/workers/faults.py) installed once Django is set up.

``celery -A tests.workers.celery_app worker`` (tests/workers/harness.py).
"""

from celery.signals import worker_init

from config.celery import app

__all__ = ["app"]


@worker_init.connect
def _install_faults(**kwargs: object) -> None:
    import django
    from django.apps import apps

    if not apps.ready:  # Celery's Django fixup normally ran it already
        django.setup()
    from tests.workers import faults

    faults.install()

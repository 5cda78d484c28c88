import os

from celery import Celery
from celery.signals import task_prerun
from kombu.transport import TRANSPORT_ALIASES

from config.env import default_settings_module

os.environ.setdefault("DJANGO_SETTINGS_MODULE", default_settings_module())

# "filesystem://" (the embedded default) means our transport, which writes each message whole
# (config/broker_files.py); every process that publishes or consumes imports this module first.
TRANSPORT_ALIASES["filesystem"] = "config.broker_files:Transport"

app = Celery("trustseal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"])


@task_prerun.connect
def _unit_of_work(**kwargs: object) -> None:
    # A pool process or thread runs task after task: each starts unpinned, reading the primary
    # unless it marks reads lag-tolerant (config.db_router).
    from config.db_router import reset

    reset()

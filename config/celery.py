import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

from config.env import default_settings_module

os.environ.setdefault("DJANGO_SETTINGS_MODULE", default_settings_module())

# "filesystem://" (the embedded default) means our transport, which writes each message whole
# (config/broker_files.py); every process that publishes or consumes imports this module first.
TRANSPORT_ALIASES["filesystem"] = "config.broker_files:Transport"

app = Celery("trustseal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"])

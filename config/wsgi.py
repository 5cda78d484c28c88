"""WSGI entry point: Django's application behind the public-read fast path (``fastpath``).

``PUBLIC_IMAGE_FASTPATH=0`` serves Django's application as it is.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from config.env import default_settings_module
from fastpath.wsgi import wrap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", default_settings_module())

django_application = get_wsgi_application()  # also runs django.setup()
application = wrap(django_application)

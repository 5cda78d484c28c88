"""WSGI entry point: Django's application behind the public-read fast path (``fastpath``), with
static files answered before everything else (``with_static_files``).

``PUBLIC_IMAGE_FASTPATH=0`` serves Django's application as it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from django.core.wsgi import get_wsgi_application

from config.env import default_settings_module
from config.heap import settle
from fastpath.wsgi import wrap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", default_settings_module())


def with_static_files(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """WhiteNoise in front: the files ``collectstatic`` put in STATIC_ROOT (the API docs' and
    the admin's assets) under STATIC_URL, read once at start, so `make run` needs no
    ``runserver --insecure``. Any other /static/ path (``..%2f`` included) is Django's 404.
    In production granian's --static-path-mount answers them before this is reached."""
    from django.conf import settings
    from whitenoise import WhiteNoise

    root = Path(settings.STATIC_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return WhiteNoise(app, root=root, prefix=settings.STATIC_URL)


django_application = get_wsgi_application()  # also runs django.setup()
application = with_static_files(wrap(django_application))
settle()

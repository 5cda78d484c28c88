"""The framework floor: a bare Django view returning constant bytes.

No database, no cache, no middleware: what Django itself costs per request under a given app
server. ``bench/seal_load.py`` serves it with the same server and worker settings as the real
origin and compares the two. ``BARE_BODY_FILE`` names the bytes to return (the real seal PNG,
so both answer the same size).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",  # noqa: S106 - serves constant bytes, signs nothing
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )

import django
from django.http import HttpRequest, HttpResponse
from django.urls import path

django.setup()

_BODY = Path(os.environ["BARE_BODY_FILE"]).read_bytes() if "BARE_BODY_FILE" in os.environ else b"x"


def constant(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_BODY, content_type="image/png")
    response["Content-Length"] = str(len(_BODY))
    return response


urlpatterns = [path("", constant), path("seal.png", constant)]

from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
asgi_application = get_asgi_application()

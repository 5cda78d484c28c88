"""The answer while the database is unreachable: 503 problem+json, never a stack trace.

Django would turn a lost database into a 500 (and, with DEBUG, a traceback page). A request that
cannot reach PostgreSQL gets ``503 Service Unavailable`` with ``Retry-After`` instead, on every
route, so clients and the edge retry rather than report a bug. Routes that can answer without
the database still do: the seal image from its cached snapshot and bytes (seals/public_views.py).
Nothing here reconnects: ``CONN_HEALTH_CHECKS`` makes the next request after the outage open a
fresh connection, so the service recovers by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from config.problems import problem_response

log = logging.getLogger("config.degraded")
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.error("database unavailable: %s", exception)
        response = problem_response(
            request,
            status_code=503,
            code="service_unavailable",
            detail="The service is briefly unavailable; retry shortly.",
            retry_after=RETRY_AFTER_SECONDS,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response

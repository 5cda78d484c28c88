"""Requests through a WSGI callable, as the app server makes them."""

from __future__ import annotations

from collections.abc import Callable

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory


def call(
    app: Callable, path: str, method: str = "GET", **headers: str
) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers in order, body) of one request through ``app``."""
    environ = RequestFactory().generic(method, path, **headers).environ
    seen: dict = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, list(response_headers)

    # As Django's test client does: the test's database connection must outlive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"], body

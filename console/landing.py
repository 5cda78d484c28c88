"""The site root: a short public page pointing to the console, the API docs and how to check a
seal. Public, so it touches no session, user or CSRF token (seals.public_middleware drops any
cookie on it all the same)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def landing(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "console/landing.html", {})

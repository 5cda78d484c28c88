"""Headers every response carries that Django's SecurityMiddleware does not set.

SecurityMiddleware already sends ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``,
``Cross-Origin-Opener-Policy`` and, in production behind TLS, ``Strict-Transport-Security``.
This adds a Content-Security-Policy to every HTML answer that did not set its own (the
verification and privacy pages set tighter ones with style hashes): error pages, the admin, the
API docs. Django 5.2 has no CSP support of its own (it arrives in 6.0).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Nothing from third parties (DESIGN §1.3): everything the HTML may load comes from us.
DEFAULT_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
# Swagger UI and the admin carry inline <style> blocks and style attributes; scripts stay
# same-origin files (the docs use the split view, whose initialiser is a separate URL).
TOOLING_CSP = DEFAULT_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
TOOLING_PREFIXES = ("/api/docs/", "/console/admin/")
# An SVG opened on its own is a document: no script, nothing fetched (our images embed fonts).
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html") and "Content-Security-Policy" not in response:
            tooling = request.path_info.startswith(TOOLING_PREFIXES)
            response["Content-Security-Policy"] = TOOLING_CSP if tooling else DEFAULT_CSP
        elif content_type.startswith("image/svg+xml") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = SVG_CSP
        return response

"""The public routes' guarantee that no response carries a cookie (DESIGN §1.3).

The public views never touch ``request.session``, ``request.user``, messages or the CSRF token,
so SessionMiddleware, CsrfViewMiddleware and MessageMiddleware have nothing to save and add no
``Set-Cookie`` and no ``Vary: Cookie``. That holds only as long as nobody adds such an access
(a context processor, a template tag, an error page), so this middleware, outermost in the
stack, enforces it on every public path, 404s included: it drops any cookie and the
``Cookie`` entry of ``Vary``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Every route that needs no account (tests/test_no_tracking.py fails when one is missing). The
# WSGI entry point also serves GET/HEAD on these through the trimmed chain (fastpath/wsgi.py).
PUBLIC_PREFIXES = (
    "/s/",
    "/verify/",
    "/embed/",
    "/issuers/",
    "/check",
    "/privacy",
    "/unsubscribe/",
    "/healthz",
    "/api/schema/",
    "/api/docs/",
)


# Public pages matched whole, not as prefixes: the site root (its landing page) and the member
# portal's short address (a redirect to /console/portal/).
PUBLIC_PATHS = frozenset({"/", "/portal/"})


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class PublicResponseMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_public(request.path_info):
            if response.cookies:
                response.cookies.clear()
            vary = response.get("Vary")
            if vary:
                kept = [v.strip() for v in vary.split(",") if v.strip().lower() != "cookie"]
                if kept:
                    response["Vary"] = ", ".join(kept)
                else:
                    del response["Vary"]
        return response

"""The WSGI side of the fast path: ``wrap`` is the one call ``config/wsgi.py`` makes.

The seal image is fetched on every page view of every member site, and each middleware layer
costs a call and an exception wrapper per request (issue 10). Public GET/HEAD requests (the
prefixes of ``seals.public_middleware.PUBLIC_PREFIXES``) never use a session, a user, messages
or a CSRF token, and their URLs never need CommonMiddleware's slash redirects, so they go
through ``settings.MIDDLEWARE`` minus those layers; every other request (admin, API, any
write) keeps the full chain. Security headers and the no-cookie guarantee stay on both.

A GET of a seal image may be answered before any of that: ``fastpath.replay`` replays the
answer Django gave to the same request while the seal, its status and the day are unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

WSGIApp = Callable[..., Iterable[bytes]]

# Layers that only matter to a request that has a user, a session or a form.
SKIPPED_ON_PUBLIC_READS = frozenset(
    {
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "config.tenancy.AdminScopesMiddleware",  # /admin/ only
    }
)


def public_middleware() -> list[str]:
    return [m for m in settings.MIDDLEWARE if m not in SKIPPED_ON_PUBLIC_READS]


class PublicReadHandler(WSGIHandler):
    """Django's WSGI handler with ``public_middleware()`` instead of ``settings.MIDDLEWARE``.

    ``BaseHandler.load_middleware`` reads the setting directly, so the (sync-only) chain is
    built here the same way: each layer wrapped by ``convert_exception_to_response``.
    """

    # Django's private handler state that load_middleware fills (the stubs declare public
    # names only); annotations alone, so the attributes stay Django's own.
    _view_middleware: list[Callable[..., HttpResponseBase | None]]
    _template_response_middleware: list[Callable[..., HttpResponseBase]]
    _exception_middleware: list[Callable[..., HttpResponseBase | None]]
    _middleware_chain: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]
    _get_response: Callable[[HttpRequest], HttpResponseBase]

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(public_middleware()):
            try:
                layer = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(layer, "process_view"):
                self._view_middleware.insert(0, layer.process_view)
            if hasattr(layer, "process_template_response"):
                self._template_response_middleware.append(layer.process_template_response)
            if hasattr(layer, "process_exception"):
                self._exception_middleware.append(layer.process_exception)
            handler = convert_exception_to_response(layer)
        self._middleware_chain = handler


def dispatcher(full: WSGIApp, public: WSGIApp) -> WSGIApp:
    """Public reads to ``public`` (seal images through the replay first), the rest to ``full``."""
    from fastpath import replay
    from seals.public_middleware import PUBLIC_PREFIXES

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and path.startswith(PUBLIC_PREFIXES):
            if replay.ROUTE.match(path):
                # A current cache hit is Django's own earlier answer, replayed.
                return replay.handle(environ, start_response, public)
            return public(environ, start_response)
        return full(environ, start_response)

    return application


def wrap(django_app: WSGIApp) -> WSGIApp:
    """``django_app`` behind the fast path, or unchanged when ``PUBLIC_IMAGE_FASTPATH`` is off
    (call it after ``django.setup()``, which ``get_wsgi_application`` runs)."""
    if not settings.PUBLIC_IMAGE_FASTPATH:
        return django_app
    return dispatcher(django_app, PublicReadHandler())
